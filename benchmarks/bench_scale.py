"""Benchmark `autograder grade` at class scale: N synthetic submissions, process pool vs Dask.

Builds a temporary nbgrader course (``--source repo``: the course's four notebooks;
``--source fixture``: the one-notebook test course) and N synthetic submissions, cycling
through realistic kinds:

- ``full``: every solution cell filled in from the instructor's source;
- ``partial``: every second solution cell filled in, the others left as released stubs;
- ``wrong``: all filled in, but one function's body replaced by ``return None``;
- ``broken``: the first notebook is not valid JSON (the others filled in);
- ``missing``: the last notebook was not submitted.

Then grades them, each configuration in a fresh copy of the course:

- ``pool``: the process pool (``autograder grade --workers W``), workers importing into
  private gradebooks and the coordinator merging their rows (the default);
- ``pool, coordinator import``: the same, but the coordinator runs nbgrader's import for
  every submission itself (the way before the workers did it; ``--no-compare`` skips it);
- ``dask``: a LocalCluster of W worker processes (``--dask-local W``); ``--no-dask`` skips it.

For each it prints wall seconds, submissions per minute, and the coordinator's own cost per
submission: the CPU seconds of the coordinating process (its threads included: for Dask's
LocalCluster that is also the scheduler's), and the seconds the coordinator spends on each
result (``gradebook_import`` in the records: merge or import, reading back, saving the
record). Scores must agree across the configurations. Target: the coordinator at most
0.2 s per submission, so that one coordinator can feed 100 workers.

It also times the feedback pages of the pool's course (``autograder feedback`` with W
processes on the coordinator's machine; ``--no-feedback`` skips it).

Usage: ``python benchmarks/bench_scale.py [-n 200] [--workers 2] [--source repo|fixture]
[--no-dask] [--no-compare] [--no-feedback] [--keep] [--json FILE]``. One run per configuration: on a shared
machine other load skews the wall times (not the coordinator's CPU much).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grading import ASSIGNMENT, build_course, filled_release

KINDS = ("full", "partial", "wrong", "broken", "missing")
TARGET_COORDINATOR_SECONDS = 0.2


def _solution_ids(source_nb: Path) -> list[str]:
    import nbformat

    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in nbformat.read(source_nb, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]


def synthetic(course: Path, notebooks: list[Path], kind: str, index: int) -> dict[str, Any]:
    """One submission of `kind`: notebook file name -> notebook (or text, when broken)."""
    import nbformat

    release = {
        nb.name: nbformat.read(course / "assignments" / ASSIGNMENT / nb.name, as_version=4)
        for nb in notebooks
    }
    files: dict[str, Any] = {nb.name: filled_release(course, nb) for nb in notebooks}
    if kind == "partial":  # the first, third, ... solution cell of each notebook left a stub
        for nb in notebooks:
            stubs = {
                c.metadata["nbgrader"]["grade_id"]: c.source
                for c in release[nb.name].cells
                if c.metadata.get("nbgrader", {}).get("solution")
            }
            solved = [
                c
                for c in files[nb.name].cells
                if c.metadata.get("nbgrader", {}).get("grade_id") in stubs
            ]
            for cell in solved[::2]:
                cell.source = stubs[cell.metadata["nbgrader"]["grade_id"]]
    elif kind == "wrong":
        candidates = [(nb, gid) for nb in notebooks for gid in _solution_ids(nb)]
        if candidates:
            nb, gid = candidates[index % len(candidates)]
            for cell in files[nb.name].cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
                    cell.source = cell.source.replace("return ", "return None and ", 1)
    elif kind == "broken":
        files[notebooks[0].name] = '{"cells": [{"cell_type": "code", '
    elif kind == "missing" and len(notebooks) > 1:
        del files[notebooks[-1].name]
    elif kind == "missing":
        files = {"notes.txt": "forgot the notebook"}
    return files


def add_submissions(course: Path, notebooks: list[Path], n: int) -> dict[str, str]:
    """N submissions cycling through KINDS; returns student -> kind."""
    import nbformat

    kinds: dict[str, str] = {}
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        student = f"s{i:04d}-{kind}"
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, content in synthetic(course, notebooks, kind, i).items():
            if isinstance(content, str):
                (folder / name).write_text(content)
            else:
                nbformat.write(content, folder / name)
        (folder / "timestamp.txt").write_text("2026-11-20 13:05:12.000000 UTC")
        kinds[student] = kind
    return kinds


def _own_cpu() -> float:
    """CPU seconds of this process (all its threads), not of its children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def run(course: Path, workers: int, mode: str) -> dict[str, Any]:
    from autograder.pipeline.grade import main
    from autograder.pipeline.records import load_records

    options: dict[str, Any] = {
        "course_dir": course,
        "workers": workers,
        "progress": True,
        "feedback": False,
        "export": False,
        "out": None,
        "import_on_workers": mode != "pool, coordinator import",  # not auto: a bigger machine
        # with 2 workers would import on the coordinator
    }
    t0, c0 = time.perf_counter(), _own_cpu()
    if mode == "dask":
        from autograder.pipeline.cluster import dask_executor_factory

        with dask_executor_factory(local_workers=workers, out=None) as factory:
            records = main(executor_factory=factory, **options)
    else:
        records = main(**options)
    wall, cpu = time.perf_counter() - t0, _own_cpu() - c0
    saved = load_records(course, ASSIGNMENT)
    n = max(1, len(records))
    on_result = sum(r.phases.get("gradebook_import", 0.0) for r in saved) / n
    worker_rows = sum(r.phases.get("gradebook_rows", 0.0) for r in saved) / n
    return {
        "mode": mode,
        "submissions": len(records),
        "imported": sum(r.imported for r in records),
        "wall_seconds": round(wall, 1),
        "per_minute": round(60.0 * len(records) / wall, 2),
        "coordinator_cpu_per_submission": round(cpu / n, 3),
        "coordinator_on_result_per_submission": round(on_result, 3),
        "worker_import_per_submission": round(worker_rows, 3),
        "scores": {r.student: r.score for r in records},
        "statuses": {r.student: r.status for r in records},
    }


