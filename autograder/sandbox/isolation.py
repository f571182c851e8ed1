"""Run untrusted commands (a student's code) with the strongest isolation this machine offers.

:func:`probe_isolation` finds out what is available and returns an :class:`IsolationReport`
(plain, JSON-able data: the mode chosen, every mechanism found, what is missing and why).
:func:`run_sandboxed` runs one command under :class:`SandboxLimits` and returns a
:class:`SandboxResult`. The modes, strongest first:

``namespaces`` (we are root with CAP_SYS_ADMIN)
    new mount, pid, network, ipc and uts namespaces; a private root file system built from
    an allowlist: the system directories and the Python environment read-only, the scratch
    dir read-write, `readable_paths` read-only, a private /tmp, /dev and /proc; nothing else
    of the machine (the engine, the reference, the course dir, the gradebook, other
    students' folders) exists inside. The command runs as an unprivileged user (`nobody`)
    without capabilities and with ``no_new_privs``; the network namespace has only its own
    loopback interface.
``bwrap``
    bubblewrap (if installed, e.g. setuid on machines without unprivileged user namespaces)
    with the same allowlist; runs as the calling user.
``userns``
    the ``namespaces`` mode inside a new user namespace, for an unprivileged caller; the
    command is "root" of that namespace with every capability dropped.
``plain``
    no namespaces: a new session, rlimits, and (as root) a dropped user whose file
    permissions are all that protects the rest of the machine. The report says what that
    user can still read (`readable_protected`), and there is no network isolation.

In every mode: cgroup v1 or v2 ``memory`` and ``pids`` controllers when writable (a per-run
cgroup, removed afterwards; the memory peak is measured and an OOM kill is reported as
``killed_reason="memory"``), else ``RLIMIT_AS`` / ``RLIMIT_NPROC``; always ``RLIMIT_CPU``,
``RLIMIT_NOFILE``, ``RLIMIT_FSIZE`` and ``RLIMIT_CORE=0``. Wall time and output size are
enforced from outside: the whole process tree (pid namespace, process group and cgroup) is
killed at the wall limit or as soon as a stream exceeds ``output_bytes``.

The command starts through :mod:`autograder.sandbox._launcher` (stdlib only); the rlimits and
the user drop are applied there, in the command's own process right before ``exec`` (the
role a ``preexec_fn`` would play, without running Python code in a forked copy of a
multi-threaded grader).

:func:`prepare_runtime` copies the call-stage code (and only it) into the scratch dir, so the
sandboxed process can ``import autograder.checks.call`` but not the verdicts or the reference.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder import cgroups as cgroup_tools
from autograder.errors import SandboxError

MIB = 2**20
GIB = 2**30

#: The unprivileged user (and group) the command runs as when we are root.
NOBODY_UID = 65534
NOBODY_GID = 65534

LAUNCHER = Path(__file__).with_name("_launcher.py")
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
_READ_CHUNK = 65536

MODES = ("namespaces", "bwrap", "userns", "plain")
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


# ---- detection ---------------------------------------------------------------------------

_CLONE_FLAGS = {
    "user": 0x10000000,
    "mount": 0x00020000,
    "pid": 0x20000000,
    "net": 0x40000000,
    "ipc": 0x08000000,
    "uts": 0x04000000,
}


def _fork_check(fn: Any) -> bool:
    """Run `fn()` (→ bool) in a forked child; the child never returns to Python code."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            code = 0 if fn() else 1
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _unshare_works(flag: int) -> bool:
    def attempt() -> bool:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(flag) == 0

    return _fork_check(attempt)


def _python_files() -> list[str]:
    """Files the sandboxed Python must reach: the real interpreter and torch's package."""
    files = [os.path.realpath(sys.executable)]
    with contextlib.suppress(Exception):
        import importlib.util

        spec = importlib.util.find_spec("torch")
        if spec is not None and spec.origin:
            files.append(spec.origin)
    return files


def _readable_as(uid: int, gid: int, paths: Iterable[str]) -> dict[str, bool]:
    """Which of `paths` a process of `uid` can open for reading (checked in a child)."""
    result = {}
    for path in paths:

        def attempt(path: str = path) -> bool:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as fh:
                    fh.read(1)
            return True

        result[path] = _fork_check(attempt)
    return result


_PROBED: IsolationReport | None = None
_PROBE_LOCK = threading.Lock()


def probe_isolation(*, refresh: bool = False) -> IsolationReport:
    """Find out which sandboxing mechanisms work here (cached; `refresh` re-probes).

    Each namespace mode is verified by actually starting a trivial sandboxed Python
    (about 0.1 s), not only by looking for the syscalls.
    """
    global _PROBED
    with _PROBE_LOCK:
        if _PROBED is not None and not refresh:
            return _PROBED
        _PROBED = _probe()
        return _PROBED


