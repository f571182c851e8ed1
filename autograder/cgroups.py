"""Per-run Linux cgroups for memory and process limits: finding where they can go, and the
cgroups of one run (created before it starts, killed and removed after it); and the
address-space allowance of the RLIMIT_AS fallback where there is no memory cgroup.

Shared by the plain kernel limits (``autograder.pipeline.limits``) and the sandbox
(``autograder.sandbox.isolation``); each passes its own name prefix, so either can sweep the
empty cgroups its own dead grader processes left behind without touching the other's.

Both cgroup v1 (a hierarchy per controller under ``/sys/fs/cgroup/<controller>``) and v2 (one
unified hierarchy with ``cgroup.subtree_control``) are handled. A run's cgroups are created
below this process's own cgroup, which must be writable (root, or a delegated subtree).

Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import uuid
from typing import Any

CGROUP_ROOT = "/sys/fs/cgroup"
#: Without a memory cgroup the memory limit falls back to RLIMIT_AS, which bounds address
#: space, not memory: a Jupyter kernel that imported torch has ~1.5 GB mapped (~0.4 GB of it
#: resident, measured with torch 2.13 and 13 threads). The fallback therefore allows this
#: much address space on top of the memory limit, or torch could not even be imported under
#: a 1 GiB limit.
RLIMIT_AS_ALLOWANCE = 2 * 2**30
#: How long to wait for a killed cgroup to empty before giving up on removing it.
DRAIN_SECONDS = 5.0
CONTROLLERS = ("memory", "pids")


def address_space_limit(memory_bytes: int) -> int:
    """RLIMIT_AS standing in for a memory limit of `memory_bytes` (see RLIMIT_AS_ALLOWANCE)."""
    return int(memory_bytes) + RLIMIT_AS_ALLOWANCE


def own_cgroup_v1(controller: str) -> str | None:
    """Path of this process's cgroup in the v1 hierarchy of `controller`, if mounted."""
    lines = _proc_self_cgroup()
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            path = os.path.normpath(os.path.join(CGROUP_ROOT, controller) + parts[2])
            return path if os.path.isdir(path) else None
    return None


def own_cgroup_v2() -> str | None:
    """Path of this process's cgroup in the unified (v2) hierarchy, if mounted."""
    for line in _proc_self_cgroup():
        if line.startswith("0::"):
            for mount in (CGROUP_ROOT, os.path.join(CGROUP_ROOT, "unified")):
                if os.path.exists(os.path.join(mount, "cgroup.controllers")):
                    path = os.path.normpath(mount + line[3:])
                    return path if os.path.isdir(path) else None
    return None


def _proc_self_cgroup() -> list[str]:
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


