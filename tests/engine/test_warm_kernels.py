"""Warm kernels (autograder.sandbox.zygote): every kernel forked from the zygote starts as a
fresh interpreter would, inside the same sandbox as a cold one, and leaves nothing behind.

The notebooks here are one or two cells: a fingerprint of the interpreter and its sandbox
(printed as JSON), and a cell that changes everything it can. The attack tests
(test_cheats.py) and the pipeline tests run on warm kernels too: they are the default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.pipeline import sandboxed
from autograder.pipeline.limits import Limits
from autograder.sandbox import zygote as zygote_module
from autograder.sandbox.isolation import probe_isolation
from autograder.sandbox.types import ENGINE_DIR
from autograder.sandbox.zygote import (
    WARM_MODES,
    Zygote,
    ZygoteError,
    launch_shared,
    shared_zygote,
    stop_shared,
)
from autograder.spec import load_spec

TINY_SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"
TINY_SPEC = TINY_SPEC / "assignment.toml"

pytestmark = pytest.mark.skipif(
    probe_isolation().mode not in WARM_MODES,
    reason=f"warm kernels need a namespace sandbox mode; here: {probe_isolation().mode}",
)

FINGERPRINT = textwrap.dedent(
    r"""
    import builtins, json, os, random, resource, signal, socket, sys
    import numpy as np, torch
    def _status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    try:
        socket.create_connection(("10.255.255.1", 9), timeout=0.5)
        _net = "reachable"
    except OSError as exc:
        _net = type(exc).__name__
    _cwd = os.getcwd()
    FP = {
        "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "cwd_is_scratch": _cwd == os.environ["HOME"],
        "env": {k: v.replace(_cwd, "<scratch>") for k, v in os.environ.items()},
        "path": [p.replace(_cwd, "<scratch>") for p in sys.path],
        "threads": torch.get_num_threads(), "dtype": str(torch.get_default_dtype()),
        "grad": torch.is_grad_enabled(), "det": torch.are_deterministic_algorithms_enabled(),
        "np_err": np.geterr(), "np_print": np.get_printoptions()["precision"],
        "np_sum": np.sum.__module__, "leaky_module": "leaky_module" in sys.modules,
        "builtin": hasattr(builtins, "LEAKED"), "umask": os.umask(0o022),
        "sigint": str(signal.getsignal(signal.SIGINT)), "sigterm": str(signal.getsignal(signal.SIGTERM)),
        "rlimits": {n: resource.getrlimit(getattr(resource, n)) for n in
                    ("RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC", "RLIMIT_AS")},
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "no_new_privs": _status("NoNewPrivs"), "cap_eff": _status("CapEff"),
        "cap_prm": _status("CapPrm"),
        "hostname": socket.gethostname(), "net": _net,
        "engine_visible": bool(os.path.isdir(ENGINE) and os.listdir(ENGINE)),
        "cgroup": sorted(line.split(":", 2)[1] for line in open("/proc/self/cgroup")),
        "random": [random.random(), float(np.random.rand()), float(torch.rand(()))],
        "seed": torch.initial_seed(),
        "argv0": os.path.basename(sys.argv[0]),
    }
    print(json.dumps(FP))
    """
)

MUTATE = textwrap.dedent(
    """
    import builtins, os, random, sys, types
    import numpy as np, torch
    random.seed(1); np.random.seed(1); torch.manual_seed(1)
    torch.set_num_threads(2); torch.set_default_dtype(torch.float64); torch.set_grad_enabled(False)
    torch.use_deterministic_algorithms(True)
    np.seterr(all="raise"); np.set_printoptions(precision=2)
    np.sum = lambda *a, **k: 42
    sys.modules["leaky_module"] = types.ModuleType("leaky_module")
    builtins.LEAKED = True
    os.environ["LEAKED"] = "1"
    sys.path.insert(0, "/leaked")
    os.umask(0o000)
    os.chdir("/tmp")
    SECRET_GLOBAL = 1
    """
)


def _fingerprint_nb(*before: str):
    cells = [new_code_cell(src) for src in before]
    cells.append(new_code_cell(f"ENGINE = {str(ENGINE_DIR)!r}\n" + FINGERPRINT))
    return new_notebook(cells=cells)


def _run(nb, tmp_path: Path, name: str, *, warm: bool = True, limits: Limits | None = None):
    scratch = tmp_path / name
    (scratch / ".tmp").mkdir(parents=True)
    return sandboxed.execute_notebook_sandboxed(
        nb, scratch, limits or Limits(wall_seconds=60), spec=str(TINY_SPEC), warm=warm
    )


def _fingerprint(executed) -> dict:
    assert executed.status == "graded", executed.reasons
    cell = executed.nb.cells[-1]
    texts = [o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"]
    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
    assert not errors, errors
    return json.loads("".join(texts))


def test_a_warm_kernel_starts_as_a_cold_one_and_forgets_the_one_before(tmp_path: Path) -> None:
    cold = _run(_fingerprint_nb(), tmp_path, "cold", warm=False)
    mutated = _run(_fingerprint_nb(MUTATE), tmp_path, "mutated")
    first = _run(_fingerprint_nb(), tmp_path, "first")
    second = _run(_fingerprint_nb("assert 'SECRET_GLOBAL' not in globals()"), tmp_path, "second")
    assert cold.isolation["used"]["kernel"].startswith("cold")
    for run in (mutated, first, second):
        assert run.isolation["used"]["kernel"].startswith("warm: forked"), run.isolation

    fps = {
        name: _fingerprint(run)
        for name, run in (
            ("cold", cold),
            ("mutated", mutated),
            ("first", first),
            ("second", second),
        )
    }
    # the mutations took effect in their own kernel (else this test proves nothing)
    m = fps["mutated"]
    assert m["threads"] == 2 and m["dtype"] == "torch.float64" and m["np_sum"] != "numpy"
    assert m["leaky_module"] and m["builtin"] and m["env"]["LEAKED"] == "1"
    assert not m["cwd_is_scratch"] and m["path"][0] == "/leaked"

    random_keys = ("random", "seed")
    same = {k: v for k, v in fps["cold"].items() if k not in random_keys}
    for name in ("first", "second"):
        got = {k: v for k, v in fps[name].items() if k not in random_keys}
        diff = {k: (same[k], got[k]) for k in same if same[k] != got[k]}
        assert not diff, f"{name} differs from a cold kernel: {diff}"
    # the sandbox's properties, held by cold and warm kernels alike
    fp = fps["first"]
    assert fp["uid"] == 65534 or (fp["uid"] == 0 and probe_isolation().mode == "userns")
    assert fp["net"] != "reachable" and not fp["engine_visible"]
    assert fp["no_new_privs"] == "1" and int(fp["cap_eff"], 16) == int(fp["cap_prm"], 16) == 0
    assert max(fp["pids"]) < 100  # a pid namespace of its own
    assert fp["cwd_is_scratch"] and fp["hostname"] == "sandbox"
    # every kernel draws fresh random state, as a new process does
    for which, generator in enumerate(("random", "numpy", "torch")):
        draws = {fps[n]["random"][which] for n in ("cold", "first", "second")}
        assert len(draws) == 3, f"{generator}'s global generator repeats across kernels"
    assert len({fps[n]["seed"] for n in ("cold", "first", "second")}) == 3


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def _wait_until(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _tiny_zygote():
    """The zygote the tiny assignment's kernels are forked from."""
    preload = sandboxed.kernel_preload(load_spec(TINY_SPEC))
    return shared_zygote(sandboxed.KERNEL_ZYGOTE_ENV, preload)


