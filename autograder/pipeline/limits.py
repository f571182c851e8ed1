"""Resource limits of one notebook's kernel, and the launcher that applies them.

:class:`Limits` is plain data (it travels inside a ``GradeJob``). What this machine can
actually enforce is found by :func:`detect_isolation` and recorded in every
``SubmissionRecord.isolation``:

- memory: a cgroup (v1 ``memory`` controller, or v2) below this process's own cgroup when it
  is writable: the kernel is OOM-killed at the limit and its peak is measured; otherwise
  ``RLIMIT_AS`` of the limit plus ``autograder.cgroups.RLIMIT_AS_ALLOWANCE`` (address space,
  which torch fills far beyond what is resident: allocations beyond it fail with
  ``MemoryError``);
- processes: a ``pids`` cgroup when writable, else ``RLIMIT_NPROC`` (not effective for root);
- CPU seconds, open files and file size: ``RLIMIT_CPU``, ``RLIMIT_NOFILE``, ``RLIMIT_FSIZE``;
- network: a fresh network namespace (no interfaces up) when ``unshare(CLONE_NEWNET)`` works,
  the kernel then talking to the grader over Unix sockets;
- wall time and output size are enforced by the worker (``worker.execute_notebook``):
  the kernel's process group (and cgroup) is killed at the limit.

The launcher (``python -S _kernel_launcher.py SPEC -- KERNEL_CMD...``, see
:func:`launcher_prefix`) joins the cgroups, enters the network namespace, applies the rlimits
and execs the kernel. It is stdlib-only so that it starts fast and imports nothing of the
course. The cgroups themselves are made by :mod:`autograder.cgroups` (shared with the
sandbox).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from autograder import cgroups as cgroup_tools

MIB = 2**20
GIB = 2**30

CLONE_NEWNET = 0x40000000
#: Kernel cgroups are named ``<prefix><grader pid>-<random>``; stale ones are swept.
CGROUP_PREFIX = "autograder-"
#: The stdlib-only script that applies the limits and execs the kernel.
KERNEL_LAUNCHER = Path(__file__).with_name("_kernel_launcher.py")


@dataclass(frozen=True)
class Limits:
    """Limits for executing one notebook of a submission.

    Attributes:
        wall_seconds: wall time for running the notebook's cells (kernel start excluded);
            the kernel is killed at the limit and the cells not run score 0.
        startup_seconds: wall time allowed for the kernel to start.
        memory_bytes: memory of the kernel and its children (cgroup) or its address
            space (RLIMIT_AS fallback); None for no limit.
        output_bytes: output one cell may produce; beyond it the output is truncated and
            the kernel is stopped (later cells are not run).
        max_processes: processes/threads of the kernel (pids cgroup) or RLIMIT_NPROC.
        max_open_files: RLIMIT_NOFILE.
        max_file_bytes: RLIMIT_FSIZE: the largest file the kernel may write.
        cpu_seconds: RLIMIT_CPU of the kernel; None: twice the wall limit plus a minute.
        isolate_network: run the kernel in an empty network namespace when possible.
        use_cgroups: use cgroups for memory and processes when writable (False: rlimits
            only, e.g. to test the fallback or where cgroups belong to someone else).
    """

    wall_seconds: float = 300.0
    startup_seconds: float = 60.0
    memory_bytes: int | None = 4 * GIB
    output_bytes: int = 1 * MIB
    max_processes: int = 256
    max_open_files: int = 1024
    max_file_bytes: int = 256 * MIB
    cpu_seconds: float | None = None
    isolate_network: bool = True
    use_cgroups: bool = True

    def __post_init__(self) -> None:
        if not self.wall_seconds > 0:
            raise ValueError(f"wall_seconds must be > 0, got {self.wall_seconds!r}")
        if self.memory_bytes is not None and self.memory_bytes < 64 * MIB:
            raise ValueError(f"memory_bytes must be at least 64 MiB, got {self.memory_bytes!r}")
        if self.output_bytes < 1024:
            raise ValueError(f"output_bytes must be at least 1 KiB, got {self.output_bytes!r}")

    @property
    def effective_cpu_seconds(self) -> int:
        if self.cpu_seconds is not None:
            return max(1, int(self.cpu_seconds))
        return int(2 * self.wall_seconds + 60)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Limits:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]


# ---- detection ------------------------------------------------------------------------


def _netns_works() -> bool:
    """Whether a child process may enter a fresh network namespace (needs CAP_SYS_ADMIN)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:  # child: try, report through the exit code, never return
        code = 1
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            code = 0 if libc.unshare(CLONE_NEWNET) == 0 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


