"""The sandbox launcher: run one command inside the isolation that a spec describes.

Run as ``python -S -I _launcher.py SPEC_FILE REPORT_FD -- ARGV...`` (``REPORT_FD`` -1: none) by
:func:`autograder.sandbox.isolation.run_sandboxed`. It is stdlib-only and imports nothing of
the course, so it starts fast and is safe to run as root.

Process structure in the namespace modes ("namespaces": we are root; "userns": an
unprivileged user with user namespaces)::

    P0 launcher (host pid namespace)  joins the run's cgroups, unshares the namespaces
     └ P1 init (pid 1 of a new pid namespace, still privileged)
           builds the new root (a tmpfs with read-only binds of the system and the Python
           environment, the scratch dir read-write, fresh /proc, /dev, /tmp), pivots into
           it, brings the loopback interface up, then forks P2 and reaps everything
        └ P2 the command: new session, rlimits, no_new_privs, capabilities dropped, user
           dropped (namespaces mode), then exec

When P2 ends P1 exits, and the kernel kills every process left in the pid namespace. P1 dies
with P0 (``PR_SET_PDEATHSIG``), so killing P0 from outside tears the whole tree down.

In the "plain" mode (no namespaces) P0 itself joins the cgroups, starts a new session,
applies the rlimits, drops the user when asked and execs the command.

P0 and P1 write JSON lines to ``REPORT_FD`` (a pipe only the trusted parent reads; it is
closed on exec, so the sandboxed command never holds it): ``{"event": "setup_error",
"message": ...}`` when the sandbox could not be built, ``{"event": "exit", "kind":
"exit"|"signal", "code": N}`` with how P2 ended.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import platform
import signal
import sys
from collections.abc import Callable

#: What the zygote runs in place of ``execve``: ``become(argv, env)``, in the confined P2.
Become = Callable[[list[str], dict[str, str]], None]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAP_LAST_CAP_GUESS = 63

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

# pivot_root has no glibc wrapper everywhere: its syscall number per architecture.
PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203}
SETUP_ERROR_EXIT = 125
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    """The sandbox could not be built (reported to the parent, never to the command)."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)} (errno {errno.errorcode.get(err, err)})")


