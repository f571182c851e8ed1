"""The trusted side of warm kernels: start, share and stop the zygote (:mod:`._zygote`).

A fresh kernel spends seconds importing torch, numpy, matplotlib and ipykernel before it runs
a cell. A :class:`Zygote` imports them once per grading process; each sandboxed kernel is then
a fork of it, confined exactly like an exec'd one (:meth:`Sandbox.command
<autograder.sandbox.isolation.Sandbox.command>` with ``zygote=``). Only the namespace modes
(``namespaces``, ``userns``) fork from a zygote: the launcher builds those sandboxes itself.
bubblewrap and the plain mode start cold kernels.

:func:`shared_zygote` returns this process's zygote for an environment, starting it on first
use; a zygote that cannot start is remembered with its reason (the record says why the
kernels were cold) and not retried for ``RETRY_SECONDS``. :func:`launch_shared` starts it
ahead, without waiting (a grading worker does so as it starts).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence

from .types import ZYGOTE

#: Imported by the zygote when they are installed (a missing one is skipped).
DEFAULT_PRELOAD = (
    "numpy",
    "numpy.random",
    "torch",
    "torch._dynamo",  # torch.optim's first step imports it: 1.5 s, sympy included
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    # what every kernel imports as it starts (pdb alone takes 0.14 s, the debugger 0.1 s)
    "IPython.core.debugger",
    "ipykernel.debugger",
)
#: Modes whose sandboxes a zygote can fork kernels into.
WARM_MODES = ("namespaces", "userns")
START_SECONDS = 120.0
RETRY_SECONDS = 300.0


class ZygoteError(RuntimeError):
    """The zygote could not start (the reason is in the message)."""


class Zygote:
    """One zygote process: the socket kernels are forked through and its lifetime.

    Args:
        env: the zygote's environment (the settings libraries read at import time must be
            the kernels': thread counts, matplotlib backend, hash seed). Nothing secret.
        preload: the modules it imports.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        preload: Sequence[str] = DEFAULT_PRELOAD,
        *,
        python: str = sys.executable,
    ) -> None:
        self.env = dict(env)
        self.preload = tuple(preload)
        self.python = python
        self.dir: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.loaded: list[str] = []
        self.failed: dict[str, str] = {}
        self.ready = False

    @property
    def socket_path(self) -> str:
        if self.dir is None:
            raise ZygoteError("the zygote is not started")
        return os.path.join(self.dir, "z.sock")

    def start(self, timeout: float = START_SECONDS) -> Zygote:
        """Start the zygote and wait until it has imported its modules and listens."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> Zygote:
        """Start the zygote's process and return at once: it imports its modules while
        this process goes on (:meth:`wait_ready` waits for them)."""
        self.dir = tempfile.mkdtemp(prefix="agz-")  # 0700: only the grader can connect
        home = os.path.join(self.dir, "home")
        os.mkdir(home)
        env = {
            **self.env,
            "HOME": home,
            "TMPDIR": home,
            "MPLCONFIGDIR": os.path.join(home, "matplotlib"),
            "IPYTHONDIR": os.path.join(home, "ipython"),
        }
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [self.python, str(ZYGOTE), "serve", self.socket_path, *self.preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=home,
            close_fds=True,
        )
        return self

    def wait_ready(self, timeout: float = START_SECONDS) -> Zygote:
        """Wait until the launched zygote listens; raises :class:`ZygoteError` (and stops
        it) when it does not say so within `timeout` seconds."""
        if self.ready:
            return self
        line = self._read_line(timeout)
        try:
            event = json.loads(line)
        except ValueError:
            event = {}
        if event.get("event") != "ready":
            err = self._stderr_tail()
            self.stop()
            raise ZygoteError(f"the zygote did not start: {line.strip() or err or 'no answer'}")
        self.loaded = list(event.get("loaded", []))
        self.failed = dict(event.get("failed", {}))
        self.ready = True
        return self

    def _read_line(self, timeout: float) -> str:
        if self.proc is None or self.proc.stdout is None:
            raise ZygoteError("the zygote is not started")
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace").split("\n", 1)[0]

    def _stderr_tail(self) -> str:
        if self.proc is None or self.proc.stderr is None:
            return ""
        if self.proc.poll() is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            return self.proc.stderr.read().decode(errors="replace").strip()[-500:]
        return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def describe(self) -> str:
        """For the grading record: what the kernels were forked from."""
        return f"warm: forked from a zygote that imported {', '.join(self.loaded) or 'nothing'}"

    def stop(self) -> None:
        """End the zygote (its forked sandboxes die with it) and remove its folder."""
        proc, self.proc, self.ready = self.proc, None, False
        if proc is not None:
            with contextlib.suppress(OSError, ValueError):
                if proc.stdin is not None:
                    proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    if stream is not None:
                        stream.close()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


_LOCK = threading.Lock()
_SHARED: dict[tuple, Zygote] = {}
_FAILED: dict[tuple, tuple[float, str]] = {}


def _key(env: Mapping[str, str], preload: Sequence[str]) -> tuple:
    return (tuple(sorted(env.items())), tuple(preload), os.getpid())


def launch_shared(env: Mapping[str, str], preload: Sequence[str] = DEFAULT_PRELOAD) -> None:
    """Start this process's zygote for `env` and `preload` without waiting for it: a
    worker calls it as it starts, so that the zygote imports its libraries while the worker
    imports its own. :func:`shared_zygote` then waits for it. Never raises (a zygote that
    cannot start is reported by :func:`shared_zygote`)."""
    key = _key(env, preload)
    with _LOCK:
        if key in _SHARED or key in _FAILED:
            return
        zygote = Zygote(env, preload)
        try:
            _SHARED[key] = zygote.launch()
        except OSError as exc:
            zygote.stop()
            _FAILED[key] = (time.monotonic(), str(exc))


def shared_zygote(
    env: Mapping[str, str], preload: Sequence[str] = DEFAULT_PRELOAD
) -> tuple[Zygote | None, str]:
    """This process's zygote for `env` and `preload` (started on first use, or by
    :func:`launch_shared`; restarted if it died): ``(zygote, "")``, or ``(None, why not)``."""
    key = _key(env, preload)
    with _LOCK:
        zygote = _SHARED.get(key)
        if zygote is not None and not zygote.ready and zygote.alive():
            try:
                return zygote.wait_ready(), ""
            except ZygoteError as exc:  # (wait_ready stopped it)
                _SHARED.pop(key, None)
                _FAILED[key] = (time.monotonic(), str(exc))
                return None, str(exc)
        if zygote is not None and zygote.alive():
            return zygote, ""
        if zygote is not None:
            zygote.stop()
            _SHARED.pop(key, None)
        failed = _FAILED.get(key)
        if failed is not None and time.monotonic() - failed[0] < RETRY_SECONDS:
            return None, failed[1]
        try:
            zygote = Zygote(env, preload).start()
        except (OSError, ZygoteError) as exc:
            _FAILED[key] = (time.monotonic(), str(exc))
            return None, str(exc)
        _FAILED.pop(key, None)
        _SHARED[key] = zygote
        return zygote, ""


def stop_shared() -> None:
    """Stop every zygote of this process (at exit, and in tests)."""
    with _LOCK:
        for zygote in _SHARED.values():
            zygote.stop()
        _SHARED.clear()
        _FAILED.clear()


atexit.register(stop_shared)