def _probe() -> IsolationReport:
    is_root = os.geteuid() == 0
    linux = sys.platform.startswith("linux")
    namespaces = {name: linux and _unshare_works(flag) for name, flag in _CLONE_FLAGS.items()}
    tools = {name: shutil.which(name) for name in ("unshare", "setpriv", "runuser", "bwrap")}
    cgroups = cgroup_tools.find_parents(CGROUP_PREFIX)
    python_files = _python_files()
    user: dict[str, Any] = {"uid": None, "gid": None}
    if is_root:
        readable = _readable_as(NOBODY_UID, NOBODY_GID, python_files)
        user = {
            "uid": NOBODY_UID,
            "gid": NOBODY_GID,
            "python_usable_without_namespaces": all(readable.values()),
        }
    report = IsolationReport(
        mode="plain",
        available=dict.fromkeys(MODES, False),
        is_root=is_root,
        namespaces=namespaces,
        tools=tools,
        sandbox_user=user,
        cgroups=cgroups,
        mechanisms={},
    )
    report.available["plain"] = True
    ns_needed = ("mount", "pid", "net", "ipc", "uts")
    if is_root and all(namespaces[n] for n in ns_needed):
        report.available["namespaces"] = _trial_run("namespaces", report)
    if tools["bwrap"]:
        report.available["bwrap"] = _trial_run("bwrap", report)
    if namespaces["user"]:
        report.available["userns"] = _trial_run("userns", report)
    report.mode = next(m for m in MODES if report.available[m])
    _describe(report)
    return report


def _trial_run(mode: str, report: IsolationReport) -> bool:
    scratch = tempfile.mkdtemp(prefix="agsbx-probe-")
    try:
        sandbox = Sandbox(
            scratch_dir=scratch,
            limits=SandboxLimits(wall_seconds=20, memory_bytes=None),
            mode=mode,
            use_cgroups=False,
            report=report,
            require_available=False,
        )
        with sandbox:
            result = _execute(
                sandbox, [sys.executable, "-S", "-c", "import os; print(os.getpid())"], None
            )
    except SandboxError as exc:
        report.errors[mode] = str(exc)
        return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ok = result.returncode == 0 and result.stdout.strip().isdigit()
    if not ok:
        report.errors[mode] = (
            f"trial run exited {result.returncode}: {result.stderr[-300:].decode(errors='replace')}"
        )
    return ok


def _describe(report: IsolationReport) -> None:
    mode, cg = report.mode, report.cgroups
    mech = report.mechanisms
    missing = report.missing
    isolated_fs = mode in ("namespaces", "bwrap", "userns")
    if mode == "namespaces":
        mech["filesystem"] = (
            "private root: system dirs and the Python environment read-only, the scratch dir "
            "read-write, a private /tmp; nothing else of the machine is visible"
        )
        mech["user"] = f"uid {NOBODY_UID} (nobody), no capabilities, no_new_privs"
    elif mode == "bwrap":
        mech["filesystem"] = "bubblewrap private root (same allowlist)"
        mech["user"] = "the grader's user inside bubblewrap, capabilities dropped"
    elif mode == "userns":
        mech["filesystem"] = "private root in a user namespace (same allowlist)"
        mech["user"] = "root of a user namespace mapped to the grader's user, capabilities dropped"
    else:
        dropped = report.is_root and report.sandbox_user.get("python_usable_without_namespaces")
        mech["filesystem"] = (
            f"file permissions of uid {NOBODY_UID} only"
            if dropped
            else "none: the command runs as the grader's user"
        )
        mech["user"] = f"uid {NOBODY_UID} (nobody)" if dropped else "the grader's user"
    mech["network"] = (
        "network namespace with only its own loopback" if isolated_fs else "none (host network)"
    )
    mech["processes"] = (
        "pid namespace (tree killed with its init)"
        if isolated_fs
        else "own session (process group)"
    )
    mech["memory"] = f"cgroup {cg['memory']} memory controller" if cg["memory"] else "RLIMIT_AS"
    mech["process_count"] = f"cgroup {cg['pids']} pids controller" if cg["pids"] else "RLIMIT_NPROC"
    mech["cpu"] = "RLIMIT_CPU"
    mech["files"] = "RLIMIT_NOFILE, RLIMIT_FSIZE, RLIMIT_CORE=0"
    mech["wall_time"] = "killed from outside at the limit"
    mech["output"] = "capped per stream; killed as soon as a stream exceeds the limit"

    if not report.available["namespaces"]:
        why = report.errors.get("namespaces") or (
            "not root"
            if not report.is_root
            else "unshare failed for: "
            + ", ".join(n for n, ok in report.namespaces.items() if not ok)
        )
        missing.append(f"namespaces mode unavailable ({why})")
    if not report.tools["bwrap"]:
        missing.append("bubblewrap: not installed")
    elif not report.available["bwrap"]:
        missing.append(f"bubblewrap: does not work here ({report.errors.get('bwrap', '?')})")
    if not report.namespaces["user"]:
        missing.append("user namespaces: unshare(CLONE_NEWUSER) fails")
    if not cg["memory"]:
        missing.append(
            "memory cgroup: not writable; RLIMIT_AS bounds each process's address "
            "space instead (not their sum, no OOM accounting)"
        )
    if not cg["pids"]:
        missing.append(
            "pids cgroup: not writable; RLIMIT_NPROC is per user, not per run"
            + (
                " (and root ignores it)"
                if not isolated_fs and report.is_root and mech["user"] == "the grader's user"
                else ""
            )
        )
    if not isolated_fs:
        missing.append("no private file system: the command can read whatever its user can")
        missing.append("no network isolation")
        missing.append(
            "leftover processes that leave the process group are only killed by the cgroup (if any)"
        )
        if report.is_root and not report.sandbox_user.get("python_usable_without_namespaces"):
            missing.append(
                f"uid {NOBODY_UID} cannot run this Python (its files are not "
                "readable), so the command keeps the grader's user"
            )