def time_feedback(course: Path, workers: int) -> float:
    """Seconds per graded student of `autograder feedback` with `workers` processes."""
    from autograder.pipeline.feedback import generate
    from autograder.pipeline.records import load_records

    students = [r.student for r in load_records(course, ASSIGNMENT) if r.imported]
    t0 = time.perf_counter()
    generate(course, students, assignment=ASSIGNMENT, workers=workers)
    return round((time.perf_counter() - t0) / max(1, len(students)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="synthetic submissions (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="pool processes / Dask workers")
    parser.add_argument("--source", choices=("repo", "fixture"), default="repo")
    parser.add_argument("--no-dask", action="store_true", help="skip the LocalCluster row")
    parser.add_argument(
        "--no-compare", action="store_true", help="skip the row importing on the coordinator"
    )
    parser.add_argument(
        "--no-feedback",
        action="store_true",
        help="skip timing the feedback pages (generated on the coordinator's machine)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.n < 1 or args.workers < 1:
        parser.error("-n and --workers must be at least 1")
    if not args.no_dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            parser.error("Dask is not installed: pip install -e '.[dask]', or pass --no-dask")

    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = []
    try:
        base, notebooks = build_course(root, args.source)
        modes = ["pool"]
        if not args.no_compare:
            modes.append("pool, coordinator import")
        if not args.no_dask:
            modes.append("dask")
        print(
            f"{args.n} synthetic submissions of {args.source} "
            f"({', '.join(nb.name for nb in notebooks)}), kinds {', '.join(KINDS)}; "
            f"{args.workers} workers",
            flush=True,
        )
        for mode in modes:
            course = root / mode.replace(" ", "_").replace(",", "")
            shutil.copytree(base, course)
            kinds = add_submissions(course, notebooks, args.n)
            result = run(course, args.workers, mode)
            result["kinds"] = kinds
            if mode == "pool" and not args.no_feedback:
                result["feedback_seconds_per_submission"] = time_feedback(course, args.workers)
            results.append(result)
            print(
                f"  {mode:<26} {result['wall_seconds']:8.1f} s wall "
                f"{result['per_minute']:7.2f} subm/min",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"courses kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    print()
    print(
        f"{'configuration':<28}{'subm/min':>9}{'coord CPU s/subm':>18}"
        f"{'coord on-result s/subm':>24}{'worker import s/subm':>22}"
    )
    for r in results:
        print(
            f"{r['mode']:<28}{r['per_minute']:9.2f}{r['coordinator_cpu_per_submission']:18.3f}"
            f"{r['coordinator_on_result_per_submission']:24.3f}"
            f"{r['worker_import_per_submission']:22.3f}"
        )
    first = results[0]
    agree = all(r["scores"] == first["scores"] for r in results)
    imported = all(r["imported"] == r["submissions"] for r in results)
    by_kind: dict[str, set[float]] = {}
    for student, kind in first["kinds"].items():
        by_kind.setdefault(kind, set()).add(first["scores"][student])
    print(
        f"\nscores identical across configurations: {agree}; every submission imported: {imported}"
    )
    print("scores by kind: " + "; ".join(f"{k} {sorted(v)}" for k, v in by_kind.items()))
    if "feedback_seconds_per_submission" in first:
        print(
            f"feedback pages (pool course, {args.workers} processes on the coordinator's machine): "
            f"{first['feedback_seconds_per_submission']:.2f} s per submission"
        )
    pool = first["coordinator_on_result_per_submission"]
    verdict = "met" if pool <= TARGET_COORDINATOR_SECONDS else "NOT met"
    print(
        f"target: coordinator at most {TARGET_COORDINATOR_SECONDS} s per submission "
        f"(pool, on-result): {pool:.3f} s {verdict}"
    )
    if args.json:
        for r in results:
            r.pop("kinds", None)
        args.json.write_text(json.dumps(results, indent=2))
    if not (agree and imported):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
