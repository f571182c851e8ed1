"""Plain data and constants of the sandbox: limits, the isolation report, a run's result.

Shared by detection (:mod:`.detect`), the private root (:mod:`.mounts`) and running
(:mod:`.isolation`); stdlib only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MIB = 2**20
GIB = 2**30

#: The unprivileged user (and group) the command runs as when we are root.
NOBODY_UID = 65534
NOBODY_GID = 65534

LAUNCHER = Path(__file__).with_name("_launcher.py")
#: The zygote of warm kernels and its client (:mod:`autograder.sandbox._zygote`).
ZYGOTE = Path(__file__).with_name("_zygote.py")
#: Per-run cgroups are named ``<prefix><grader pid>-<random>``; stale ones are swept.
CGROUP_PREFIX = "agsandbox-"
#: After the command ended, how long to keep reading output that its leftovers still write.
DRAIN_GRACE_SECONDS = 0.5
#: bubblewrap exits with this plus N when the command it runs is killed by signal N.
BWRAP_SIGNAL_BASE = 128
#: Extra processes in the pids cgroup besides the command's: the launcher and pid-1 init.
LAUNCHER_PROCESSES = 2
#: Exit code of the launcher when the sandbox itself could not be built.
SETUP_ERROR_EXIT = 125
READ_CHUNK = 65536

MODES = ("namespaces", "bwrap", "userns", "plain")
#: Forces the sandbox mode for every run of this process and its children (for testing the
#: weaker modes on a machine that has stronger ones); a mode not available here is an error.
MODE_ENV = "AUTOGRADER_SANDBOX_MODE"
#: The values of :attr:`SandboxResult.killed_reason` (or None: it ended by itself).
KILLED_REASONS = ("timeout", "memory", "output", "signal")

#: The engine's own package folder.
ENGINE_DIR = Path(__file__).resolve().parents[1]
#: Paths the command must never see, hidden even if an allowlisted path (e.g. a Python
#: environment inside a checkout) happens to contain them: the engine. Callers add the
#: assignment's staff folders (its source, checks and reference: ``protected_paths``).
PROTECTED_PATHS = (ENGINE_DIR,)
#: Top-level system directories bound read-only into the private root (when they exist).
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")


# ---- plain data --------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandboxed run.

    Attributes:
        wall_seconds: wall time; the whole process tree is killed at the limit.
        memory_bytes: memory of all the command's processes (cgroup), else its address
            space (``RLIMIT_AS``, plus ``autograder.cgroups.RLIMIT_AS_ALLOWANCE``); None for no
            limit.
        output_bytes: bytes kept of stdout and of stderr each; the command is killed as
            soon as one stream exceeds it (``killed_reason="output"``).
        max_processes: processes and threads (pids cgroup, else ``RLIMIT_NPROC``).
        max_open_files: ``RLIMIT_NOFILE``.
        max_file_bytes: ``RLIMIT_FSIZE``, the largest file the command may write.
        cpu_seconds: ``RLIMIT_CPU``; None: twice the wall limit plus a minute.
        tmp_bytes: size of the private ``/tmp`` and ``/dev/shm`` (namespace modes).
    """

    wall_seconds: float = 60.0
    memory_bytes: int | None = 2 * GIB
    output_bytes: int = 1 * MIB
    max_processes: int = 64
    max_open_files: int = 256
    max_file_bytes: int = 64 * MIB
    cpu_seconds: float | None = None
    tmp_bytes: int = 64 * MIB

    def __post_init__(self) -> None:
        if not self.wall_seconds > 0:
            raise ValueError(f"wall_seconds must be > 0, got {self.wall_seconds!r}")
        if self.memory_bytes is not None and self.memory_bytes < 16 * MIB:
            raise ValueError(f"memory_bytes must be at least 16 MiB, got {self.memory_bytes!r}")
        if self.output_bytes < 1:
            raise ValueError(f"output_bytes must be positive, got {self.output_bytes!r}")
        if self.max_processes < 1:
            raise ValueError(f"max_processes must be positive, got {self.max_processes!r}")

    @property
    def effective_cpu_seconds(self) -> int:
        if self.cpu_seconds is not None:
            return max(1, int(self.cpu_seconds))
        return int(2 * self.wall_seconds + 60)

    @classmethod
    def from_limits(cls, limits: Any) -> SandboxLimits:
        """Convert any object with (some of) these attribute names, e.g. the pipeline's
        ``autograder.pipeline.limits.Limits``; missing attributes keep their defaults."""
        if isinstance(limits, SandboxLimits):
            return limits
        names = cls.__dataclass_fields__
        if isinstance(limits, Mapping):
            values = {k: v for k, v in limits.items() if k in names}
        else:
            values = {k: getattr(limits, k) for k in names if hasattr(limits, k)}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IsolationReport:
    """What this machine offers for sandboxing (plain, JSON-able data).

    `mode` is the strongest mode :func:`run_sandboxed` will use; `available` maps each mode
    to whether it works; `mechanisms` describes each limit as it will be enforced; `missing`
    lists what is not available and why (the weaker guarantees, in words).
    """

    mode: str
    available: dict[str, bool]
    is_root: bool
    namespaces: dict[str, bool]
    tools: dict[str, str | None]
    sandbox_user: dict[str, Any]
    cgroups: dict[str, Any]
    mechanisms: dict[str, str]
    missing: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: RLIMIT_NPROC set inside a user namespace counts only that namespace's processes (and
    #: binds: the grader is not root), so the userns and bwrap modes can bound a run's
    #: process count without a pids cgroup.
    nproc_per_userns: bool = False
    #: Why `mode` is what it is when it was not the strongest available (the environment
    #: variable :data:`MODE_ENV` forced it), else None.
    forced_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


@dataclass
class SandboxResult:
    """How one sandboxed run ended.

    `returncode` follows :mod:`subprocess`: the exit code, or minus the signal that killed
    the command. `stdout`/`stderr` hold at most `limits.output_bytes` each (`*_truncated`
    says more was written). `killed_reason` is None when the command ended by itself, else
    "timeout" (wall or CPU limit), "memory" (OOM kill in the memory cgroup, or MemoryError
    under RLIMIT_AS), "output" (a stream exceeded the limit) or "signal" (any other signal,
    e.g. the command killed itself). `isolation_used` says which mechanisms applied.
    """

    returncode: int
    stdout: bytes
    stderr: bytes
    wall_seconds: float
    killed_reason: str | None
    isolation_used: dict[str, Any]
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    peak_memory_bytes: int | None = None
    detail: str = ""

    @property
    def truncated(self) -> bool:
        return self.stdout_truncated or self.stderr_truncated

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the output decoded as UTF-8 with replacement)."""
        data = asdict(self)
        data["stdout"] = self.stdout.decode("utf-8", "replace")
        data["stderr"] = self.stderr.decode("utf-8", "replace")
        return data
