"""Test-session settings shared by every test module."""

from __future__ import annotations

import os

import matplotlib

# The models here are tiny: with two pytest workers on two cores, PyTorch's thread pool costs
# far more than it gains (a 500-step training run goes from 0.2 s to 13 s). One thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")
matplotlib.use("Agg")

import torch

torch.set_num_threads(1)

# The hidden checks of the course's assignment are loaded once per test process and are the
# default of every registry call that names no assignment (`check_function(name, fn)`).
from pathlib import Path  # noqa: E402

from autograder.checks import registry  # noqa: E402

COURSE_SPEC = registry.set_default_assignment(
    Path(__file__).resolve().parents[1] / "source" / "landscapes"
)

#: Modules that build and grade whole courses (minutes each), slowest first. Under
#: `--dist loadfile` each module runs on one worker, in collection order: starting the long
#: ones first keeps the two workers busy to the end instead of leaving one module running
#: alone after the other worker has run out of work.
SLOW_MODULES = (
    "tests/course/test_notebooks.py",
    "tests/engine/test_pipeline_cli.py",
    "tests/browser/test_jupyterlab.py",
    "tests/engine/test_pipeline_grade.py",
    "tests/engine/test_cheats.py",
    "tests/engine/test_second_assignment.py",
)


def pytest_collection_modifyitems(config, items):
    root = Path(__file__).resolve().parents[1]

    def rank(item) -> int:
        try:
            rel = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        except ValueError:
            return len(SLOW_MODULES)
        return SLOW_MODULES.index(rel) if rel in SLOW_MODULES else len(SLOW_MODULES)

    items.sort(key=rank)  # stable: the order within a module and among the rest is kept
