"""The benchmark scripts still run and the batched methods still agree with their baselines.

Speed is not asserted here (a unit test on a shared 2-core machine would flake); the figures
come from `make bench`. What is asserted: bench_geometry runs every case end to end, prints
one row per case, and exits 0, which it does only if every batched method agrees with its
straightforward baseline (hutchinson and top eigenvalue to 1e-4 relative, the surface sum
likewise).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_bench_grading_help() -> None:
    proc = _run("bench_grading.py", "--help", timeout=60)
    assert proc.returncode == 0 and "nbgrader autograde" in proc.stdout