_DETECTED: dict[bool, dict[str, object]] = {}


def detect_isolation(*, use_cgroups: bool = True, refresh: bool = False) -> dict[str, object]:
    """What this machine can enforce, as plain data (cached per process).

    Keys: ``memory`` ("cgroup_v1" | "cgroup_v2" | "rlimit_as"), ``processes``
    ("cgroup_pids_v1" | "cgroup_pids_v2" | "rlimit_nproc" | "none (root ignores
    RLIMIT_NPROC)"), ``network`` ("netns" | "none"), ``cgroup_memory_parent`` /
    ``cgroup_pids_parent`` (paths or None), and the fixed mechanisms for wall time, CPU,
    files and output.
    """
    if use_cgroups in _DETECTED and not refresh:
        return dict(_DETECTED[use_cgroups])
    info: dict[str, object] = {
        "wall": "kill kernel process group and cgroup at the limit",
        "cpu": "rlimit_cpu",
        "files": "rlimit_nofile + rlimit_fsize",
        "output": "truncate + stop kernel",
        "filesystem": "scratch cwd only (not enforced)",
    }
    found = cgroup_tools.find_parents(CGROUP_PREFIX) if use_cgroups else {}
    if found.get("memory"):
        info["memory"] = f"cgroup_{found['memory']}"
    else:
        info["memory"] = "rlimit_as"
    if found.get("pids"):
        info["processes"] = f"cgroup_pids_{found['pids']}"
    elif os.geteuid() != 0:
        info["processes"] = "rlimit_nproc"
    else:
        info["processes"] = "none (root ignores RLIMIT_NPROC)"
    info["cgroup_memory_parent"] = found.get("memory_parent")
    info["cgroup_pids_parent"] = found.get("pids_parent")
    info["network"] = "netns" if _netns_works() else "none"
    _DETECTED[use_cgroups] = info
    return dict(info)


# ---- a kernel's cgroups -----------------------------------------------------------------


class KernelCgroups(cgroup_tools.RunCgroups):
    """The cgroup(s) of one kernel: created before launch, killed and removed after.

    Use as a context manager. ``procs_files`` are the ``cgroup.procs`` files the launcher
    writes its pid into; ``peak_memory()`` and ``oom_killed()`` read the memory cgroup.
    """

    def __init__(self, limits: Limits, isolation: dict[str, object]) -> None:
        memory, processes = str(isolation.get("memory")), str(isolation.get("processes"))
        parents = {  # detect_isolation's words back into autograder.cgroups' ("v1"/"v2"/None)
            "memory": memory.rsplit("_", 1)[-1] if memory.startswith("cgroup") else None,
            "memory_parent": isolation.get("cgroup_memory_parent"),
            "pids": processes.rsplit("_", 1)[-1] if processes.startswith("cgroup") else None,
            "pids_parent": isolation.get("cgroup_pids_parent"),
        }
        super().__init__(parents, CGROUP_PREFIX, limits.memory_bytes, limits.max_processes)

    def __enter__(self) -> KernelCgroups:
        super().__enter__()
        return self

    def oom_killed(self) -> bool:
        """Whether the memory limit killed a process of the kernel (or an allocation hit it)."""
        return self.hit_memory_limit()


# ---- the launcher ----------------------------------------------------------------------


def launcher_prefix(
    limits: Limits, isolation: dict[str, object], cgroups: KernelCgroups | None
) -> list[str]:
    """The command prefix that runs a kernel command under `limits`."""
    spec = {
        "procs_files": cgroups.procs_files if cgroups else [],
        "netns": bool(limits.isolate_network and isolation.get("network") == "netns"),
        "rlimits": rlimits_for(limits, isolation),
    }
    return [sys.executable, "-S", str(KERNEL_LAUNCHER), json.dumps(spec), "--"]


def rlimits_for(limits: Limits, isolation: dict[str, object]) -> dict[str, int]:
    """The resource limits (name → soft=hard value) the launcher sets."""
    out = {
        "RLIMIT_CPU": limits.effective_cpu_seconds,
        "RLIMIT_NOFILE": int(limits.max_open_files),
        "RLIMIT_FSIZE": int(limits.max_file_bytes),
        "RLIMIT_CORE": 0,
    }
    if limits.memory_bytes is not None and isolation.get("memory") == "rlimit_as":
        out["RLIMIT_AS"] = cgroup_tools.address_space_limit(limits.memory_bytes)
    if str(isolation.get("processes")) == "rlimit_nproc":
        out["RLIMIT_NPROC"] = int(limits.max_processes)
    return out