def test_forked_kernels_obey_the_limits_and_leave_nothing_behind(tmp_path: Path) -> None:
    zygote, why = _tiny_zygote()
    assert zygote is not None, why
    marker = "987654"
    spawn = f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
    hog = "x = bytearray(2 * 1024**3)\nx[::4096] = b'1' * len(x[::4096])"
    limits = Limits(wall_seconds=8, memory_bytes=512 * 2**20)
    timed_out = _run(
        new_notebook(cells=[new_code_cell(spawn), new_code_cell("while True: pass")]),
        tmp_path,
        "loop",
        limits=limits,
    )
    assert timed_out.status == "timeout", timed_out.reasons
    memory = _run(new_notebook(cells=[new_code_cell(hog)]), tmp_path, "hog", limits=limits)
    assert memory.status in ("memory_limit", "kernel_died"), memory.reasons
    assert "memory" in " ".join(memory.reasons).lower(), memory.reasons
    # the zygote is untouched and forks the next kernel as before
    assert zygote.alive() and _tiny_zygote()[0] is zygote
    after = _run(_fingerprint_nb(), tmp_path, "after")
    assert _fingerprint(after)["threads"] == 1
    # no sandbox is left: no child of the zygote, no process the notebooks started
    assert _wait_until(lambda: not _children(zygote.pid)), _children(zygote.pid)

    def sleeper_gone() -> bool:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as fh:
                        if marker.encode() in fh.read():
                            return False
                except OSError:
                    pass
        return True

    assert _wait_until(sleeper_gone)


def test_warm_kernels_start_with_the_specs_preload_imported(tmp_path: Path) -> None:
    """The tiny spec's `preload` (a module no kernel imports by itself) is imported in the
    zygote: a warm kernel has it, and imports nothing of it again; a cold one has not.
    Both run an optimizer step (torch._dynamo, preloaded, sets a cache path as it imports)."""
    src = textwrap.dedent(
        """
        import os, sys, torch
        preloaded = 'xml.dom.minidom' in sys.modules
        p = torch.zeros(2, requires_grad=True)
        opt = torch.optim.Adam([p], lr=0.1)  # its first step imports torch._dynamo
        (p ** 2).sum().backward()
        opt.step()
        print(preloaded, all('agz-' not in v for v in os.environ.values()))
        """
    )

    def imported(run) -> str:
        assert run.status == "graded", run.reasons
        return "".join(o.get("text", "") for o in run.nb.cells[0].outputs).strip()

    warm = _run(new_notebook(cells=[new_code_cell(src)]), tmp_path, "warm")
    cold = _run(new_notebook(cells=[new_code_cell(src)]), tmp_path, "cold", warm=False)
    assert warm.isolation["used"]["kernel"].startswith("warm: forked")
    assert "xml.dom.minidom" in warm.isolation["used"]["kernel"]
    # and no path into the zygote's private folder reaches a kernel's environment
    assert (imported(warm), imported(cold)) == ("True True", "False True")


