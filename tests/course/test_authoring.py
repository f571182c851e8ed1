"""The authoring scripts and the committed source notebooks agree.

Each ``autograder/authoring/gen_0N.py`` writes its source notebook, reading the hidden-check
parts (and their descriptions) from the registry. A change to the checks without rerunning
the script leaves the committed notebook stale; this test says which one to regenerate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = {
    "01": "01_mode_connectivity.ipynb",
    "02": "02_landscape_geometry.ipynb",
    "03": "03_lottery_tickets.ipynb",
    "04": "04_quiz.ipynb",
}


@pytest.mark.parametrize("number", sorted(NOTEBOOKS))
def test_script_regenerates_the_committed_notebook(number: str, tmp_path: Path) -> None:
    out = tmp_path / NOTEBOOKS[number]
    script = REPO / "autograder" / "authoring" / f"gen_{number}.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    committed = REPO / "source" / "landscapes" / NOTEBOOKS[number]
    assert out.read_bytes() == committed.read_bytes(), (
        f"source/landscapes/{NOTEBOOKS[number]} is out of date: run "
        f"python autograder/authoring/gen_{number}.py && autograder build --course-dir ."
    )
