"""Consecutive hidden test cells run as one execution (SandboxRunner.batch): the same
verdicts as one cell at a time, and when the kernel stops midway, the cell it stopped in is
blamed, the cells before keep their verdicts and the ones after are not run.

The tiny assignment's `running_total` has three parts; its three hidden cells follow the
answer cell, so they form one batch.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.pipeline import sandboxed
from autograder.pipeline.limits import MIB, Limits
from autograder.pipeline.runner import (
    KERNEL_DIED_ENAME,
    NOT_RUN_ENAME,
    OUTPUT_LIMIT_ENAME,
    TIMEOUT_ENAME,
)
from autograder.sandbox.probe import MIME_TYPE

TINY_SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"
TINY_SPEC = TINY_SPEC / "assignment.toml"
PARTS = ("basic", "no_mutation", "random")

pytestmark = pytest.mark.skipif(
    not sandboxed.sandbox_available(), reason="needs a sandbox with a private file system"
)


def _hidden(part: str):
    cell = new_code_cell(
        "from autograder.checks import check_function\n"
        f'check_function("running_total", running_total, part="{part}")'
    )
    cell.metadata["nbgrader"] = {
        "grade": True, "solution": False, "locked": True, "points": 1,
        "grade_id": f"test_running_total_{part}", "schema_version": 3,
    }  # fmt: skip
    return cell


def _notebook(answer: str):
    return new_notebook(
        cells=[new_code_cell(textwrap.dedent(answer)), *(_hidden(p) for p in PARTS)]
    )


def _run(answer: str, tmp_path: Path, name: str, *, wall: float = 60.0, output: int = MIB):
    scratch = tmp_path / name
    (scratch / ".tmp").mkdir(parents=True)
    limits = Limits(wall_seconds=wall, output_bytes=output)
    return sandboxed.execute_notebook_sandboxed(
        _notebook(answer), scratch, limits, spec=str(TINY_SPEC), case_seed=3
    )


def _verdicts(run) -> dict[str, list[str]]:
    """Per hidden cell: the error names of its outputs ([] = passed)."""
    return {
        part: [o.get("ename", o.get("output_type")) for o in cell.outputs]
        for part, cell in zip(PARTS, run.nb.cells[1:])
    }


CORRECT = """
def running_total(xs):
    out, total = [], 0
    for x in xs:
        total += x
        out.append(total)
    return out
"""
# right on hand-made lists, wrong on random ones, and it sorts its input in place
WRONG = """
def running_total(xs):
    xs.sort()
    out, total = [], 0
    for x in xs:
        total += round(x)
        out.append(total)
    return out
"""


@pytest.mark.parametrize("answer", [CORRECT, WRONG], ids=["correct", "wrong"])
def test_a_batch_gives_the_verdicts_of_one_cell_at_a_time(
    answer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = _run(answer, tmp_path, "batched")
    monkeypatch.setattr(sandboxed.SandboxRunner, "batch", lambda self, order, pos: [order[pos]])
    alone = _run(answer, tmp_path, "alone")
    assert batched.status == alone.status == "graded", (batched.reasons, alone.reasons)
    for got, want in zip(batched.nb.cells, alone.nb.cells):
        assert got.outputs == want.outputs
    verdicts = _verdicts(batched)
    if answer == CORRECT:
        assert verdicts == {p: [] for p in PARTS}
    else:
        assert verdicts["random"] and verdicts["no_mutation"], verdicts


def test_a_kernel_dying_midway_blames_its_cell_and_keeps_the_ones_before(tmp_path: Path) -> None:
    answer = CORRECT.replace(
        "def running_total(xs):\n",
        "def running_total(xs):\n    if xs == [4, 3, 2, 1]:  # the no_mutation part's list\n"
        "        import os; os._exit(3)\n",
    )
    run = _run(answer, tmp_path, "dies")
    assert run.status == "kernel_died", run.reasons
    assert "test_running_total_no_mutation" in " ".join(run.reasons), run.reasons
    assert _verdicts(run) == {"basic": [], "no_mutation": [KERNEL_DIED_ENAME],
                              "random": [NOT_RUN_ENAME]}  # fmt: skip


def test_the_wall_limit_midway_stops_the_batch_at_the_cell_it_reached(tmp_path: Path) -> None:
    answer = CORRECT.replace(
        "def running_total(xs):\n",
        "def running_total(xs):\n    if xs == [4, 3, 2, 1]:\n        import time; time.sleep(8)\n",
    )
    run = _run(answer, tmp_path, "slow", wall=4)
    assert run.status == "timeout", run.reasons
    assert _verdicts(run) == {"basic": [], "no_mutation": [TIMEOUT_ENAME],
                              "random": [NOT_RUN_ENAME]}  # fmt: skip


def test_the_records_of_a_batch_do_not_count_against_the_students_output_limit(
    tmp_path: Path,
) -> None:
    """A wrong answer whose records are large (the value it returned) is judged, not cut
    off by the 1 KiB output limit: records have a budget of their own."""
    answer = "def running_total(xs):\n    return list(range(20_000))\n"
    run = _run(answer, tmp_path, "big", output=1024)
    assert run.status == "graded", run.reasons
    verdicts = _verdicts(run)
    assert all(verdicts[p] for p in PARTS), verdicts
    assert not any(OUTPUT_LIMIT_ENAME in names for names in verdicts.values()), verdicts


def test_forged_records_beyond_the_batchs_budget_stop_the_kernel(tmp_path: Path) -> None:
    """Records the student's code publishes itself count against the batch's record budget
    (the sum of its cells'): flooding it stops the kernel in the cell that was running
    instead of running on to the wall-time limit."""
    answer = CORRECT.replace(
        "def running_total(xs):\n",
        "def running_total(xs):\n"
        "    if xs == [4, 3, 2, 1]:\n"
        "        from IPython.display import publish_display_data\n"
        "        while True:\n"
        f"            publish_display_data({{{MIME_TYPE!r}: {{'nonce': 'x' * 2**20}}}})\n",
    )
    run = _run(answer, tmp_path, "flood")
    assert run.status == "output_limit", run.reasons
    assert _verdicts(run) == {"basic": [], "no_mutation": [OUTPUT_LIMIT_ENAME],
                              "random": [NOT_RUN_ENAME]}  # fmt: skip