# ---- cgroups of one run ------------------------------------------------------------------


def _run_cgroups(info: Mapping[str, Any], limits: SandboxLimits) -> cgroup_tools.RunCgroups:
    """The per-run memory and pids cgroups (the launcher processes count against pids.max)."""
    return cgroup_tools.RunCgroups(
        dict(info), CGROUP_PREFIX, limits.memory_bytes, limits.max_processes + LAUNCHER_PROCESSES
    )


# ---- the private root ----------------------------------------------------------------------


def python_paths() -> list[str]:
    """Directories holding the running Python: the environment (sys.prefix) and the base
    installation its interpreter and standard library come from."""
    candidates = [
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
    ]
    return _outermost(os.path.realpath(p) for p in candidates)


def _outermost(paths: Iterable[str]) -> list[str]:
    """The given paths without duplicates and without paths nested in another one."""
    unique = sorted({os.path.normpath(p) for p in paths if p})
    out: list[str] = []
    for p in unique:
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def _depth(path: str) -> int:
    return len([part for part in path.split("/") if part])


def mount_plan(
    scratch_dir: str,
    *,
    readable_paths: Sequence[str | os.PathLike[str]] = (),
    writable_paths: Sequence[str | os.PathLike[str]] = (),
    hide_paths: Sequence[str | os.PathLike[str]] = (),
    limits: SandboxLimits,
) -> list[dict[str, Any]]:
    """The private root as a list of mounts (plain data for the launcher), in mount order.

    Every path keeps its host name inside the sandbox. Readable paths inside the scratch dir
    (e.g. the probe runtime) are re-bound read-only on top of it.
    """
    scratch = os.path.realpath(scratch_dir)
    symlinks: list[dict[str, Any]] = []
    binds: list[dict[str, Any]] = []
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            symlinks.append({"kind": "symlink", "dest": top, "target": os.readlink(top)})
        elif os.path.isdir(top):
            binds.append({"kind": "bind", "src": top, "dest": top, "ro": True})
    system = [b["dest"] for b in binds]
    for path in python_paths():
        if not any(path == s or path.startswith(s + "/") for s in system):
            binds.append({"kind": "bind", "src": path, "dest": path, "ro": True})
    binds.append({"kind": "tmpfs", "dest": "/tmp", "mode": "1777", "size": limits.tmp_bytes})
    binds.append({"kind": "proc", "dest": "/proc"})
    binds.append({"kind": "dev", "dest": "/dev", "shm_size": limits.tmp_bytes})
    binds.append({"kind": "bind", "src": scratch, "dest": scratch, "ro": False})
    for paths, ro in ((writable_paths, False), (readable_paths, True)):
        for path in paths:
            real = os.path.realpath(path)
            if not os.path.exists(real):
                raise SandboxError(f"path {str(path)!r} to bind into the sandbox does not exist")
            binds.append({"kind": "bind", "src": real, "dest": real, "ro": ro})
    binds.sort(key=lambda m: _depth(m["dest"]))  # stable: parents before children
    hides = [{"kind": "hide", "dest": os.path.realpath(p)} for p in hide_paths]
    return symlinks + binds + hides


