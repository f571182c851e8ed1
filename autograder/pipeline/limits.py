"""Resource limits of one notebook's kernel, and the launcher that applies them.

:class:`Limits` is plain data (it travels inside a ``GradeJob``). What this machine can
actually enforce is found by :func:`detect_isolation` and recorded in every
``SubmissionRecord.isolation``:

- memory: a cgroup (v1 ``memory`` controller, or v2) below this process's own cgroup when it
  is writable: the kernel is OOM-killed at the limit and its peak is measured; otherwise
  ``RLIMIT_AS`` (address space: allocations beyond the limit fail with ``MemoryError``);
- processes: a ``pids`` cgroup when writable, else ``RLIMIT_NPROC`` (not effective for root);
- CPU seconds, open files and file size: ``RLIMIT_CPU``, ``RLIMIT_NOFILE``, ``RLIMIT_FSIZE``;
- network: a fresh network namespace (no interfaces up) when ``unshare(CLONE_NEWNET)`` works,
  the kernel then talking to the grader over Unix sockets;
- wall time and output size are enforced by the worker (``worker.execute_notebook``):
  the kernel's process group (and cgroup) is killed at the limit.

The launcher (this file run as a script: ``python -S limits.py SPEC -- KERNEL_CMD...``) joins
the cgroups, enters the network namespace, applies the rlimits and execs the kernel. It is
stdlib-only so that it starts fast and imports nothing of the course.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import uuid
from dataclasses import asdict, dataclass, fields

MIB = 2**20
GIB = 2**30

CLONE_NEWNET = 0x40000000
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PREFIX = "autograder-"
# How long to wait for a killed cgroup to empty before giving up on removing it.
CGROUP_DRAIN_SECONDS = 5.0


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


def _own_cgroup_v1(controller: str) -> str | None:
    """Path of this process's cgroup in the v1 hierarchy of `controller`, if mounted."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            base = os.path.join(CGROUP_ROOT, controller)
            path = os.path.normpath(base + parts[2])
            return path if os.path.isdir(path) else None
    return None


def _own_cgroup_v2() -> str | None:
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            for mount in (CGROUP_ROOT, os.path.join(CGROUP_ROOT, "unified")):
                if os.path.exists(os.path.join(mount, "cgroup.controllers")):
                    path = os.path.normpath(mount + line[3:])
                    return path if os.path.isdir(path) else None
    return None


