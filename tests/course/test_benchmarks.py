"""The benchmark scripts still run and the batched methods still agree with their baselines.

Speed is not asserted here (a unit test on a shared 2-core machine would flake); the figures
come from `make bench`. What is asserted: bench_geometry runs every case end to end, prints
one row per case, and exits 0, which it does only if every batched method agrees with its
straightforward baseline (hutchinson and top eigenvalue to 1e-4 relative, the surface sum
likewise).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_bench_geometry_runs_and_methods_agree() -> None:
    proc = _run("bench_geometry.py", "--repeats", "1", "--threads", "1", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = json.loads(proc.stdout)
    assert set(records) == {
        "hutchinson_loop",
        "hutchinson_trace",
        "power_loop",
        "top_eigenvalue",
        "surface_loop",
        "loss_surface",
    }
    for record in records.values():
        assert record["median_s"] > 0 and len(record["times_s"]) == 1
        assert record["page_faults_per_call"] >= 0
        # Every case, baselines included, raised glibc's malloc thresholds at start-up.
        if sys.platform.startswith("linux"):
            assert record["malloc_tuned"] is True
    # The exit status already says they agree; check the raw records independently too.
    for method, baseline in [
        ("hutchinson_trace", "hutchinson_loop"),
        ("top_eigenvalue", "power_loop"),
        ("loss_surface", "surface_loop"),
    ]:
        key = "value" if "value" in records[method] else "surface_sum"
        got, want = records[method][key], records[baseline][key]
        assert abs(got - want) <= 1e-4 * max(abs(want), 1.0), (method, got, want)


def test_bench_geometry_rejects_bad_arguments() -> None:
    proc = _run("bench_geometry.py", "--repeats", "0", timeout=60)
    assert proc.returncode == 2 and "--repeats must be at least 1" in proc.stderr


def test_bench_pyhessian_skips_without_pyhessian() -> None:
    """PyHessian is a benchmark-only extra: without it the script says how to install it and
    exits 0 (`make bench` goes on)."""
    script = BENCHMARKS / "bench_pyhessian.py"
    code = (
        "import runpy, sys; sys.modules['pyhessian'] = None; "  # import pyhessian fails
        f"sys.argv = [{str(script)!r}]; runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "skipped" in proc.stdout and ".[bench]" in proc.stdout


@pytest.mark.skipif(
    importlib.util.find_spec("pyhessian") is None, reason="pyhessian (extra 'bench') not installed"
)
def test_bench_pyhessian_runs_and_agrees() -> None:
    """Same probes and start vector for PyHessian and the reference: the answers agree."""
    proc = _run(
        "bench_pyhessian.py",
        *("--repeats", "1", "--threads", "1", "--hidden", "16,16"),
        *("--probes", "5", "--power-iters", "10", "--json"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert set(report["cases"]) == {"trace", "eigen_default", "eigen_fixed"}
    for case in report["cases"].values():
        assert case["agrees"] and case["relative_difference"] <= case["rtol"]
        assert case["pyhessian"]["median_s"] > 0 and case["reference"]["median_s"] > 0
    assert report["cases"]["trace"]["relative_difference"] <= 1e-10  # float64, same probes


def test_bench_grading_help() -> None:
    proc = _run("bench_grading.py", "--help", timeout=60)
    assert proc.returncode == 0 and "nbgrader autograde" in proc.stdout


def _load_bench_geometry() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_geometry_under_test", BENCHMARKS / "bench_geometry.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_keep_freed_memory_once_per_process(monkeypatch) -> None:
    """The benchmark raises glibc's malloc thresholds once (idempotent, no error), so the
    chunks' activations are reused rather than faulted in again; values are unchanged."""
    from solutions.landscape_geometry import loss_surface

    bench = _load_bench_geometry()
    assert bench.keep_freed_memory()
    assert bench._ALLOCATOR_TUNED

    def no_second_mallopt(*args, **kwargs):
        raise AssertionError("mallopt looked up again")

    with monkeypatch.context() as patch:
        patch.setattr(bench.ctypes, "CDLL", no_second_mallopt)
        assert bench.keep_freed_memory()  # a second call is a no-op

    def bowl(t: torch.Tensor) -> torch.Tensor:
        return (t**2).sum()

    theta = torch.tensor([0.5, -1.0])
    d1, d2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    grid = torch.linspace(-1, 1, 9)  # 81 points: more than one chunk
    surface = loss_surface(bowl, theta, d1, d2, grid, grid)
    expected = (0.5 + grid)[:, None] ** 2 + (-1.0 + grid)[None, :] ** 2
    torch.testing.assert_close(surface, expected)


@pytest.mark.slow
def test_bench_scale_grades_every_kind_of_submission(tmp_path: Path) -> None:
    """Five synthetic submissions of the fixture course, one of each kind, through the
    pool: every one imported (by the workers), scores agree, the full one scores highest."""
    out = tmp_path / "scale.json"
    proc = _run(
        "bench_scale.py", "-n", "5", "--source", "fixture", "--no-dask", "--json", str(out),
        timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (pool, coordinator) = json.loads(out.read_text())
    assert pool["mode"] == "pool" and coordinator["mode"] == "pool, coordinator import"
    assert pool["submissions"] == pool["imported"] == 5
    assert pool["worker_import_per_submission"] > 0
    assert pool["feedback_seconds_per_submission"] > 0
    assert coordinator["worker_import_per_submission"] == 0
    assert pool["scores"] == coordinator["scores"]
    by_kind = {student.split("-", 1)[1]: score for student, score in pool["scores"].items()}
    assert by_kind["full"] == max(by_kind.values()) > 0
    assert by_kind["broken"] == by_kind["missing"] == 0
    assert by_kind["partial"] < by_kind["full"] and by_kind["wrong"] < by_kind["full"]
    assert "scores identical across configurations: True" in proc.stdout


def test_bench_scale_rejects_bad_arguments() -> None:
    proc = _run("bench_scale.py", "-n", "0", timeout=60)
    assert proc.returncode == 2 and "at least 1" in proc.stderr
