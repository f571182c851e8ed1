"""The sandbox (autograder.sandbox.isolation): what it detects, what it prevents, how it ends.

Each test that needs a mechanism skips, naming it, when the isolation probe says this machine
lacks it. Commands are plain `python -S` scripts (0.05 s to start); the two tests that need
torch (about 2 s to import) share one sandboxed run each.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from autograder.checks import registry
from autograder.sandbox import isolation
from autograder.sandbox.isolation import (
    MODE_ENV,
    MODES,
    SandboxError,
    SandboxLimits,
    bwrap_argv,
    check_runtime_source,
    default_env,
    mount_plan,
    prepare_runtime,
    probe_isolation,
    python_paths,
    run_sandboxed,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = registry.spec_of()  # the course's assignment (tests/conftest.py)
COURSE_CHECKS = SPEC.checks_package
REPORT = probe_isolation()
PRIVATE_FS = REPORT.mode in ("namespaces", "bwrap", "userns")
needs_private_fs = pytest.mark.skipif(
    not PRIVATE_FS, reason=f"no namespace sandbox here (mode {REPORT.mode!r}): {REPORT.missing}"
)
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

FAST = SandboxLimits(
    wall_seconds=20, memory_bytes=512 * 2**20, output_bytes=2**16, max_processes=32
)


def py(code: str) -> list[str]:
    """argv of a quick Python (no site) running `code`."""
    return [sys.executable, "-S", "-c", textwrap.dedent(code)]


@pytest.fixture
def course(tmp_path: Path) -> dict[str, Path]:
    """A scratch dir plus things beside it the command must not reach: a planted secret, a
    gradebook, another student's submission."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "mine.txt").write_text("my own file")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("grades")
    other = tmp_path / "submitted" / "bob" / "landscapes"
    other.mkdir(parents=True)
    (other / "01_mode_connectivity.ipynb").write_text("{}")
    return {
        "root": tmp_path,
        "scratch": scratch,
        "secret": secret,
        "gradebook": gradebook,
        "other": other,
    }


def _no_process_with(token: str) -> bool:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            return False
    return True


# ---- the probe ---------------------------------------------------------------------------------