def _mount(
    src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(
        _libc.mount(
            None if src is None else src.encode(),
            target.encode(),
            None if fstype is None else fstype.encode(),
            ctypes.c_ulong(flags),
            None if data is None else data.encode(),
        ),
        f"mount {src or fstype} on {target}",
    )


def _report(fd: int, **event: object) -> None:
    if fd < 0:  # nobody listens: say it on stderr (a setup error is otherwise invisible)
        if event.get("event") == "setup_error":
            with contextlib.suppress(OSError):
                os.write(2, f"autograder sandbox: {event.get('message')}\n".encode())
        return
    with contextlib.suppress(OSError):
        os.write(fd, (json.dumps(event) + "\n").encode())


def _write_file(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


# ---- the new root -------------------------------------------------------------------------


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _make_mount_point(target: str, *, is_file: bool) -> None:
    if is_file:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            with open(target, "w"):
                pass
    else:
        os.makedirs(target, exist_ok=True)


def _build_root(spec: dict) -> None:
    """Mount the new root at spec["root_dir"] (runs in P1: new mount and pid namespaces)."""
    root = spec["root_dir"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    for entry in spec["mounts"]:
        kind, dest = entry["kind"], entry["dest"]
        target = _inside(root, dest)
        if kind == "symlink":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.lexists(target):
                os.symlink(entry["target"], target)
        elif kind == "bind":
            src = entry["src"]
            _make_mount_point(target, is_file=not os.path.isdir(src))
            _mount(src, target, None, MS_BIND | MS_REC)
            flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV
            if entry.get("ro", True):
                flags |= MS_RDONLY
            _mount(None, target, None, flags)
        elif kind == "tmpfs":
            os.makedirs(target, exist_ok=True)
            opts = f"mode={entry.get('mode', '0755')},size={int(entry.get('size', 1 << 20))}"
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
        elif kind == "hide":  # an empty read-only tmpfs (dirs) or /dev/null (files) on top
            if os.path.isdir(target) and not os.path.islink(target):
                _mount(
                    "tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0000,size=4k"
                )
            elif os.path.lexists(target):
                _mount("/dev/null", target, None, MS_BIND)
        elif kind == "proc":
            os.makedirs(target, exist_ok=True)
            _mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        elif kind == "dev":
            os.makedirs(target, exist_ok=True)
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
            for name in DEVICES:
                node = os.path.join(target, name)
                _make_mount_point(node, is_file=True)
                _mount(f"/dev/{name}", node, None, MS_BIND)
            for name, link in (
                ("fd", "/proc/self/fd"),
                ("stdin", "/proc/self/fd/0"),
                ("stdout", "/proc/self/fd/1"),
                ("stderr", "/proc/self/fd/2"),
            ):
                os.symlink(link, os.path.join(target, name))
            shm = os.path.join(target, "shm")
            os.makedirs(shm)
            _mount(
                "tmpfs",
                shm,
                "tmpfs",
                MS_NOSUID | MS_NODEV,
                f"mode=1777,size={int(entry.get('shm_size', 1 << 26))}",
            )
        else:
            raise SetupError(f"unknown mount kind {kind!r}")
    _pivot(root)
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _pivot(root: str) -> None:
    os.chdir(root)
    number = PIVOT_ROOT_SYSCALL.get(platform.machine())
    if number is not None and _libc.syscall(ctypes.c_long(number), b".", b".") == 0:
        _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")
        os.chdir("/")
        return
    # no pivot_root: chroot (the command loses every capability, so it cannot break out)
    os.chroot(".")
    os.chdir("/")


def _loopback_up() -> None:
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _write_id_maps(spec: dict, uid: int, gid: int) -> None:
    inner = int(spec.get("userns_inner_id", 0))
    _write_file("/proc/self/uid_map", f"{inner} {uid} 1\n")
    with contextlib.suppress(OSError):
        _write_file("/proc/self/setgroups", "deny\n")
    _write_file("/proc/self/gid_map", f"{inner} {gid} 1\n")


# ---- the command's own process -------------------------------------------------------------


def _apply_rlimits(rlimits: dict) -> None:
    import resource

    for name, value in rlimits.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        value = int(value)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY and value > hard:
                value = hard
            resource.setrlimit(which, (value, hard))


def _drop_capabilities() -> None:
    for cap in range(CAP_LAST_CAP_GUESS + 1):
        failed = _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0
        if failed and ctypes.get_errno() == errno.EINVAL:  # past the last capability
            break


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _clear_capabilities() -> None:
    """Empty this process's effective, permitted, inheritable and ambient capabilities.

    Dropping the bounding set only matters at ``execve``. A command that is not exec'd (the
    zygote's warm kernels) and whose user does not change (the userns mode: root of the
    run's own user namespace) would otherwise keep every capability in that namespace, and
    could unmount what hides protected paths or remount the read-only binds."""
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "clear the capabilities")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # fails on old kernels only


def _exec_command(
    spec: dict, argv: list[str], report_fd: int, become: Become | None = None
) -> None:
    """Become the sandboxed command (never returns): ``execve`` it, or, with `become` (the
    zygote's warm kernels), call ``become(argv, env)`` in this process once it is confined."""
    try:
        if report_fd >= 0:
            os.set_inheritable(report_fd, False)
        with contextlib.suppress(OSError):
            os.setsid()
        # the command, not the launcher, is the first choice of the OOM killer
        with contextlib.suppress(OSError):
            _write_file("/proc/self/oom_score_adj", "1000")
        os.umask(0o022)
        os.chdir(spec["cwd"])
        _apply_rlimits(spec.get("rlimits", {}))
        if spec.get("drop_caps"):
            _drop_capabilities()
        uid, gid = spec.get("uid"), spec.get("gid")
        if gid is not None:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
        if uid is not None:
            os.setresuid(uid, uid, uid)
        if spec.get("drop_caps"):
            _clear_capabilities()
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")
        env = {str(k): str(v) for k, v in spec.get("env", {}).items()}
        if become is None:
            os.execve(argv[0], argv, env)
        if report_fd >= 0:  # closed on exec; a command that is not exec'd must not hold it
            os.close(report_fd)
    except BaseException as exc:
        _report(report_fd, event="setup_error", message=f"exec {argv[0]!r}: {exc}")
        os._exit(SETUP_ERROR_EXIT)
    code = 1
    try:
        become(argv, env)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _parent_gone(alive_fd: int) -> bool:
    """True once P0 has exited: it holds the write end of this pipe until then."""
    import select

    readable, _, _ = select.select([alive_fd], [], [], 0)
    return bool(readable)


def _init(
    spec: dict, argv: list[str], report_fd: int, alive_fd: int, become: Become | None = None
) -> None:
    """P1: pid 1 of the new pid namespace (never returns)."""
    try:
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "set the death signal")
        if _parent_gone(alive_fd):  # P0 died before the death signal was armed
            os._exit(SETUP_ERROR_EXIT)
        os.close(alive_fd)
        if spec.get("hostname"):
            name = spec["hostname"].encode()
            _libc.sethostname(name, len(name))
        if spec.get("mounts") is not None:
            _build_root(spec)
        if spec.get("loopback"):
            _loopback_up()
    except BaseException as exc:
        _report(report_fd, event="setup_error", message=f"{type(exc).__name__}: {exc}")
        os._exit(SETUP_ERROR_EXIT)
    child = os.fork()
    if child == 0:
        _exec_command(spec, argv, report_fd, become)
    status = None
    while True:  # reap every orphan until the command itself ends
        try:
            pid, st = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = st
            break
    if status is None:
        _report(report_fd, event="setup_error", message="lost the command's exit status")
        os._exit(SETUP_ERROR_EXIT)
    if os.WIFSIGNALED(status):
        _report(report_fd, event="exit", kind="signal", code=os.WTERMSIG(status))
        os._exit(128 + os.WTERMSIG(status))
    code = os.WEXITSTATUS(status)
    _report(report_fd, event="exit", kind="exit", code=code)
    os._exit(code)


def _join_cgroups(spec: dict) -> None:
    for path in spec.get("procs_files", []):
        _write_file(path, str(os.getpid()))


def main(args: list[str]) -> None:
    with open(args[0], encoding="utf-8") as fh:  # a root-only file: not in any cmdline
        spec = json.load(fh)
    report_fd = int(args[1])
    argv = args[args.index("--") + 1 :]
    launch(spec, argv, report_fd)


def launch(
    spec: dict,
    argv: list[str],
    report_fd: int,
    *,
    become: Become | None = None,
    watch_fd: int = -1,
    on_exit: Callable[[int], None] | None = None,
) -> None:
    """Run `argv` in the sandbox `spec` describes (never returns; this process is P0).

    The zygote (:mod:`._zygote`) calls it in a forked copy of itself with `become` (the
    command runs in-process instead of being exec'd), `watch_fd` (the requester's socket:
    when it closes, P1 and with it the whole sandbox are killed) and `on_exit` (called with
    P0's exit code before it exits)."""
    mode = spec.get("mode", "plain")
    try:
        # die with the grader (a killed grader must not leave a sandbox running)
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "set the death signal")
        _join_cgroups(spec)
        if mode == "plain":
            _exec_command(spec, argv, report_fd, become)
        flags = 0
        for name, flag in (
            ("mount", CLONE_NEWNS),
            ("pid", CLONE_NEWPID),
            ("net", CLONE_NEWNET),
            ("ipc", CLONE_NEWIPC),
            ("uts", CLONE_NEWUTS),
            ("user", CLONE_NEWUSER),
        ):
            if spec.get("namespaces", {}).get(name):
                flags |= flag
        uid, gid = os.getuid(), os.getgid()
        _check(_libc.unshare(flags), "unshare the namespaces")
        if flags & CLONE_NEWUSER:
            _write_id_maps(spec, uid, gid)
    except BaseException as exc:
        _report(report_fd, event="setup_error", message=f"{type(exc).__name__}: {exc}")
        os._exit(SETUP_ERROR_EXIT)
    alive_r, alive_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(alive_w)
        if watch_fd >= 0:
            os.close(watch_fd)
        _init(spec, argv, report_fd, alive_r, become)
    os.close(alive_r)
    if report_fd >= 0:
        os.close(report_fd)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    status = _wait_child(child, watch_fd)
    if status is None:  # the requester is gone: take the sandbox down with it
        os._exit(SETUP_ERROR_EXIT)
    code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    if on_exit is not None:
        with contextlib.suppress(Exception):
            on_exit(code)
    os._exit(code)


def _wait_child(child: int, watch_fd: int) -> int | None:
    """P1's wait status; None (P1 killed) when `watch_fd` (>= 0) reached its end first."""
    import select

    while True:
        try:
            if watch_fd < 0:
                return os.waitpid(child, 0)[1]
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                return status
            readable, _, _ = select.select([watch_fd], [], [], 0.05)
            if readable and not os.read(watch_fd, 4096):
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
                return None
        except InterruptedError:
            continue


if __name__ == "__main__":
    main(sys.argv[1:])
