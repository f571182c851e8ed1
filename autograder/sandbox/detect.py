"""What this machine offers for sandboxing: namespaces, tools, cgroups, a user to drop to.

The pieces of :func:`autograder.sandbox.isolation.probe_isolation` that need no sandbox:
the syscall and file-permission checks (:func:`unshare_works`, :func:`readable_as`), the
report skeleton (:func:`base_report`) and the words that explain every mechanism and gap
(:func:`describe`). The trial run of each mode, which starts a sandbox, is the caller's.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from .types import NOBODY_UID, IsolationReport

# ---- detection ---------------------------------------------------------------------------

CLONE_FLAGS = {
    "user": 0x10000000,
    "mount": 0x00020000,
    "pid": 0x20000000,
    "net": 0x40000000,
    "ipc": 0x08000000,
    "uts": 0x04000000,
}


def fork_check(fn: Any) -> bool:
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


def unshare_works(flag: int) -> bool:
    def attempt() -> bool:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(flag) == 0

    return fork_check(attempt)


def nproc_counted_per_userns() -> bool:
    """Whether RLIMIT_NPROC, set inside a new user namespace, counts only that namespace's
    processes and is enforced (Linux 5.14 and later, for a grader that is not root: the
    kernel counts processes per user namespace and user, and exempts the host's root).

    Checked, not inferred from the kernel version: in a child that entered a new user
    namespace, a fork must succeed under a limit of 2 (itself and the new process; on an
    older kernel every process of the grader's user counts) and fail under a limit of 1."""

    def attempt() -> bool:
        import resource

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_FLAGS["user"]) != 0:
            return False
        outcomes = []
        for limit in (2, 1):
            resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
            try:
                pid = os.fork()
            except OSError:
                outcomes.append(False)
                continue
            if pid == 0:  # pragma: no cover - grandchild
                os._exit(0)
            os.waitpid(pid, 0)
            outcomes.append(True)
        return outcomes == [True, False]

    return fork_check(attempt)


def describe_bounds(
    cg_info: Mapping[str, Any],
    rlimits: Mapping[str, int],
    limits: Any,
    *,
    uid: int | None,
    own_userns: bool,
    is_root: bool,
) -> dict[str, str]:
    """How one run's memory and process count are bounded: a short key each (``memory``,
    ``processes``) and the same in words (``memory_bound``, ``processes_bound``), for the
    run's ``used`` and the records. `own_userns`: RLIMIT_NPROC is set inside the run's own
    user namespace."""
    if cg_info.get("memory"):
        memory = f"cgroup {cg_info['memory']}"
        memory_bound = (
            f"all processes of the run together: {limits.memory_bytes} bytes "
            f"(cgroup {cg_info['memory']} memory controller, OOM kill at the limit)"
        )
    elif "RLIMIT_AS" in rlimits:
        memory = "RLIMIT_AS"
        memory_bound = (
            f"each process separately, not their sum: {rlimits['RLIMIT_AS']} bytes of "
            f"address space per process (RLIMIT_AS: the memory limit plus an allowance "
            f"for mapped libraries); no memory cgroup"
        )
    else:
        memory, memory_bound = "none", "unbounded (no memory limit was asked for)"
    if cg_info.get("pids"):
        processes = f"cgroup {cg_info['pids']} pids"
        processes_bound = (
            f"this run's processes and threads: {limits.max_processes} "
            f"(cgroup {cg_info['pids']} pids controller)"
        )
    elif own_userns:
        processes = "RLIMIT_NPROC in the run's user namespace"
        processes_bound = (
            f"this run's processes and threads: {limits.max_processes} (RLIMIT_NPROC "
            f"set inside the run's own user namespace, which the kernel counts apart)"
        )
    elif "RLIMIT_NPROC" in rlimits:
        processes = "RLIMIT_NPROC"
        processes_bound = (
            f"{limits.max_processes} processes and threads of uid {uid} on the whole "
            f"machine (RLIMIT_NPROC counts per user, not per run)"
        )
    else:
        processes = "none"
        processes_bound = "unbounded: " + (
            "root ignores RLIMIT_NPROC and there is no pids cgroup"
            if is_root
            else "no pids cgroup, and no user namespace of the run's own in which "
            "RLIMIT_NPROC would count this run alone"
        )
    return {
        "memory": memory,
        "memory_bound": memory_bound,
        "processes": processes,
        "processes_bound": processes_bound,
    }


def python_files() -> list[str]:
    """Files the sandboxed Python must reach: the real interpreter and torch's package."""
    files = [os.path.realpath(sys.executable)]
    with contextlib.suppress(Exception):
        import importlib.util

        spec = importlib.util.find_spec("torch")
        if spec is not None and spec.origin:
            files.append(spec.origin)
    return files


def readable_as(uid: int, gid: int, paths: Iterable[str]) -> dict[str, bool]:
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

        result[path] = fork_check(attempt)
    return result


def describe(report: IsolationReport) -> None:
    mode, cg = report.mode, report.cgroups
    mech = report.mechanisms
    missing = report.missing
    isolated_fs = mode in ("namespaces", "bwrap", "userns")
    dropped = report.is_root and report.sandbox_user.get("python_usable_without_namespaces")
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
    per_userns = mode in ("userns", "bwrap") and report.nproc_per_userns
    mech["memory"] = (
        f"cgroup {cg['memory']} memory controller (all of a run's processes together)"
        if cg["memory"]
        else "RLIMIT_AS (each process's address space separately, not their sum)"
    )
    if cg["pids"]:
        mech["process_count"] = f"cgroup {cg['pids']} pids controller"
    elif per_userns:
        mech["process_count"] = "RLIMIT_NPROC inside the run's own user namespace (per run)"
    elif mode == "namespaces" or (mode == "plain" and dropped):
        mech["process_count"] = f"RLIMIT_NPROC of uid {NOBODY_UID} (per user, not per run)"
    elif report.is_root:
        mech["process_count"] = "none (root ignores RLIMIT_NPROC)"
    elif mode in ("userns", "bwrap"):
        mech["process_count"] = "none (this kernel counts RLIMIT_NPROC per user, not per namespace)"
    else:
        mech["process_count"] = "none (RLIMIT_NPROC would count all of the grader's processes)"
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
    if not cg["pids"] and per_userns:
        missing.append(
            "pids cgroup: not writable; each run's own user namespace bounds its process "
            "count instead (RLIMIT_NPROC set inside it)"
        )
    elif not cg["pids"] and mode in ("userns", "bwrap"):
        missing.append(
            "pids cgroup: not writable, and this kernel counts RLIMIT_NPROC per user, not per "
            "user namespace (Linux 5.14 and later do): a run's process count is unbounded"
        )
    elif not cg["pids"]:
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