def _probe_mkdir(parent: str | None) -> bool:
    if not parent or not os.access(parent, os.W_OK):
        return False
    probe = os.path.join(parent, f"{CGROUP_PREFIX}probe-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        os.mkdir(probe)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        os.rmdir(probe)
    return True


def _v2_has(parent: str, controller: str) -> bool:
    try:
        with open(os.path.join(parent, "cgroup.subtree_control"), encoding="utf-8") as fh:
            return controller in fh.read().split()
    except OSError:
        return False


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
    mem_parent = pids_parent = None
    memory = processes = None
    if use_cgroups and sys.platform.startswith("linux"):
        v1_mem = _own_cgroup_v1("memory")
        if v1_mem and _probe_mkdir(v1_mem):
            memory, mem_parent = "cgroup_v1", v1_mem
        v1_pids = _own_cgroup_v1("pids")
        if v1_pids and _probe_mkdir(v1_pids):
            processes, pids_parent = "cgroup_pids_v1", v1_pids
        if memory is None or processes is None:
            v2 = _own_cgroup_v2()
            if v2 and _probe_mkdir(v2):
                if memory is None and _v2_has(v2, "memory"):
                    memory, mem_parent = "cgroup_v2", v2
                if processes is None and _v2_has(v2, "pids"):
                    processes, pids_parent = "cgroup_pids_v2", v2
    if memory is None:
        memory = "rlimit_as"
    if processes is None:
        processes = "rlimit_nproc" if os.geteuid() != 0 else "none (root ignores RLIMIT_NPROC)"
    info["memory"] = memory
    info["processes"] = processes
    info["cgroup_memory_parent"] = mem_parent
    info["cgroup_pids_parent"] = pids_parent
    info["network"] = "netns" if _netns_works() else "none"
    _DETECTED[use_cgroups] = info
    return dict(info)


# ---- a kernel's cgroups -----------------------------------------------------------------


class KernelCgroups:
    """The cgroup(s) of one kernel: created before launch, killed and removed after.

    Use as a context manager. ``procs_files`` are the ``cgroup.procs`` files the launcher
    writes its pid into; ``peak_memory()`` and ``oom_killed()`` read the memory cgroup.
    """

    def __init__(self, limits: Limits, isolation: dict[str, object]) -> None:
        self.limits = limits
        self.isolation = isolation
        self.memory_dir: str | None = None
        self.pids_dir: str | None = None
        self.memory_kind = str(isolation.get("memory"))
        self.pids_kind = str(isolation.get("processes"))

    def __enter__(self) -> KernelCgroups:
        name = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:10]}"
        mem_parent = self.isolation.get("cgroup_memory_parent")
        for parent in {mem_parent, self.isolation.get("cgroup_pids_parent")}:
            if parent:
                sweep_stale_cgroups(str(parent))
        if self.memory_kind.startswith("cgroup") and mem_parent:
            self.memory_dir = os.path.join(str(mem_parent), name)
            os.mkdir(self.memory_dir)
            if self.limits.memory_bytes is not None:
                if self.memory_kind == "cgroup_v1":
                    _write(self.memory_dir, "memory.limit_in_bytes", self.limits.memory_bytes)
                    # no swap escape (ignored when swap accounting is off)
                    with contextlib.suppress(OSError):
                        _write(
                            self.memory_dir, "memory.memsw.limit_in_bytes", self.limits.memory_bytes
                        )
                else:
                    _write(self.memory_dir, "memory.max", self.limits.memory_bytes)
                    with contextlib.suppress(OSError):
                        _write(self.memory_dir, "memory.swap.max", 0)
        pids_parent = self.isolation.get("cgroup_pids_parent")
        if self.pids_kind.startswith("cgroup") and pids_parent:
            if pids_parent == mem_parent and self.memory_dir:
                self.pids_dir = self.memory_dir  # v2: one cgroup for both controllers
            else:
                self.pids_dir = os.path.join(str(pids_parent), name)
                os.mkdir(self.pids_dir)
            _write(self.pids_dir, "pids.max", self.limits.max_processes)
        return self

    @property
    def procs_files(self) -> list[str]:
        dirs = {d for d in (self.memory_dir, self.pids_dir) if d}
        return [os.path.join(d, "cgroup.procs") for d in sorted(dirs)]

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.procs_files:
            with contextlib.suppress(OSError), open(path, encoding="utf-8") as fh:
                found.update(int(x) for x in fh.read().split())
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL every process in the kernel's cgroups (also ones that left its group)."""
        for _ in range(3):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def peak_memory(self) -> int | None:
        if not self.memory_dir:
            return None
        name = "memory.max_usage_in_bytes" if self.memory_kind == "cgroup_v1" else "memory.peak"
        try:
            return int(_read(self.memory_dir, name).strip())
        except (OSError, ValueError):
            return None

    def oom_killed(self) -> bool:
        """Whether the memory limit killed a process of the kernel (or an allocation hit it)."""
        if not self.memory_dir:
            return False
        try:
            if self.memory_kind == "cgroup_v1":
                text = _read(self.memory_dir, "memory.oom_control")
                stats = dict(line.split() for line in text.splitlines() if line.strip())
                if int(stats.get("oom_kill", 0)) > 0:
                    return True
                return int(_read(self.memory_dir, "memory.failcnt").strip()) > 0 and bool(
                    int(stats.get("under_oom", 0))
                )
            text = _read(self.memory_dir, "memory.events")
            stats = dict(line.split() for line in text.splitlines() if line.strip())
            return int(stats.get("oom_kill", 0)) > 0
        except (OSError, ValueError):
            return False

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
        deadline = time.monotonic() + CGROUP_DRAIN_SECONDS
        for d in {d for d in (self.pids_dir, self.memory_dir) if d}:
            while True:
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill_all()
                    time.sleep(0.05)


def sweep_stale_cgroups(parent: str) -> None:
    """Remove empty kernel cgroups left by grader processes that no longer exist."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(CGROUP_PREFIX):
            continue
        owner = name[len(CGROUP_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or os.path.exists(f"/proc/{owner}"):
            continue
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(parent, name))  # fails (harmlessly) unless it is empty


def _write(folder: str, name: str, value: object) -> None:
    with open(os.path.join(folder, name), "w", encoding="ascii") as fh:
        fh.write(str(value))


def _read(folder: str, name: str) -> str:
    with open(os.path.join(folder, name), encoding="ascii") as fh:
        return fh.read()


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
    return [sys.executable, "-S", os.path.abspath(__file__), json.dumps(spec), "--"]


def rlimits_for(limits: Limits, isolation: dict[str, object]) -> dict[str, int]:
    """The resource limits (name → soft=hard value) the launcher sets."""
    out = {
        "RLIMIT_CPU": limits.effective_cpu_seconds,
        "RLIMIT_NOFILE": int(limits.max_open_files),
        "RLIMIT_FSIZE": int(limits.max_file_bytes),
        "RLIMIT_CORE": 0,
    }
    if limits.memory_bytes is not None and isolation.get("memory") == "rlimit_as":
        out["RLIMIT_AS"] = int(limits.memory_bytes)
    if str(isolation.get("processes")) == "rlimit_nproc":
        out["RLIMIT_NPROC"] = int(limits.max_processes)
    return out


def _launch(argv: list[str]) -> None:  # pragma: no cover - runs in the kernel's process
    import resource

    spec = json.loads(argv[0])
    cmd = argv[argv.index("--") + 1 :]
    for path in spec.get("procs_files", []):
        _write(os.path.dirname(path), "cgroup.procs", os.getpid())
    if spec.get("netns"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            sys.stderr.write("autograder launcher: could not isolate the network\n")
    for name, value in spec.get("rlimits", {}).items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            _soft, hard = resource.getrlimit(which)
            if hard == resource.RLIM_INFINITY or value <= hard:
                resource.setrlimit(which, (value, hard))
    with contextlib.suppress(OSError):
        os.setsid()  # already a session leader when started by jupyter_client
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":  # pragma: no cover
    _launch(sys.argv[1:])