def can_create_child(parent: str | None, prefix: str) -> bool:
    """Whether a child cgroup can be made in `parent` (tried with a throw-away one)."""
    if not parent or not os.access(parent, os.W_OK):
        return False
    probe = os.path.join(parent, f"{prefix}probe-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        os.mkdir(probe)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        os.rmdir(probe)
    return True


def v2_enabled(parent: str, controller: str) -> bool:
    """Whether `controller` is enabled for the children of the v2 cgroup `parent`."""
    try:
        with open(os.path.join(parent, "cgroup.subtree_control"), encoding="utf-8") as fh:
            return controller in fh.read().split()
    except OSError:
        return False


def find_parents(prefix: str) -> dict[str, Any]:
    """Where per-run cgroups can be created, as plain data.

    Keys ``memory`` and ``pids``: "v1", "v2" or None (not available); ``memory_parent`` and
    ``pids_parent``: the cgroup directory children go into, or None. v1 is preferred per
    controller; v2 fills in a controller v1 does not offer.
    """
    info: dict[str, Any] = {
        "memory": None,
        "memory_parent": None,
        "pids": None,
        "pids_parent": None,
    }
    if not sys.platform.startswith("linux"):
        return info
    for controller in CONTROLLERS:
        parent = own_cgroup_v1(controller)
        if parent and can_create_child(parent, prefix):
            info[controller], info[f"{controller}_parent"] = "v1", parent
    if info["memory"] is None or info["pids"] is None:
        v2 = own_cgroup_v2()
        if v2 and can_create_child(v2, prefix):
            for controller in CONTROLLERS:
                if info[controller] is None and v2_enabled(v2, controller):
                    info[controller], info[f"{controller}_parent"] = "v2", v2
    return info


class RunCgroups:
    """The memory and pids cgroups of one run. Use as a context manager.

    Args:
        parents: what `find_parents` returned (a controller whose kind is None is skipped).
        prefix: the name prefix of this user's cgroups (also what `sweep_stale` removes).
        memory_bytes: the memory limit (None: accounted, not limited); swap is not allowed.
        max_processes: ``pids.max``.

    On entry, empty cgroups of dead grader processes are swept and the run's cgroups made;
    the launcher of the run writes its pid into every file of `procs_files`. On exit every
    process still in them is killed and the cgroups removed (retrying for `DRAIN_SECONDS`).
    """

    def __init__(
        self, parents: dict[str, Any], prefix: str, memory_bytes: int | None, max_processes: int
    ) -> None:
        self.parents = parents
        self.prefix = prefix
        self.memory_bytes = memory_bytes
        self.max_processes = max_processes
        self.memory_kind: str | None = parents.get("memory")
        self.memory_dir: str | None = None
        self.pids_dir: str | None = None

    def __enter__(self) -> RunCgroups:
        try:
            self._create(f"{self.prefix}{os.getpid()}-{uuid.uuid4().hex[:10]}")
        except OSError:
            self.__exit__()
            raise
        return self

    def _create(self, name: str) -> None:
        mem_parent, pids_parent = self.parents.get("memory_parent"), self.parents.get("pids_parent")
        for parent in {mem_parent, pids_parent} - {None}:
            sweep_stale(str(parent), self.prefix)
        if self.memory_kind and mem_parent:
            self.memory_dir = os.path.join(str(mem_parent), name)
            os.mkdir(self.memory_dir)
            if self.memory_bytes is not None:
                if self.memory_kind == "v1":
                    write(self.memory_dir, "memory.limit_in_bytes", self.memory_bytes)
                    # no escape into swap (the file is absent when swap accounting is off)
                    with contextlib.suppress(OSError):
                        write(self.memory_dir, "memory.memsw.limit_in_bytes", self.memory_bytes)
                else:
                    write(self.memory_dir, "memory.max", self.memory_bytes)
                    with contextlib.suppress(OSError):
                        write(self.memory_dir, "memory.swap.max", 0)
        if self.parents.get("pids") and pids_parent:
            if pids_parent == mem_parent and self.memory_dir:
                self.pids_dir = self.memory_dir  # v2: one cgroup for both controllers
            else:
                self.pids_dir = os.path.join(str(pids_parent), name)
                os.mkdir(self.pids_dir)
            write(self.pids_dir, "pids.max", self.max_processes)

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid into to join the run."""
        dirs = sorted({d for d in (self.memory_dir, self.pids_dir) if d})
        return [os.path.join(d, "cgroup.procs") for d in dirs]

    def pids(self) -> set[int]:
        """Every process in the run's cgroups now."""
        found: set[int] = set()
        for path in self.procs_files:
            with contextlib.suppress(OSError, ValueError), open(path, encoding="ascii") as fh:
                found.update(int(x) for x in fh.read().split())
        return found

    def kill_all(self) -> None:
        """SIGKILL every process in the run's cgroups (also ones that left its process group)."""
        for _ in range(20):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def peak_memory(self) -> int | None:
        """The run's peak memory in bytes, if measured."""
        if not self.memory_dir:
            return None
        name = "memory.max_usage_in_bytes" if self.memory_kind == "v1" else "memory.peak"
        try:
            return int(read(self.memory_dir, name).strip())
        except (OSError, ValueError):
            return None

    def memory_stats(self) -> dict[str, int]:
        """``memory.oom_control`` (v1) or ``memory.events`` (v2) as numbers (``oom_kill``...)."""
        if not self.memory_dir:
            return {}
        name = "memory.oom_control" if self.memory_kind == "v1" else "memory.events"
        stats: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            for line in read(self.memory_dir, name).splitlines():
                fields = line.split()
                if len(fields) >= 2:
                    stats[fields[0]] = int(fields[1])
        return stats

    def oom_kills(self) -> int:
        """How many processes of the run the memory limit killed."""
        return self.memory_stats().get("oom_kill", 0)

    def hit_memory_limit(self) -> bool:
        """Whether the limit killed a process, or (v1) an allocation is stuck at it."""
        stats = self.memory_stats()
        if stats.get("oom_kill", 0) > 0:
            return True
        if self.memory_kind != "v1" or not stats.get("under_oom", 0):
            return False
        try:
            return int(read(str(self.memory_dir), "memory.failcnt").strip()) > 0
        except (OSError, ValueError):
            return False

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
        deadline = time.monotonic() + DRAIN_SECONDS
        for d in sorted({d for d in (self.pids_dir, self.memory_dir) if d}):
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill_all()
                    time.sleep(0.02)


def sweep_stale(parent: str, prefix: str) -> None:
    """Remove empty cgroups named `prefix`<pid>-... whose grader process no longer exists."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        owner = name[len(prefix) :].split("-", 1)[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(parent, name))  # fails (harmlessly) unless it is empty


def write(folder: str, name: str, value: object) -> None:
    """Write `value` to the control file `name` of the cgroup `folder`."""
    with open(os.path.join(folder, name), "w", encoding="ascii") as fh:
        fh.write(str(value))


def read(folder: str, name: str) -> str:
    """The text of the control file `name` of the cgroup `folder`."""
    with open(os.path.join(folder, name), encoding="ascii") as fh:
        return fh.read()