def test_probe_report_is_plain_json_and_names_what_is_missing() -> None:
    """The report is JSON-able, picks an available mode and explains every gap in words."""
    data = json.loads(REPORT.to_json())
    assert data["mode"] in MODES and data["available"][data["mode"]] is True
    assert data["available"]["plain"] is True
    assert set(data["namespaces"]) == {"user", "mount", "pid", "net", "ipc", "uts"}
    assert set(data["tools"]) == {"unshare", "setpriv", "runuser", "bwrap"}
    assert {"filesystem", "network", "memory", "process_count", "wall_time", "output"} <= set(
        data["mechanisms"]
    )
    assert all(isinstance(m, str) and m for m in data["missing"])
    if not REPORT.tools["bwrap"]:
        assert any("bubblewrap" in m for m in data["missing"])
    if REPORT.mode == "plain":
        assert any("no private file system" in m for m in data["missing"])
    assert probe_isolation() is REPORT  # cached


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run processes as nobody")
def test_probe_is_not_fooled_by_other_runs_of_the_sandbox_user() -> None:
    """The trial run of each mode has no cgroups, so its process limit is RLIMIT_NPROC, which
    counts every process of `nobody` on the machine: with more of them alive than a run's
    limit (another grader, a fork bomb being contained), the probe still finds the mode."""
    if not REPORT.available["namespaces"]:
        pytest.skip("namespaces mode unavailable here")
    count = 2 * SandboxLimits().max_processes + 20  # beyond a default run's limit
    sleepers = [
        subprocess.Popen(
            ["sleep", "60"],
            user=isolation.NOBODY_UID,
            group=isolation.NOBODY_GID,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        report = probe_isolation(refresh=True)
    finally:
        for proc in sleepers:
            proc.kill()
            proc.wait()
        probe_isolation(refresh=True)
    assert report.available["namespaces"], report.errors


def test_unavailable_mode_is_refused(tmp_path: Path) -> None:
    """Forcing a mode the machine lacks raises SandboxError instead of running unprotected."""
    missing = [m for m in MODES if not REPORT.available[m]]
    if not missing:
        pytest.skip("every mode is available here")
    with pytest.raises(SandboxError, match="not available"):
        run_sandboxed(py("pass"), scratch_dir=tmp_path, mode=missing[0])


def test_the_mode_can_be_forced_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTOGRADER_SANDBOX_MODE picks the mode (the unprivileged CI runs use it); an unknown
    or unavailable mode is an error, never a silent fallback to another."""
    try:
        monkeypatch.setenv(MODE_ENV, "plain")
        forced = probe_isolation(refresh=True)
        assert forced.mode == "plain" and forced.forced_by == f"{MODE_ENV}=plain"
        assert forced.available == REPORT.available
        monkeypatch.setenv(MODE_ENV, "sideways")
        with pytest.raises(SandboxError, match="not a sandbox mode"):
            probe_isolation(refresh=True)
        missing = [m for m in MODES if not REPORT.available[m]]
        if missing:
            monkeypatch.setenv(MODE_ENV, missing[0])
            with pytest.raises(SandboxError, match="not available"):
                probe_isolation(refresh=True)
    finally:
        monkeypatch.undo()  # the variable as this run had it (set in the unprivileged runs)
        probe_isolation(refresh=True)


def test_mount_plan_is_an_allowlist(tmp_path: Path) -> None:
    """The private root holds the system dirs, the Python environment and the scratch dir;
    the repository is not in it, only hidden on top for good measure."""
    plan = mount_plan(
        str(tmp_path),
        readable_paths=[],
        hide_paths=[REPO_ROOT / "solutions"],
        limits=SandboxLimits(),
    )
    binds = {m["dest"]: m for m in plan if m["kind"] == "bind"}
    assert binds[str(tmp_path.resolve())]["ro"] is False
    assert all(m["ro"] for d, m in binds.items() if d != str(tmp_path.resolve()))
    assert os.path.realpath(sys.prefix) in binds
    # Nothing of the repository is bound in, except the Python environment itself when it
    # lives inside the checkout (CI's `.venv`): it holds no solutions (an editable install
    # only points back at the repository, which stays outside the private root).
    python_envs = set(python_paths())
    assert not any(
        (d == str(REPO_ROOT) or d.startswith(str(REPO_ROOT) + "/")) and d not in python_envs
        for d in binds
    )
    assert {"kind": "hide", "dest": str(REPO_ROOT / "solutions")} in plan
    depths = [
        d.count("/")
        for d in (m["dest"] for m in plan if m["kind"] != "hide")
        if d.startswith("/tmp")
    ]
    assert depths == sorted(depths)


def test_bwrap_command_line_mirrors_the_plan(tmp_path: Path) -> None:
    """Without bubblewrap installed, its command line is still checked: everything is
    unshared, the scratch dir is the only read-write bind, the environment is cleared."""
    plan = mount_plan(str(tmp_path), limits=SandboxLimits())
    argv = bwrap_argv("/usr/bin/bwrap", plan, cwd=str(tmp_path), env={"A": "1"}, argv=["/bin/true"])
    assert argv[:3] == ["/usr/bin/bwrap", "--unshare-all", "--die-with-parent"]
    rw = [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"]
    assert rw == [str(tmp_path.resolve())]
    assert "--clearenv" in argv and argv[-2:] == ["--", "/bin/true"]
    assert argv[argv.index("--setenv") : argv.index("--setenv") + 3] == ["--setenv", "A", "1"]
    assert argv[argv.index("--remount-ro") + 1] == "/"  # after every mount: a read-only root
    assert argv.index("--remount-ro") > max(i for i, a in enumerate(argv) if a.endswith("bind"))


def test_bwrap_covers_only_hidden_paths_the_sandbox_would_see(tmp_path: Path) -> None:
    """A protected path below a bind mount is covered; one the private root does not contain
    anyway (e.g. below the private /tmp) gets no mount point, so it does not even exist."""
    scratch = tmp_path / "scratch"
    (scratch / "secret").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plan = mount_plan(
        str(scratch), hide_paths=[scratch / "secret", elsewhere], limits=SandboxLimits()
    )
    argv = bwrap_argv("/usr/bin/bwrap", plan, cwd=str(scratch), env={}, argv=["/bin/true"])
    covered = [argv[i + 1] for i, a in enumerate(argv) if a == "--tmpfs"]
    assert str((scratch / "secret").resolve()) in covered
    assert str(elsewhere.resolve()) not in argv


# ---- the probe runtime -------------------------------------------------------------------------


def test_runtime_holds_the_call_stage_only(tmp_path: Path) -> None:
    """prepare_runtime copies call/types/builders/wire/probe/errors, the assignment's
    call-stage modules (inputs_*) and its helper module landscape_lab, read-only, and no
    verdict module nor solutions."""
    runtime = prepare_runtime(tmp_path, spec=SPEC)
    names = {str(p.relative_to(runtime)) for p in runtime.rglob("*.py")}
    assert {
        "autograder/errors.py",
        "autograder/checks/call.py",
        "autograder/checks/types.py",
        "autograder/checks/builders.py",
        "autograder/sandbox/wire.py",
        "autograder/sandbox/probe.py",
        "landscape_lab.py",
        "landscape_plots.py",
    } <= names
    assert {f"{COURSE_CHECKS}/{m}.py" for m in SPEC.call_stage} <= names
    assert "import" not in (runtime / COURSE_CHECKS / "__init__.py").read_text()
    for forbidden in ("verdicts.py", "registry.py", "isolation.py", "judge.py", "spec.py"):
        assert not any(n.endswith("/" + forbidden) for n in names), forbidden
    # of the assignment's checks package, the call-stage modules and nothing else
    course = {n for n in names if n.startswith(COURSE_CHECKS + "/")}
    assert course == {f"{COURSE_CHECKS}/{m}.py" for m in [*SPEC.call_stage, "__init__"]}
    assert not (runtime / "solutions").exists()
    assert "import" not in (runtime / "autograder/checks/__init__.py").read_text()
    assert not os.access(runtime / "autograder/checks/call.py", os.W_OK) or os.geteuid() == 0
    assert (runtime / "autograder/checks/call.py").stat().st_mode & 0o222 == 0


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("autograder.checks", "import solutions"),
        ("autograder.checks", "from solutions import mode_connectivity"),
        ("autograder.checks", "from autograder.checks import verdicts"),
        ("autograder.checks", "from . import registry"),
        ("autograder.checks", "import importlib\nimportlib.import_module('autograder.spec')"),
        (COURSE_CHECKS, f"import importlib\nimportlib.import_module('{COURSE_CHECKS}.quiz')"),
        (COURSE_CHECKS, f"from {COURSE_CHECKS} import mode_connectivity"),
        (COURSE_CHECKS, "from .mode_connectivity import LOSS_RTOL"),
        (COURSE_CHECKS, "from . import selfcheck"),
        (COURSE_CHECKS, "import solutions.quiz"),
    ],
)
def test_runtime_guard_rejects_imports_of_verdicts(package: str, source: str) -> None:
    """A call-stage module that would import the verdicts, the reference or a judging module
    of the assignment's checks is refused."""
    with pytest.raises(SandboxError, match="must not"):
        check_runtime_source(
            source,
            package,
            filename="x.py",
            forbidden=["solutions"],
            course_package=COURSE_CHECKS,
            call_stage=SPEC.call_stage,
        )


def test_runtime_guard_allows_the_call_stage() -> None:
    """Call-stage modules may import each other, the engine's call stage and torch."""
    check_runtime_source(
        "import torch\nfrom autograder.checks.builders import register_builder\n"
        f"from .inputs_common import build_mlp\nfrom {COURSE_CHECKS} import inputs_common\n",
        COURSE_CHECKS,
        filename="x.py",
        forbidden=["solutions"],
        course_package=COURSE_CHECKS,
        call_stage=SPEC.call_stage,
    )


# ---- confinement -------------------------------------------------------------------------------


@needs_private_fs
def test_sandboxed_python_imports_torch_and_the_call_stage_but_not_solutions(
    course: dict[str, Path],
) -> None:
    """torch, landscape_lab and autograder.checks.call import; solutions, the verdicts and
    the repository, the secret, the gradebook and the other student's files are invisible."""
    scratch = course["scratch"]
    runtime = prepare_runtime(scratch, spec=SPEC)
    secret_env = f"AG_SECRET_{uuid.uuid4().hex[:6]}"
    os.environ[secret_env] = "leak"
    try:
        code = f"""
            import importlib, json, os, sys
            out = {{}}
            def attempt(key, fn):
                try:
                    fn()
                    out[key] = "ok"
                except BaseException as exc:
                    out[key] = type(exc).__name__
            for mod in ("torch", "landscape_lab", "autograder.checks.call",
                        "autograder.checks.builders", "autograder.sandbox.wire", "solutions",
                        "autograder.checks.verdicts", "autograder.checks.registry",
                        {COURSE_CHECKS + ".mode_connectivity"!r},
                        {COURSE_CHECKS + ".inputs_common"!r}, "autograder.pipeline"):
                attempt("import " + mod, lambda m=mod: importlib.import_module(m))
            for key, path in {json.dumps({k: str(v) for k, v in course.items()})}.items():
                attempt("read " + key, lambda p=path: os.listdir(p) if os.path.isdir(p)
                        else open(p).read())
            for path in ({str(REPO_ROOT / "solutions" / "__init__.py")!r},
                         {str(REPO_ROOT / "autograder" / "checks" / "verdicts.py")!r},
                         {str(REPO_ROOT / "autograder")!r}):
                attempt("read " + path, lambda p=path: os.listdir(p) if os.path.isdir(p)
                        else open(p).read())
            out["root listing"] = sorted(os.listdir({str(course["root"])!r}))
            out["env"] = sorted(k for k in os.environ if k.startswith("AG_SECRET"))
            out["uid"] = os.getuid()
            out["mine"] = open("mine.txt").read()
            out["host procs"] = [open(f"/proc/{{p}}/cmdline").read()[:40]
                                 for p in os.listdir("/proc") if p.isdigit()]
            print(json.dumps(out))
        """
        result = run_sandboxed(
            [sys.executable, "-c", textwrap.dedent(code)],
            scratch_dir=scratch,
            limits=SandboxLimits(wall_seconds=60, max_processes=64),
            env=default_env(scratch, runtime_dir=str(runtime)),
        )
    finally:
        del os.environ[secret_env]
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    out = json.loads(result.stdout)
    for mod in (
        "torch",
        "landscape_lab",
        "autograder.checks.call",
        "autograder.checks.builders",
        "autograder.sandbox.wire",
        f"{COURSE_CHECKS}.inputs_common",
    ):
        assert out[f"import {mod}"] == "ok", (mod, result.stderr.decode()[-2000:])
    for mod in (
        "solutions",
        "autograder.checks.verdicts",
        "autograder.checks.registry",
        f"{COURSE_CHECKS}.mode_connectivity",
        "autograder.pipeline",
    ):
        assert out[f"import {mod}"] == "ModuleNotFoundError", mod
    assert out["read scratch"] == "ok"
    for key in ("secret", "gradebook", "other"):
        assert out[f"read {key}"] in ("FileNotFoundError", "PermissionError"), key
    assert out["root listing"] == ["scratch"]  # only the skeleton leading to the scratch dir
    assert out[f"read {REPO_ROOT / 'solutions' / '__init__.py'}"] == "FileNotFoundError"
    assert out[f"read {REPO_ROOT / 'autograder'}"] == "FileNotFoundError"
    assert out["env"] == []
    assert out["mine"] == "my own file"
    assert not any("pytest" in c for c in out["host procs"])
    assert len(out["host procs"]) <= 3  # init, the command (and nothing of the host)
    if REPORT.mode == "namespaces":
        assert out["uid"] == isolation.NOBODY_UID


@needs_private_fs
def test_cannot_write_outside_the_scratch_dir(course: dict[str, Path]) -> None:
    """Writes land in the scratch dir only: the repository, the Python environment, the
    course dir, /etc and the runtime are read-only or absent; /tmp is private."""
    scratch = course["scratch"]
    runtime = prepare_runtime(scratch, spec=SPEC)
    token = uuid.uuid4().hex
    targets = [
        str(course["root"] / "written.txt"),
        str(REPO_ROOT / "written.txt"),
        os.path.join(sys.prefix, "written.txt"),
        "/etc/written.txt",
        str(runtime / "autograder" / "checks" / "call.py"),
        "/written.txt",
    ]
    code = f"""
        import json, os
        out = {{}}
        for path in {targets!r}:
            try:
                with open(path, "w") as fh:
                    fh.write("x")
                out[path] = "written"
            except OSError as exc:
                out[path] = type(exc).__name__
        open("result.txt", "w").write("made in the sandbox")
        open("/tmp/{token}", "w").write("private tmp")
        print(json.dumps(out))
    """
    result = run_sandboxed(py(code), scratch_dir=scratch, limits=FAST)
    assert result.returncode == 0, result.stderr.decode()
    out = json.loads(result.stdout)
    # Under /tmp the sandbox sees its own tmpfs (holding only the mount points of the scratch
    # dir's parents): a write there may succeed (userns mode: the parents belong to the
    # grader's user) but never reaches the host, which the loop below checks for every path.
    assert all(v != "written" for p, v in out.items() if not p.startswith("/tmp/")), out
    for path in targets:
        assert not Path(path).exists() or Path(path).read_text() != "x", path
    assert (scratch / "result.txt").read_text() == "made in the sandbox"
    assert not Path(f"/tmp/{token}").exists()


@needs_private_fs
def test_no_network_only_its_own_loopback(tmp_path: Path) -> None:
    """The host's 127.0.0.1 server is unreachable; the sandbox's own loopback works; no
    route to anything else."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.3)
    port = server.getsockname()[1]
    code = f"""
        import json, socket
        out = {{}}
        s = socket.socket(); s.settimeout(2)
        try:
            s.connect(("127.0.0.1", {port})); out["host"] = "connected"
        except OSError as exc:
            out["host"] = type(exc).__name__
        own = socket.socket(); own.bind(("127.0.0.1", 0)); own.listen(1)
        c = socket.socket(); c.connect(own.getsockname()); out["own"] = "connected"
        s = socket.socket(); s.settimeout(2)
        try:
            s.connect(("1.1.1.1", 80)); out["outside"] = "connected"
        except OSError as exc:
            out["outside"] = type(exc).__name__
        print(json.dumps(out))
    """
    try:
        result = run_sandboxed(py(code), scratch_dir=tmp_path, limits=FAST)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()
    assert result.returncode == 0, result.stderr.decode()
    out = json.loads(result.stdout)
    assert out["host"] == "ConnectionRefusedError"
    assert out["own"] == "connected"
    assert out["outside"] in ("OSError", "ConnectionRefusedError", "TimeoutError")


# ---- limits ------------------------------------------------------------------------------------


def test_memory_bomb_is_killed_with_reason_memory(tmp_path: Path) -> None:
    """Allocating without end stops at the memory limit: an OOM kill in the run's memory
    cgroup, or a MemoryError under RLIMIT_AS where there is no cgroup."""
    limits = SandboxLimits(wall_seconds=20, memory_bytes=192 * 2**20)
    code = """
        chunks = []
        while True:
            chunks.append(b"x" * (8 * 2**20))
    """
    result = run_sandboxed(py(code), scratch_dir=tmp_path, limits=limits)
    assert result.killed_reason == "memory", (result.returncode, result.detail, result.stderr)
    assert result.returncode != 0
    assert result.wall_seconds < 15
    if result.peak_memory_bytes is not None:
        assert result.peak_memory_bytes <= limits.memory_bytes + 2**20


@needs_linux
def test_fork_bomb_is_contained_and_cleaned_up(tmp_path: Path) -> None:
    """Forking stops at the process limit (pids cgroup or RLIMIT_NPROC), and every child
    still alive when the command ends is killed with it."""
    own_userns = REPORT.mode in ("userns", "bwrap") and REPORT.nproc_per_userns
    if not REPORT.cgroups["pids"] and not (REPORT.is_root and PRIVATE_FS) and not own_userns:
        pytest.skip("no pids cgroup, no dropped user and no own user namespace for RLIMIT_NPROC")
    token = uuid.uuid4().hex
    code = """
        import os, sys, time
        n = 0
        for _ in range(400):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(120)
                os._exit(0)
            n += 1
        print(n, flush=True)
    """
    limits = SandboxLimits(wall_seconds=30, max_processes=24)
    result = run_sandboxed([*py(code), token], scratch_dir=tmp_path, limits=limits)
    assert result.returncode == 0, result.stderr.decode()
    assert int(result.stdout) < limits.max_processes
    assert result.wall_seconds < 10
    assert result.isolation_used["processes"] != "none", result.isolation_used
    assert "this run's processes" in result.isolation_used["processes_bound"] or (
        "uid 65534" in result.isolation_used["processes_bound"]
    ), result.isolation_used
    time.sleep(0.2)
    assert _no_process_with(token)


def test_infinite_loop_is_killed_at_the_wall_limit_with_its_whole_tree(tmp_path: Path) -> None:
    """An endless loop, plus a child that left the process group, are both gone at the
    wall limit."""
    token = uuid.uuid4().hex
    code = """
        import os
        if os.fork() == 0:
            os.setsid()
            while True:
                pass
        while True:
            pass
    """
    limits = SandboxLimits(wall_seconds=1.0)
    result = run_sandboxed([*py(code), token], scratch_dir=tmp_path, limits=limits)
    assert result.killed_reason == "timeout"
    assert 1.0 <= result.wall_seconds < 4.0
    assert result.returncode < 0
    time.sleep(0.2)
    if PRIVATE_FS or REPORT.cgroups["pids"] or REPORT.cgroups["memory"]:
        assert _no_process_with(token)


def test_printing_a_gigabyte_is_cut_at_the_output_limit_quickly(tmp_path: Path) -> None:
    """1 GB to stdout: the first output_bytes are kept, the flag is set, the command is
    killed with reason "output" long before it could finish."""
    code = """
        import sys
        block = b"y" * 2**20
        for _ in range(1024):
            sys.stdout.buffer.write(block)
    """
    limits = SandboxLimits(wall_seconds=60, output_bytes=2**20)
    start = time.monotonic()
    result = run_sandboxed(py(code), scratch_dir=tmp_path, limits=limits)
    assert time.monotonic() - start < 10
    assert result.killed_reason == "output"
    assert result.stdout_truncated and result.truncated
    assert len(result.stdout) == limits.output_bytes
    assert set(result.stdout) == {ord("y")}


def test_os_exit_is_an_ordinary_exit(tmp_path: Path) -> None:
    """os._exit(7) ends the command with code 7 and no kill reason; output so far is kept."""
    result = run_sandboxed(
        py("import os, sys\nprint('before', flush=True)\nos._exit(7)"),
        scratch_dir=tmp_path,
        limits=FAST,
    )
    assert result.returncode == 7
    assert result.killed_reason is None
    assert result.stdout == b"before\n"


def test_killing_its_own_process_group_is_reported_as_a_signal(tmp_path: Path) -> None:
    """os.killpg(0, SIGKILL) kills only the command's own group (the sandbox survives to
    report it): returncode -9, killed_reason "signal"."""
    code = """
        import os, signal, subprocess, sys
        subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"])
        os.killpg(0, signal.SIGKILL)
    """
    result = run_sandboxed(py(code), scratch_dir=tmp_path, limits=FAST)
    assert result.returncode == -signal.SIGKILL
    assert result.killed_reason == "signal"
    assert "SIGKILL" in result.detail
    assert result.wall_seconds < 5


def test_plain_mode_reports_its_weaker_isolation(tmp_path: Path) -> None:
    """The fallback without namespaces still enforces the limits, and says what its user
    can read of the protected paths."""
    result = run_sandboxed(py("print('hi')"), scratch_dir=tmp_path, limits=FAST, mode="plain")
    assert result.returncode == 0 and result.stdout == b"hi\n"
    used = result.isolation_used
    assert used["mode"] == "plain" and used["network"] == "host"
    assert isinstance(used["readable_protected"], list)
    if used["user"] == "grader's user":
        assert used["filesystem"] == "none"
    timed = run_sandboxed(
        py("while True: pass"),
        scratch_dir=tmp_path,
        limits=SandboxLimits(wall_seconds=0.5),
        mode="plain",
    )
    assert timed.killed_reason == "timeout"


@pytest.mark.skipif(
    not REPORT.available["userns"],
    reason=f"no user-namespace sandbox here: {REPORT.errors.get('userns')}",
)
def test_user_namespace_mode_builds_the_same_private_root(tmp_path: Path) -> None:
    """The mode for unprivileged graders: the same allowlisted root, no capabilities."""
    code = f"""
        import os
        print(os.path.exists({str(REPO_ROOT / "solutions")!r}), open("/proc/self/status").read().split("CapEff:")[1].split()[0])
    """
    result = run_sandboxed(py(code), scratch_dir=tmp_path, limits=FAST, mode="userns")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.split() == [b"False", b"0000000000000000"]


# ---- probes: the call stage in the sandbox, the verdicts outside ---------------------------------


def test_probes_in_the_sandbox_are_judged_outside(tmp_path: Path) -> None:
    """The split grader end to end: the trusted side writes the cases, a sandboxed Python
    (which first patches torch's and numpy's comparisons and AssertionError) runs the call
    stage on several versions of `mask_overlap`, and the trusted verdicts pass the honest
    one only."""
    from autograder.sandbox import judge

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    runtime = prepare_runtime(scratch, spec=SPEC)
    versions = ("honest", "float_liar", "tensor_liar", "peeker", "undefined", "not_callable")
    requests = {
        v: judge.write_request(runtime, "mask_overlap", "basic", nonce=f"nonce-{v}", key=v)
        for v in versions
    }
    driver = f"""
        import builtins, numpy, torch
        from autograder.sandbox.probe import run_probe
        torch.allclose = torch.equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        builtins.AssertionError = type("AssertionError", (Exception,), {{}})

        def honest(mask_a, mask_b):
            union = int((mask_a | mask_b).sum())
            return 1.0 if union == 0 else int((mask_a & mask_b).sum()) / union

        class Liar(float):
            def __eq__(self, other):
                return True
            __hash__ = float.__hash__

        class LyingTensor(torch.Tensor):
            def __eq__(self, other):
                return True
            __hash__ = torch.Tensor.__hash__

        def peeker(mask_a, mask_b):
            import solutions
            return solutions.mask_overlap(mask_a, mask_b)

        targets = {{
            "honest": honest,
            "float_liar": lambda a, b: Liar(0.123),
            "tensor_liar": lambda a, b: torch.tensor(0.4).as_subclass(LyingTensor),
            "peeker": peeker,
            "undefined": None,
            "not_callable": 0.4,
        }}
        requests = {json.dumps({v: r.path for v, r in requests.items()})}
        for version, target in targets.items():
            run_probe("mask_overlap", target, requests[version])
    """
    result = run_sandboxed(
        [sys.executable, "-c", textwrap.dedent(driver)],
        scratch_dir=scratch,
        limits=SandboxLimits(wall_seconds=60),
        env=default_env(scratch, runtime_dir=str(runtime)),
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    verdicts = judge.judge_text(result.stdout.decode(), list(requests.values()))
    by_version = {v: verdicts[requests[v].path] for v in versions}
    assert by_version["honest"] is None
    assert "should be a float" in by_version["float_liar"] and "Liar" in by_version["float_liar"]
    assert "LyingTensor" in by_version["tensor_liar"]
    if PRIVATE_FS:
        assert "ModuleNotFoundError" in by_version["peeker"]
    assert "is not defined" in by_version["undefined"]
    assert "should be a function" in by_version["not_callable"]
    for version in ("float_liar", "tensor_liar", "peeker"):  # check_function's header
        assert by_version[version].startswith("mask_overlap [basic: "), version


def test_a_probe_that_never_reports_fails_with_the_reason() -> None:
    """No records (the kernel died, the output was cut): the item fails, saying so."""
    from autograder.sandbox import judge

    request, _ = judge.make_request("mask_overlap", "basic", nonce="n")
    message = judge.judge_records(request, judge.read_records([], request))
    assert message and "did not run" in message
    outputs = judge.verdict_outputs(message)
    assert outputs[0]["output_type"] == "error" and outputs[0]["ename"] == "AssertionError"
    assert judge.verdict_outputs(None) == []


@needs_private_fs
def test_a_jupyter_kernel_runs_in_the_sandbox(tmp_path: Path) -> None:
    """The integration path: Sandbox.command() as a kernel manager's kernel command, Unix
    sockets in a writable folder (no network inside). The kernel runs as the sandbox user,
    sees the private root, and a probe record arrives as display_data of its MIME type."""
    jupyter_client = pytest.importorskip("jupyter_client.manager")
    from autograder.sandbox import probe

    scratch, ipc = tmp_path / "scratch", tmp_path / "ipc"
    scratch.mkdir()
    ipc.mkdir()
    runtime = prepare_runtime(scratch, spec=SPEC)
    env = default_env(
        scratch,
        runtime_dir=str(runtime),
        extra={"IPYTHONDIR": "/tmp/ipython", "JUPYTER_PLATFORM_DIRS": "1"},
    )
    with isolation.Sandbox(
        scratch_dir=scratch, limits=SandboxLimits(wall_seconds=60), env=env, writable_paths=[ipc]
    ) as sandbox:

        class SandboxedKernelManager(jupyter_client.KernelManager):
            def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
                cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
                return sandbox.command([*cmd, *(extra_arguments or [])])

            def write_connection_file(self, **kwargs: object) -> None:
                super().write_connection_file(**kwargs)
                sandbox.hand_over(self.connection_file)

        km = SandboxedKernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=str(ipc / "k"),
            connection_file=str(ipc / "kernel.json"),
        )
        km.start_kernel(
            extra_arguments=["--HistoryManager.enabled=False", "--quiet"], cwd=str(scratch)
        )
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            request = '{"wire":1,"value":{"dict":[["name","x"]]}}'
            code = (
                f"import os\nprint(os.getuid(), os.path.exists({str(REPO_ROOT / 'solutions')!r}))\n"
                f"from autograder.sandbox.probe import run_probe\n"
                f"run_probe('x', None, {request!r})"
            )
            msg_id = kc.execute(code)
            outputs = []
            while True:
                msg = kc.get_iopub_msg(timeout=30)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
                if msg["msg_type"] in ("stream", "display_data", "error"):
                    outputs.append(msg["content"])
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    texts = [o.get("text", "") for o in outputs if "text" in o]
    assert len(texts) == 1 and texts[0].split()[1] == "False", outputs
    if REPORT.mode == "namespaces":
        assert texts[0].split()[0] == str(isolation.NOBODY_UID)
    records = [o["data"][probe.MIME_TYPE] for o in outputs if "data" in o]
    assert records == [
        {
            "nonce": "",
            "index": -1,
            "is_none": True,
            "callable": False,
            "type": ["builtins", "NoneType"],
        }
    ]


def test_records_are_read_from_notebook_outputs() -> None:
    """Records inside nbformat outputs (NotebookNode dicts, as nbclient stores them) are
    found and judged; records of another probe (wrong nonce) are not taken."""
    nbformat = pytest.importorskip("nbformat")
    import torch

    from autograder.sandbox import judge, probe

    request, _ = judge.make_request("mask_overlap", "edge", nonce="mine")

    def honest(mask_a: torch.Tensor, mask_b: torch.Tensor) -> float:
        union = int((mask_a | mask_b).sum())
        return 1.0 if union == 0 else int((mask_a & mask_b).sum()) / union

    payload = {
        "name": "mask_overlap",
        "kind": "function",
        "timeout": 10.0,
        "nonce": "mine",
        "cases": [c for _, _, c in request.ordered],
    }
    records = probe.probe_records(honest, payload)
    outputs = [nbformat.v4.new_output("display_data", data={probe.MIME_TYPE: r}) for r in records]
    outputs.insert(
        1,
        nbformat.v4.new_output(
            "display_data", data={probe.MIME_TYPE: {**records[0], "nonce": "other"}}
        ),
    )
    found = judge.read_records(outputs, request)
    assert found.header is not None and all(o is not None for o in found.outcomes)
    assert judge.judge_records(request, found) is None
    assert found.problems == ["a probe record that does not belong to this cell"]


def test_the_isolation_report_prints_from_the_command_line() -> None:
    """`python -m autograder.sandbox` prints the report a worker machine can be checked with."""
    done = subprocess.run(
        [sys.executable, "-m", "autograder.sandbox"], capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stdout)
    assert report["mode"] == REPORT.mode and report["available"] == REPORT.available
    assert done.returncode == (0 if PRIVATE_FS else 1), done.stderr


def test_the_records_of_a_request_go_out_as_one_output(tmp_path: Path, capsys) -> None:
    """run_probe emits one output per request (a bundle of the header and every case's
    record), and the judge opens it: the same verdict as records one by one; a record in a
    bundle that carries another nonce is still not taken."""
    import torch

    from autograder.sandbox import judge, probe

    request = judge.write_request(tmp_path, "mask_overlap", "edge", nonce="mine", key="k")

    def honest(mask_a: torch.Tensor, mask_b: torch.Tensor) -> float:
        union = int((mask_a | mask_b).sum())
        return 1.0 if union == 0 else int((mask_a & mask_b).sum()) / union

    probe.run_probe("mask_overlap", honest, request.path)
    stdout = capsys.readouterr().out
    lines = [line for line in stdout.splitlines() if line.startswith(probe.STDOUT_PREFIX)]
    assert len(lines) == 1  # one output for the header and all the cases
    bundle = json.loads(lines[0][len(probe.STDOUT_PREFIX) :])
    assert set(bundle) == {"nonce", "records"} and bundle["nonce"] == "mine"
    assert len(bundle["records"]) == len(request.ordered) + 1
    found = judge.read_records(stdout, request)
    assert judge.judge_records(request, found) is None and not found.problems

    forged = {**bundle, "records": [*bundle["records"][:1], {**bundle["records"][1], "nonce": "x"}]}
    found = judge.read_records([{"data": {probe.MIME_TYPE: forged}}], request)
    assert found.problems == ["a probe record that does not belong to this cell"]
    assert found.outcomes[0] is None
    assert "did not report back" in (judge.judge_records(request, found) or "")
    # an undefined name: the header alone, as a record of its own
    probe.run_probe("mask_overlap", None, request.path)
    alone = capsys.readouterr().out.splitlines()
    assert len(alone) == 1 and '"is_none":true' in alone[0]
