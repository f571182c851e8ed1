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

import contextlib
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
from collections.abc import Mapping, Sequence
from typing import Any

from autograder import cgroups as cgroup_tools
from autograder.errors import SandboxError

from . import detect
from .mounts import bwrap_argv, default_env, mount_plan, python_paths
from .runtime import (
    REQUESTS_DIRNAME,
    RUNTIME_DIRNAME,
    check_runtime_source,
    prepare_runtime,
)
from .types import (
    BWRAP_SIGNAL_BASE,
    CGROUP_PREFIX,
    DRAIN_GRACE_SECONDS,
    ENGINE_DIR,
    GIB,
    KILLED_REASONS,
    LAUNCHER,
    LAUNCHER_PROCESSES,
    MIB,
    MODE_ENV,
    MODES,
    NOBODY_GID,
    NOBODY_UID,
    PROTECTED_PATHS,
    READ_CHUNK,
    SYSTEM_DIRS,
    ZYGOTE,
    IsolationReport,
    SandboxLimits,
    SandboxResult,
)

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
    namespaces = {
        name: linux and detect.unshare_works(flag) for name, flag in detect.CLONE_FLAGS.items()
    }
    tools = {name: shutil.which(name) for name in ("unshare", "setpriv", "runuser", "bwrap")}
    cgroups = cgroup_tools.find_parents(CGROUP_PREFIX)
    python_files = detect.python_files()
    user: dict[str, Any] = {"uid": None, "gid": None}
    if is_root:
        readable = detect.readable_as(NOBODY_UID, NOBODY_GID, python_files)
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
        report.nproc_per_userns = detect.nproc_counted_per_userns()
    report.mode = next(m for m in MODES if report.available[m])
    forced = os.environ.get(MODE_ENV, "").strip()
    if forced:
        if forced not in MODES:
            raise SandboxError(f"{MODE_ENV}={forced!r} is not a sandbox mode; modes: {MODES}")
        if not report.available[forced]:
            why = report.errors.get(forced, "its mechanisms are missing here")
            raise SandboxError(f"{MODE_ENV}={forced!r}, but that mode is not available: {why}")
        report.mode, report.forced_by = forced, f"{MODE_ENV}={forced}"
    detect.describe(report)
    return report


#: The process limit of a mode's trial run. The trial runs without cgroups, so the limit is
#: RLIMIT_NPROC, which counts every process of the sandbox user on the machine: other runs
#: (another grader, a fork bomb being contained) must not make the trial fail.
TRIAL_MAX_PROCESSES = 1 << 15


#: Run inside bubblewrap as ``python -S -I -c SET_NPROC N ARGV...``: RLIMIT_NPROC to N in
#: bwrap's user namespace, then exec ARGV.
SET_NPROC = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n)); os.execv(sys.argv[2], sys.argv[2:])"
)


def _trial_run(mode: str, report: IsolationReport) -> bool:
    scratch = tempfile.mkdtemp(prefix="agsbx-probe-")
    try:
        sandbox = Sandbox(
            scratch_dir=scratch,
            limits=SandboxLimits(
                wall_seconds=20, memory_bytes=None, max_processes=TRIAL_MAX_PROCESSES
            ),
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


# ---- cgroups of one run ------------------------------------------------------------------


def _run_cgroups(info: Mapping[str, Any], limits: SandboxLimits) -> cgroup_tools.RunCgroups:
    """The per-run memory and pids cgroups (the launcher processes count against pids.max)."""
    return cgroup_tools.RunCgroups(
        dict(info), CGROUP_PREFIX, limits.memory_bytes, limits.max_processes + LAUNCHER_PROCESSES
    )


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
        #: RLIMIT_NPROC of the run's own user namespace (userns and bwrap modes, no root).
        self.userns_nproc: int | None = None
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
        # Without a pids cgroup and without root, the run's own user namespace bounds its
        # processes: RLIMIT_NPROC set inside it counts that namespace only. The launcher sets
        # it in P2 (userns mode: P0 and P1 are in the namespace too); in the bwrap mode a
        # small wrapper inside bubblewrap sets it (set before bwrap creates its namespace it
        # would count all of the grader's processes).
        if (
            not cg_info.get("pids")
            and uid is None
            and self.mode in ("userns", "bwrap")
            and self.report.nproc_per_userns
        ):
            # besides the command's own: P0 and P1 (userns), bwrap's pid 1 (bwrap)
            extra = LAUNCHER_PROCESSES if self.mode == "userns" else 1
            self.userns_nproc = int(limits.max_processes) + extra
            if self.mode == "userns":
                rlimits["RLIMIT_NPROC"] = self.userns_nproc
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
        bounds = detect.describe_bounds(
            cg_info,
            rlimits,
            self.limits,
            uid=uid,
            own_userns=self.userns_nproc is not None,
            is_root=self.report.is_root,
        )
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
            **bounds,
            "user": user,
            "network": "private namespace (loopback only)" if self.isolated else "host",
            "filesystem": filesystem,
        }
        if not self.isolated:
            existing = [p for p in self.hide_paths if os.path.exists(p)]
            if uid is not None:
                readable = detect.readable_as(
                    uid, self.gid if self.gid is not None else uid, existing
                )
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

    def command(self, argv: Sequence[str], *, report_fd: int = -1, zygote: Any = None) -> list[str]:
        """The full command line that runs `argv` in this sandbox. `report_fd`: a pipe the
        launcher writes its events to (it must be inherited; -1 for none). With `zygote` (a
        started :class:`~autograder.sandbox.zygote.Zygote`; only for a kernel's argv and the
        namespace modes) the command is forked from the zygote instead of exec'd."""
        if self.spec_file is None:
            raise SandboxError("Sandbox.command() outside the `with` block")
        argv = list(argv)
        if zygote is not None:
            if self.mode not in ("namespaces", "userns"):
                raise SandboxError(f"a zygote cannot fork into the {self.mode!r} mode")
            return [
                sys.executable,
                "-S",
                "-I",
                str(ZYGOTE),
                "client",
                zygote.socket_path,
                self.spec_file,
                str(report_fd),
                "--",
                *argv,
            ]
        if self.mode == "bwrap":
            if self.userns_nproc is not None:
                argv = [sys.executable, "-S", "-I", "-c", SET_NPROC, str(self.userns_nproc), *argv]
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
                        chunk = os.read(fd, READ_CHUNK)
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


__all__ = [
    "BWRAP_SIGNAL_BASE",
    "ENGINE_DIR",
    "GIB",
    "KILLED_REASONS",
    "MIB",
    "MODES",
    "NOBODY_GID",
    "NOBODY_UID",
    "PROTECTED_PATHS",
    "REQUESTS_DIRNAME",
    "RUNTIME_DIRNAME",
    "SYSTEM_DIRS",
    "IsolationReport",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "bwrap_argv",
    "check_runtime_source",
    "default_env",
    "mount_plan",
    "prepare_runtime",
    "probe_isolation",
    "python_paths",
    "run_sandboxed",
]