def test_without_a_zygote_kernels_start_cold_and_say_why(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(ZygoteError, match="did not start"):
        Zygote({}, python="/bin/false").start(timeout=10)
    monkeypatch.setattr(
        sandboxed, "shared_zygote", lambda env, preload=(): (None, "no zygote in this test")
    )
    run = _run(_fingerprint_nb(), tmp_path, "fallback")
    assert run.isolation["used"]["kernel"] == "cold: started from scratch (no zygote in this test)"
    assert _fingerprint(run)["uid"] == _fingerprint(_run(_fingerprint_nb(), tmp_path, "w"))["uid"]


def test_a_zygote_launched_ahead_is_the_one_kernels_use() -> None:
    """launch_shared returns at once; shared_zygote waits for that very zygote; a second
    launch is a no-op; a launched zygote that died is replaced."""
    env = {**sandboxed.KERNEL_ZYGOTE_ENV, "AG_TEST_LAUNCH": "1"}  # a zygote of its own
    try:
        started = time.monotonic()
        launch_shared(env, ("json",))
        assert time.monotonic() - started < 1.0
        launch_shared(env, ("json",))
        zygote, why = shared_zygote(env, ("json",))
        assert zygote is not None and zygote.ready and zygote.alive(), why
        assert zygote.loaded == ["json"] and shared_zygote(env, ("json",))[0] is zygote
    finally:
        stop_shared()
    try:  # one that died while starting is replaced by a fresh one
        launch_shared(env, ("json",))
        (first,) = [z for z in zygote_module._SHARED.values() if z.env == env]
        first.proc.kill()
        first.proc.wait()
        zygote, why = shared_zygote(env, ("json",))
        assert zygote is not None and zygote is not first and zygote.alive(), why
    finally:
        stop_shared()


def test_the_zygote_ends_with_the_process_that_started_it() -> None:
    script = textwrap.dedent(
        """
        import os, sys
        from autograder.pipeline.sandboxed import KERNEL_ZYGOTE_ENV
        from autograder.sandbox.zygote import Zygote
        z = Zygote(KERNEL_ZYGOTE_ENV, preload=("json",)).start()
        print(z.pid, z.dir, flush=True)
        os._exit(0)  # no atexit, no stop(): as a killed worker ends
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    pid = int(out[0])

    def gone() -> bool:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    assert _wait_until(gone), f"zygote {pid} outlived its grader"


def test_a_worker_gets_ready_with_light_imports_first() -> None:
    """The pool's initializer lives in a module that imports neither torch nor nbformat, so
    that the zygote launches before the worker's own heavy imports; the warm-up then
    imports what the first job needs (the checks, torch, the notebook tools)."""
    script = textwrap.dedent(
        f"""
        import sys
        from autograder.pipeline import warm
        light = not any(m in sys.modules for m in ("torch", "nbformat", "nbclient"))
        said = warm.warm_up({str(TINY_SPEC)!r}, sandbox=False)
        loaded = all(m in sys.modules for m in ("torch", "nbformat", "nbclient"))
        print(light, loaded, said)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split(maxsplit=2)
    assert out[:2] == ["True", "True"], out
    assert out[2].strip() == "ready (plain executor)"


@pytest.mark.parametrize(
    ("mode", "warm", "forks"),
    [("namespaces", True, True), ("userns", True, True), ("namespaces", False, False),
     ("bwrap", True, False), ("none", True, False)],
)  # fmt: skip
def test_the_worker_and_its_notebooks_agree_on_when_kernels_fork(
    mode: str, warm: bool, forks: bool
) -> None:
    """One rule decides whether a sandbox forks its kernels from the zygote: the worker
    launches a zygote exactly when its notebooks will use it, and a cold start says why."""
    cold = sandboxed.why_cold(mode, warm)
    assert (cold is None) == forks == (warm and mode in WARM_MODES)
    if not warm:
        assert cold == "warm kernels turned off"
    elif not forks:
        assert repr(mode) in cold


def test_a_notebook_with_warm_kernels_off_says_so(tmp_path: Path) -> None:
    run = _run(_fingerprint_nb(), tmp_path, "off", warm=False)
    assert run.isolation["used"]["kernel"] == (
        "cold: started from scratch (warm kernels turned off)"
    )