def default_env(
    scratch_dir: str | os.PathLike[str],
    *,
    runtime_dir: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A small environment for a sandboxed Python: no inherited secrets, one thread,
    home in the scratch dir, the probe runtime (if any) on PYTHONPATH."""
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(scratch_dir),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
    }
    if runtime_dir is not None:
        env["PYTHONPATH"] = str(runtime_dir)
    if extra:
        env.update(extra)
    return env


def bwrap_argv(
    bwrap: str,
    plan: Sequence[Mapping[str, Any]],
    *,
    cwd: str,
    env: Mapping[str, str],
    argv: Sequence[str],
) -> list[str]:
    """The bubblewrap command line for a mount plan (same allowlist as the own launcher).

    As with the own launcher, a hidden path is covered only where the sandbox would see it
    (below a bind mount); elsewhere it does not exist in the private root at all. The root
    itself is remounted read-only at the end (bwrap makes it a tmpfs owned by the user).
    """
    binds = [m["dest"] for m in plan if m["kind"] == "bind"]
    out = [
        bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
    ]
    for m in plan:
        kind = m["kind"]
        if kind == "symlink":
            out += ["--symlink", m["target"], m["dest"]]
        elif kind == "bind":
            out += ["--ro-bind" if m.get("ro", True) else "--bind", m["src"], m["dest"]]
        elif kind == "tmpfs":
            out += [
                "--perms",
                m.get("mode", "0755"),
                "--size",
                str(m.get("size", MIB)),
                "--tmpfs",
                m["dest"],
            ]
        elif kind == "proc":
            out += ["--proc", m["dest"]]
        elif kind == "dev":
            out += ["--dev", m["dest"]]
        elif kind == "hide":
            dest = m["dest"]
            if not any(dest == b or dest.startswith(b.rstrip("/") + "/") for b in binds):
                continue  # not visible in the sandbox: nothing to cover
            if os.path.isdir(dest):
                out += ["--perms", "0000", "--tmpfs", dest]
            elif os.path.exists(dest):
                out += ["--ro-bind", "/dev/null", dest]
    out += ["--remount-ro", "/", "--chdir", cwd, "--clearenv"]
    for key, value in env.items():
        out += ["--setenv", key, value]
    return [*out, "--", *argv]


# ---- the probe runtime -----------------------------------------------------------------------

#: The engine's call-stage modules copied into the probe runtime (relative to the engine's
#: package folder): the types, the call stage, the generic builders, the wire, the probe
#: driver and the exceptions they raise.
RUNTIME_MODULES = (
    "errors.py",
    "checks/types.py",
    "checks/call.py",
    "checks/builders.py",
    "sandbox/wire.py",
    "sandbox/probe.py",
)
#: Engine modules a runtime module must never import (the registry and through it every
#: verdict, the spec loader, the pipeline, the sandbox's own set-up, the CLI).
FORBIDDEN_ENGINE_IMPORTS = (
    "autograder.checks.registry",
    "autograder.checks.verdicts",
    "autograder.checks.loader",
    "autograder.spec",
    "autograder.pipeline",
    "autograder.sandbox.isolation",
    "autograder.sandbox.judge",
    "autograder.cli",
)
RUNTIME_DIRNAME = ".agruntime"
REQUESTS_DIRNAME = "requests"
_RUNTIME_INIT = '"""Probe runtime: the call stage only (no verdicts, no reference)."""\n'


def _imports_of(source: str, package: str, watched: Sequence[str]) -> set[str]:
    """Absolute names of the modules `source` imports (relative imports resolved), plus
    string constants naming a module under one of the `watched` prefixes (the targets of
    ``importlib.import_module("...")``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(node.value == w or node.value.startswith(w + ".") for w in watched)
        ):
            names.add(node.value)
    return names


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def check_runtime_source(
    source: str,
    package: str,
    *,
    filename: str = "?",
    forbidden: Sequence[str] = (),
    course_package: str | None = None,
    call_stage: Sequence[str] = (),
) -> None:
    """Raise :class:`SandboxError` if call-stage code would import what judges.

    Forbidden are the engine's modules in :data:`FORBIDDEN_ENGINE_IMPORTS`, every name in
    `forbidden` (an assignment's reference package), and every module of the assignment's
    checks package `course_package` that is not one of its `call_stage` modules.
    """
    watched = ["autograder", *forbidden, *([course_package] if course_package else [])]
    for name in _imports_of(source, package, watched):
        for bad in (*FORBIDDEN_ENGINE_IMPORTS, *forbidden):
            if _under(name, bad):
                raise SandboxError(f"{filename} imports {name!r}: the probe runtime must not")
        if course_package and name.startswith(course_package + "."):
            module = name[len(course_package) + 1 :].split(".")[0]
            if module not in call_stage:
                raise SandboxError(
                    f"{filename} imports {name!r}, which is not a call-stage module of "
                    f"{course_package} ({', '.join(call_stage) or 'none'}): the probe runtime "
                    "must not"
                )


def prepare_runtime(
    scratch_dir: str | os.PathLike[str],
    *,
    spec: Any = None,
    release_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Copy the probe runtime into ``scratch_dir/.agruntime`` and return that directory.

    It is a minimal ``autograder`` package holding only the call stage (types, call,
    builders, the wire protocol, the in-sandbox probe driver, the exceptions) and, for an
    assignment `spec` (:class:`autograder.spec.AssignmentSpec`), its checks package with only
    the call-stage modules (``[checks] call_stage``) plus the assignment's Python release
    files, copied from `release_dir` (the trusted release; default the spec's source
    folder). Put it first on ``PYTHONPATH`` (:func:`default_env` does) and the sandboxed
    Python can ``import autograder.checks.call`` but neither a verdict nor the reference,
    which are not in it. Every copied module is checked not to import them. The files are
    read-only, and :func:`run_sandboxed` re-binds the directory read-only when it is a
    readable path.
    """
    runtime = Path(scratch_dir) / RUNTIME_DIRNAME
    if runtime.exists():
        _make_writable(runtime)
        shutil.rmtree(runtime)
    forbidden: list[str] = []
    course_package = None
    call_stage: tuple[str, ...] = ()
    if spec is not None:
        if spec.reference_package:
            forbidden.append(spec.reference_package.split(".")[0])
        course_package, call_stage = spec.checks_package, spec.call_stage
    files: list[tuple[Path, str, str]] = []  # (source file, runtime path, package)
    for rel in RUNTIME_MODULES:
        package = "autograder." + rel[: -len(".py")].replace("/", ".").rpartition(".")[0]
        files.append((ENGINE_DIR / rel, f"autograder/{rel}", package.rstrip(".")))
    if spec is not None and spec.checks_dir is not None:
        for module in call_stage:
            files.append(
                (spec.checks_dir / f"{module}.py", f"{course_package}/{module}.py", course_package)
            )
    for src, rel, package in files:
        source = src.read_text(encoding="utf-8")
        check_runtime_source(
            source,
            package,
            filename=str(src),
            forbidden=forbidden,
            course_package=course_package,
            call_stage=call_stage,
        )
        dest = runtime / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source, encoding="utf-8")
    inits = ["autograder", "autograder/checks", "autograder/sandbox"]
    if course_package and call_stage:
        inits.append(course_package)
    for pkg in inits:
        (runtime / pkg / "__init__.py").write_text(_RUNTIME_INIT, encoding="utf-8")
    if spec is not None:
        helpers = Path(release_dir) if release_dir is not None else spec.root
        for name in spec.release_files:
            if name.endswith(".py") and (helpers / name).is_file():
                shutil.copyfile(helpers / name, runtime / name)
    for path in sorted(runtime.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    # probe requests are written here by the grader (its owner) before the run; made before
    # the runtime directory itself turns read-only (only root could add it afterwards)
    (runtime / REQUESTS_DIRNAME).mkdir(mode=0o755)
    runtime.chmod(0o555)
    return runtime


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


# ---- running -------------------------------------------------------------------------------


class Sandbox:
    """The resources of one sandboxed command: the per-run cgroups, the private root's mount
    point and the launcher spec (a root-only file). Use as a context manager.

    :meth:`command` returns the full command line (launcher + the command) for any process
    starter: :func:`run_sandboxed` uses it with :class:`subprocess.Popen`; a Jupyter kernel
    manager can use it as its kernel command (``format_kernel_cmd``). On exit every process
    still in the run's cgroups is killed and everything is removed.

    Args: as :func:`run_sandboxed`, plus `writable_paths`: further directories bound
    read-write and handed to the sandbox user (e.g. a folder for a kernel's Unix sockets).
    """

    def __init__(
        self,
        *,
        scratch_dir: str | os.PathLike[str],
        limits: Any = None,
        env: Mapping[str, str] | None = None,
        readable_paths: Sequence[str | os.PathLike[str]] = (),
        writable_paths: Sequence[str | os.PathLike[str]] = (),
        hide_paths: Sequence[str | os.PathLike[str]] = PROTECTED_PATHS,
        mode: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
        use_cgroups: bool = True,
        report: IsolationReport | None = None,
        require_available: bool = True,
    ) -> None:
        self.report = report or probe_isolation()
        self.limits = SandboxLimits() if limits is None else SandboxLimits.from_limits(limits)
        if mode is None:
            mode = self.report.mode
        elif mode not in MODES:
            raise SandboxError(f"unknown sandbox mode {mode!r}; modes: {MODES}")
        elif require_available and not self.report.available.get(mode):
            raise SandboxError(
                f"sandbox mode {mode!r} is not available here: "
                f"{self.report.errors.get(mode, 'see probe_isolation().missing')}"
            )
        self.mode = mode
        self.scratch = os.path.realpath(scratch_dir)
        if not os.path.isdir(self.scratch):
            raise SandboxError(f"scratch dir {str(scratch_dir)!r} does not exist")
        readable = [os.path.realpath(p) for p in readable_paths]
        runtime = os.path.join(self.scratch, RUNTIME_DIRNAME)
        if os.path.isdir(runtime) and runtime not in readable:
            readable.append(runtime)  # the probe runtime stays read-only
        self.readable_paths = readable
        self.writable_paths = [os.path.realpath(p) for p in writable_paths]
        self.hide_paths = [str(p) for p in hide_paths]
        self.cwd = os.path.realpath(cwd) if cwd is not None else self.scratch
        self.env = default_env(self.scratch) if env is None else dict(env)
        self.use_cgroups = use_cgroups
        self.isolated = mode in ("namespaces", "bwrap", "userns")
        self.uid: int | None = None
        self.gid: int | None = None
        if mode == "namespaces" or (
            mode == "plain"
            and self.report.is_root
            and self.report.sandbox_user.get("python_usable_without_namespaces")
        ):
            self.uid, self.gid = NOBODY_UID, NOBODY_GID
        self.cgroups: cgroup_tools.RunCgroups | None = None
        self.root_dir: str | None = None
        self.spec_file: str | None = None
        self.used: dict[str, Any] = {}
        self._stack = contextlib.ExitStack()

    # -- setup and teardown
    def __enter__(self) -> Sandbox:
        try:
            self._setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _setup(self) -> None:
        cg_info = self.report.cgroups if self.use_cgroups else {}
        if cg_info.get("memory") or cg_info.get("pids"):
            try:
                self.cgroups = self._stack.enter_context(_run_cgroups(cg_info, self.limits))
            except OSError as exc:
                self.used["cgroup_error"] = str(exc)
                cg_info = {}
        limits, uid = self.limits, self.uid
        rlimits: dict[str, int] = {
            "RLIMIT_CPU": limits.effective_cpu_seconds,
            "RLIMIT_NOFILE": int(limits.max_open_files),
            "RLIMIT_FSIZE": int(limits.max_file_bytes),
            "RLIMIT_CORE": 0,
        }
        if limits.memory_bytes is not None and not cg_info.get("memory"):
            rlimits["RLIMIT_AS"] = cgroup_tools.address_space_limit(limits.memory_bytes)
        if not cg_info.get("pids") and uid is not None:
            rlimits["RLIMIT_NPROC"] = int(limits.max_processes)
        self.used.update(self._describe_use(cg_info, rlimits))
        if uid is not None:
            gid = self.gid if self.gid is not None else uid
            for folder in [self.scratch, *self.writable_paths]:
                _hand_over(folder, uid, gid, self.readable_paths)
        spec: dict[str, Any] = {
            # bwrap runs as the plain launcher's command
            "mode": self.mode if self.mode in ("namespaces", "userns") else "plain",
            "cwd": self.cwd,
            "env": self.env,
            "rlimits": rlimits,
            "uid": uid,
            "gid": self.gid,
            "drop_caps": True,
            "procs_files": self.cgroups.procs_files if self.cgroups else [],
        }
        if self.mode in ("namespaces", "userns"):
            self.root_dir = tempfile.mkdtemp(prefix="agsbx-root-")
            spec.update(
                namespaces={
                    "mount": True,
                    "pid": True,
                    "net": True,
                    "ipc": True,
                    "uts": True,
                    "user": self.mode == "userns",
                },
                mounts=self.plan(),
                root_dir=self.root_dir,
                loopback=True,
                hostname="sandbox",
            )
        elif self.mode == "bwrap":
            spec["env"] = {"PATH": "/usr/bin:/bin"}
            spec["cwd"] = self.scratch
        fd, self.spec_file = tempfile.mkstemp(prefix="agsbx-spec-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(spec, fh)

    def _describe_use(self, cg_info: Mapping[str, Any], rlimits: Mapping[str, int]) -> dict:
        uid, mode = self.uid, self.mode
        if cg_info.get("memory"):
            memory = f"cgroup {cg_info['memory']}"
        else:
            memory = "RLIMIT_AS" if "RLIMIT_AS" in rlimits else "none"
        if cg_info.get("pids"):
            processes = f"cgroup {cg_info['pids']} pids"
        else:
            processes = "RLIMIT_NPROC" if "RLIMIT_NPROC" in rlimits else "none"
        if uid is not None:
            user = f"uid {uid}"
        else:
            user = "ns-root without capabilities" if mode == "userns" else "grader's user"
        if self.isolated:
            filesystem = "private root (allowlist)"
        else:
            filesystem = f"permissions of uid {uid}" if uid is not None else "none"
        used: dict[str, Any] = {
            "mode": mode,
            "rlimits": dict(rlimits),
            "memory": memory,
            "processes": processes,
            "user": user,
            "network": "private namespace (loopback only)" if self.isolated else "host",
            "filesystem": filesystem,
        }
        if not self.isolated:
            existing = [p for p in self.hide_paths if os.path.exists(p)]
            if uid is not None:
                readable = _readable_as(uid, self.gid if self.gid is not None else uid, existing)
                existing = [p for p, ok in readable.items() if ok]
            used["readable_protected"] = existing
        return used

    def __exit__(self, *exc: object) -> None:
        self._stack.close()  # kills what is left in the cgroups, removes them
        if self.root_dir is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self.root_dir)
            self.root_dir = None
        if self.spec_file is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.spec_file)
            self.spec_file = None

    # -- use
    def plan(self) -> list[dict[str, Any]]:
        """The private root's mounts (:func:`mount_plan`) of this sandbox."""
        return mount_plan(
            self.scratch,
            readable_paths=self.readable_paths,
            writable_paths=self.writable_paths,
            hide_paths=self.hide_paths,
            limits=self.limits,
        )

    def command(self, argv: Sequence[str], *, report_fd: int = -1) -> list[str]:
        """The full command line that runs `argv` in this sandbox. `report_fd`: a pipe the
        launcher writes its events to (it must be inherited; -1 for none)."""
        if self.spec_file is None:
            raise SandboxError("Sandbox.command() outside the `with` block")
        argv = list(argv)
        if self.mode == "bwrap":
            argv = bwrap_argv(
                str(self.report.tools["bwrap"]), self.plan(), cwd=self.cwd, env=self.env, argv=argv
            )
        return [
            sys.executable,
            "-S",
            "-I",
            str(LAUNCHER),
            self.spec_file,
            str(report_fd),
            "--",
            *argv,
        ]

    def hand_over(self, path: str | os.PathLike[str]) -> None:
        """Give a file or folder made after the setup (e.g. a kernel's connection file) to
        the sandbox user, so the command can read and write it."""
        if self.uid is not None:
            gid = self.gid if self.gid is not None else self.uid
            if os.path.isdir(path):
                _hand_over(os.fspath(path), self.uid, gid, self.readable_paths)
            else:
                os.lchown(path, self.uid, gid)

    def kill(self) -> None:
        """SIGKILL every process of the run's cgroups (the caller kills the launcher's
        process group too; its pid-1 init takes the whole pid namespace along)."""
        if self.cgroups is not None:
            self.cgroups.kill_all()

    def oom_kills(self) -> int:
        return self.cgroups.oom_kills() if self.cgroups is not None else 0

    def peak_memory(self) -> int | None:
        return self.cgroups.peak_memory() if self.cgroups is not None else None


def run_sandboxed(
    argv: Sequence[str],
    *,
    scratch_dir: str | os.PathLike[str],
    limits: Any = None,
    env: Mapping[str, str] | None = None,
    stdin_bytes: bytes | None = None,
    readable_paths: Sequence[str | os.PathLike[str]] = (),
    hide_paths: Sequence[str | os.PathLike[str]] = PROTECTED_PATHS,
    mode: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> SandboxResult:
    """Run `argv` sandboxed, with `scratch_dir` (cwd by default) as its only writable place.

    Args:
        argv: the command; ``argv[0]`` must be an absolute path (the environment's
            ``sys.executable`` for Python).
        scratch_dir: an existing directory; it is handed to the sandbox user (chowned) and
            bound read-write; everything the command may read must be in it, in
            `readable_paths`, in the system directories or in the Python environment.
        limits: a :class:`SandboxLimits` (or any object/dict with its attribute names,
            e.g. the pipeline's ``Limits``); None for the defaults.
        env: the complete environment of the command; None: :func:`default_env`.
        stdin_bytes: fed to the command's stdin (then closed); None: an empty stdin.
        readable_paths: further files or directories bound read-only (e.g. the release dir);
            the probe runtime of :func:`prepare_runtime` in the scratch dir always is.
        hide_paths: paths covered by an empty read-only mount if they are visible at all
            (belt and braces: the allowlist already leaves them out).
        mode: force a mode of :data:`MODES`; None: the strongest available.
        cwd: the working directory (default `scratch_dir`); must be inside the sandbox.

    Returns a :class:`SandboxResult`; raises :class:`SandboxError` when the sandbox itself
    cannot be built (never because of what the command does).
    """
    sandbox = Sandbox(
        scratch_dir=scratch_dir,
        limits=limits,
        env=env,
        readable_paths=readable_paths,
        hide_paths=hide_paths,
        mode=mode,
        cwd=cwd,
    )
    with sandbox:
        return _execute(sandbox, list(argv), stdin_bytes)


def _hand_over(folder: str, uid: int, gid: int, keep: Sequence[str]) -> None:
    """chown a folder tree to the sandbox user (never through symlinks or hard links;
    read-only dirs listed in `keep` and the probe runtime stay the grader's)."""
    keep_real = {os.path.realpath(k) for k in keep}
    keep_real.add(os.path.join(os.path.realpath(folder), RUNTIME_DIRNAME))
    for dirpath, dirnames, filenames in os.walk(folder):
        if os.path.realpath(dirpath) in keep_real:
            dirnames[:] = []
            continue
        with contextlib.suppress(OSError):
            os.lchown(dirpath, uid, gid)
        dirnames[:] = [
            d for d in dirnames if os.path.realpath(os.path.join(dirpath, d)) not in keep_real
        ]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if st.st_nlink <= 1 or os.path.islink(path):
                    os.lchown(path, uid, gid)


def _execute(sandbox: Sandbox, argv: list[str], stdin_bytes: bytes | None) -> SandboxResult:
    limits = sandbox.limits
    report_r, report_w = os.pipe()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            sandbox.command(argv, report_fd=report_w),
            stdin=subprocess.PIPE if stdin_bytes else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(report_w,),
            start_new_session=True,
            close_fds=True,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
    except BaseException:
        os.close(report_r)
        raise
    finally:
        os.close(report_w)

    def kill() -> None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        sandbox.kill()

    if stdin_bytes:
        threading.Thread(target=_feed, args=(proc.stdin, stdin_bytes), daemon=True).start()
    out = _Collector(proc, report_r, limits)
    killed = out.pump(deadline=start + limits.wall_seconds, kill=kill)
    proc.wait()
    kill()  # leftovers of a command that ended by itself
    wall = time.monotonic() - start
    events = out.events()
    setup_errors = [e["message"] for e in events if e.get("event") == "setup_error"]
    if setup_errors and killed is None:
        raise SandboxError("the sandbox could not start the command: " + "; ".join(setup_errors))
    exits = [e for e in events if e.get("event") == "exit"]
    if exits:
        e = exits[-1]
        returncode = -int(e["code"]) if e["kind"] == "signal" else int(e["code"])
    else:
        returncode = proc.returncode
    if sandbox.mode == "bwrap" and BWRAP_SIGNAL_BASE < returncode <= BWRAP_SIGNAL_BASE + 64:
        # bwrap (our launcher's command) exits 128 + N when its child dies of signal N
        returncode = BWRAP_SIGNAL_BASE - returncode
    killed, detail = _kill_reason(killed, returncode, sandbox, out.stderr)
    return SandboxResult(
        returncode=returncode,
        stdout=bytes(out.stdout),
        stderr=bytes(out.stderr),
        wall_seconds=round(wall, 3),
        killed_reason=killed,
        isolation_used=dict(sandbox.used),
        stdout_truncated=out.truncated["stdout"],
        stderr_truncated=out.truncated["stderr"],
        peak_memory_bytes=sandbox.peak_memory(),
        detail=detail,
    )


def _kill_reason(
    killed: str | None, returncode: int, sandbox: Sandbox, stderr: bytes
) -> tuple[str | None, str]:
    """Why the command ended, in the order: our own kills, the OOM killer, MemoryError under
    RLIMIT_AS, the CPU limit, any other signal."""
    limits = sandbox.limits
    if killed == "output":
        return killed, f"a stream exceeded the output limit ({limits.output_bytes} bytes)"
    if killed == "timeout":
        return killed, f"the wall-time limit ({limits.wall_seconds:g} s) was reached"
    if sandbox.oom_kills():
        return "memory", f"the memory limit ({limits.memory_bytes} bytes) was exceeded (OOM kill)"
    if (
        sandbox.used.get("memory") == "RLIMIT_AS"
        and returncode != 0
        and b"MemoryError" in stderr[-4096:]
    ):
        return "memory", f"MemoryError at the address-space limit ({limits.memory_bytes} bytes)"
    if returncode < 0:
        sig = -returncode
        name = _signal_name(sig)
        if sig == signal.SIGXCPU:
            return "timeout", (
                f"the CPU-time limit ({limits.effective_cpu_seconds} s) was reached ({name})"
            )
        suffix = " (file size limit)" if sig == signal.SIGXFSZ else ""
        return "signal", f"killed by {name}{suffix}"
    return None, ""


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _feed(pipe: Any, data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):
        pipe.write(data)
    with contextlib.suppress(OSError, ValueError):
        pipe.close()


class _Collector:
    """Reads stdout, stderr and the launcher's report pipe until EOF or the wall limit."""

    def __init__(
        self, proc: subprocess.Popen[bytes], report_fd: int, limits: SandboxLimits
    ) -> None:
        self.proc = proc
        self.limits = limits
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.report = bytearray()
        self.truncated = {"stdout": False, "stderr": False}
        self.report_fd = report_fd

    def pump(self, *, deadline: float, kill: Any) -> str | None:
        sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        streams = {
            self.proc.stdout.fileno(): "stdout",
            self.proc.stderr.fileno(): "stderr",
            self.report_fd: "report",
        }
        for fd in streams:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        killed: str | None = None
        exited_at: float | None = None
        try:
            while sel.get_map():
                now = time.monotonic()
                if killed is None and now >= deadline:
                    killed = "timeout"
                    kill()
                if exited_at is None and self.proc.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > DRAIN_GRACE_SECONDS:
                    kill()  # leftovers still hold the pipes
                    break
                timeout = max(0.0, min(deadline - now, 0.1)) if killed is None else 0.1
                for key, _ in sel.select(timeout):
                    fd = key.fd
                    try:
                        chunk = os.read(fd, _READ_CHUNK)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    if not chunk:
                        sel.unregister(fd)
                        continue
                    name = streams[fd]
                    if name == "report":
                        self.report += chunk[: max(0, 65536 - len(self.report))]
                        continue
                    buf = self.stdout if name == "stdout" else self.stderr
                    room = self.limits.output_bytes - len(buf)
                    if len(chunk) > room:
                        buf += chunk[: max(0, room)]
                        self.truncated[name] = True
                        if killed is None:
                            killed = "output"
                            kill()
                    else:
                        buf += chunk
        finally:
            sel.close()
            for fd in (self.report_fd,):
                with contextlib.suppress(OSError):
                    os.close(fd)
            for pipe in (self.proc.stdout, self.proc.stderr):
                with contextlib.suppress(OSError):
                    pipe.close()
        return killed

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in bytes(self.report).decode("utf-8", "replace").splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    out.append(event)
        return out
