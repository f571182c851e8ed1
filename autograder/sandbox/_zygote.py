"""Warm kernels: a zygote that has imported the heavy libraries forks each sandboxed kernel.

Two entry points, both run as scripts (this file imports nothing of the engine):

``python _zygote.py serve SOCKET MODULE...``
    The zygote (started by :class:`autograder.sandbox.zygote.Zygote`, trusted, the grader's
    user). It imports the MODULEs (numpy, torch, matplotlib, ipykernel, ...) and nothing
    else, runs no student code, listens on the Unix socket SOCKET (in a folder only the
    grader can open) and prints ``ready``. For every connection it forks; the child is the
    sandbox launcher's P0 (:func:`_launcher.launch`) for the request, and its P2, confined
    exactly as an exec'd kernel would be (namespaces, private root, ``nobody``, rlimits,
    cgroups, no_new_privs), turns into the kernel in-process (:func:`become_kernel`). The
    zygote exits when its stdin (a pipe the grader holds) reaches its end.

``python -S -I _zygote.py client SOCKET SPEC_FILE REPORT_FD -- ARGV...``
    What a kernel manager starts in place of the launcher (same arguments): it hands its
    stdin, stdout, stderr (and REPORT_FD) to the zygote, waits, and exits with the code the
    sandbox ended with. Killing it tears the sandbox down (P0 watches the connection); when
    the sandbox is killed from outside, it kills itself with SIGKILL, as an exec'd launcher
    would have died.

Every kernel is a fork of the same untouched interpreter, so no state passes from one
notebook (or submission) to the next. What a forked kernel would otherwise share with its
siblings is reset in :func:`become_kernel`: environment (the kernel's own, plus what the
preloaded modules set in it as they were imported, as they would in a cold kernel), working
directory, ``sys.path``, ``sys.argv``, signal handlers, the temp dir, and the seeds of
Python's and NumPy's global generators: Python's, NumPy's and torch's default one get fresh
entropy, as in a new process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

MAX_REQUEST_BYTES = 1 << 16
READY = "ready"
# the kernel's argv as the kernel managers build it: PYTHON -m ipykernel_launcher ARGS...
KERNEL_MODULE = "ipykernel_launcher"


# ---- the client (python -S -I: stdlib only, starts in milliseconds) ------------------------


def client(args: list[str]) -> None:  # pragma: no cover - runs as the kernel manager's child
    sock_path, spec_file, report_fd = args[0], args[1], int(args[2])
    argv = args[args.index("--") + 1 :]
    fds = [0, 1, 2] + ([report_fd] if report_fd >= 0 else [])
    request = json.dumps({"spec_file": spec_file, "argv": argv, "report": report_fd >= 0})
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(sock_path)
        socket.send_fds(conn, [request.encode()], fds)
    except OSError as exc:
        os.write(2, f"autograder zygote client: {exc}\n".encode())
        os._exit(125)
    if report_fd >= 0:
        os.close(report_fd)
    data = b""
    while True:
        try:
            chunk = conn.recv(4096)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            break
        data += chunk
    try:
        code = int(json.loads(data.decode())["code"])
    except (ValueError, KeyError, TypeError):
        # the sandbox was killed before it could say how it ended: die as its P0 did
        os.kill(os.getpid(), signal.SIGKILL)
        raise
    os._exit(code)


# ---- the zygote ----------------------------------------------------------------------------


def serve(args: list[str]) -> None:  # pragma: no cover - runs as the zygote process
    sock_path, modules = args[0], args[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    # sys.path as a kernel has it, without this script's folder
    base_path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path[:] = base_path
    import importlib
    import importlib.util

    # the sandbox launcher, beside this file (stdlib only), loaded without a sys.modules entry
    spec = importlib.util.spec_from_file_location("_launcher", os.path.join(here, "_launcher.py"))
    _launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_launcher)

    loaded, failed = [], {}
    before = dict(os.environ)
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:  # a library this course does not use: go on without it
            failed[name] = f"{type(exc).__name__}: {exc}"
    # what the imports set in the environment (ipykernel's debugger sets
    # PYDEVD_USE_FRAME_EVAL): a kernel importing them itself would have it too. Not paths
    # into the zygote's own folder (torch._dynamo puts its cache dir there): no kernel sees
    # it, and a kernel's libraries derive such paths from its own environment when asked.
    private = os.environ.get("HOME") or os.getcwd()
    import_env = {k: v for k, v in os.environ.items() if before.get(k) != v and private not in v}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    os.chmod(sock_path, 0o600)
    listener.listen(64)
    print(json.dumps({"event": READY, "loaded": loaded, "failed": failed}), flush=True)
    import select

    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        try:
            readable, _, _ = select.select([listener, 0], [], [], 1.0)
        except InterruptedError:
            continue
        if 0 in readable and not os.read(0, 4096):
            os._exit(0)  # the grader is gone or done: the forked sandboxes die with us
        if listener in readable:
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _handle(conn, _launcher, base_path, import_env)
            conn.close()


def _handle(  # pragma: no cover
    conn: socket.socket, launcher, base_path: list[str], import_env: dict[str, str]
) -> None:
    """The forked child: read the request, then become the request's sandbox P0."""
    code = 125
    try:
        msg, fds, _flags, _addr = socket.recv_fds(conn, MAX_REQUEST_BYTES, 4)
        request = json.loads(msg.decode())
        if len(fds) < 3:
            raise ValueError("the request carries no stdio")
        for target, fd in zip((0, 1, 2), fds[:3]):
            os.dup2(fd, target)
        report_fd = -1
        if request.get("report") and len(fds) > 3:
            report_fd = os.dup(fds[3])
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        keep = {0, 1, 2, conn.fileno(), report_fd}
        _close_other_fds(keep)
        with open(request["spec_file"], encoding="utf-8") as fh:  # root-only, like the launcher
            spec = json.load(fh)
        argv = [str(a) for a in request["argv"]]
        if argv[1:3] != ["-m", KERNEL_MODULE]:
            raise ValueError(f"the zygote starts kernels only, not {argv[:3]}")

        def become(argv: list[str], env: dict[str, str]) -> None:
            become_kernel(argv, {**import_env, **env}, base_path)

        def on_exit(code: int) -> None:
            conn.sendall(json.dumps({"code": code}).encode())

        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        launcher.launch(
            spec, argv, report_fd, become=become, watch_fd=conn.fileno(), on_exit=on_exit
        )
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.write(2, f"autograder zygote: {type(exc).__name__}: {exc}\n".encode())
    os._exit(code)


def _close_other_fds(keep: set[int]) -> None:
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def become_kernel(argv: list[str], env: dict[str, str], base_path: list[str]) -> None:
    """Turn this confined fork of the zygote into the kernel ``argv`` asks for (P2: the user
    is dropped and the root is private already); returns when the kernel shuts down."""
    import random
    import tempfile

    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None
    # `python -m` puts "" first, which ipykernel_launcher removes; the shell adds its own
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [*extra, *base_path]
    import importlib

    importlib.invalidate_caches()
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()  # a new process draws its initial seed at random too
    import importlib.util

    from ipykernel import kernelapp

    # what `python -m ipykernel_launcher ARGS` sees as sys.argv
    origin = importlib.util.find_spec(KERNEL_MODULE).origin
    sys.argv = [origin or KERNEL_MODULE, *argv[3:]]
    kernelapp.launch_new_instance()


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:2] == ["client"]:
        client(sys.argv[2:])
    elif sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2:])
    else:
        sys.exit("usage: _zygote.py serve SOCKET MODULE... | client SOCKET SPEC REPORT_FD -- ARGV")
