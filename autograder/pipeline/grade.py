"""The coordinator of `autograder grade`: parallel execution, then serial gradebook import.

Phase 1 (parallel): one :class:`~autograder.pipeline.worker.GradeJob` per submission goes
through a ``concurrent.futures`` executor (a process pool by default; any executor with
``submit`` works, e.g. Dask's) to :func:`~autograder.pipeline.worker.grade_submission`,
which normalises, executes under limits and stages the executed notebooks.

Phase 2 (as each result arrives, one at a time): nbgrader's own ``Autograde`` converter
imports the staged notebooks into the gradebook, with its ``Execute`` preprocessor replaced
(:mod:`.nbimport`: outputs replayed, not executed again), so formgrader, ``nbgrader
generate_feedback`` and ``nbgrader export`` keep working. The workers run that import
themselves on a private copy of the gradebook and this process only merges their rows
(:mod:`.worker_import`: milliseconds instead of seconds per submission); when that is not
possible, this process runs it, on the staging folder
(``<course>/.autograder/staging/<student>/<assignment>/``), never the instructor's
``submitted/``. Only this process writes the gradebook.

Each record is saved to ``<course>/.autograder/records/<student>.json`` (see
:mod:`.records`); :func:`main` returns them.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from autograder.errors import GradingError, PipelineError

from . import regrade as by_diff
from .cache import course_key, grading_key, submission_key
from .course import open_course
from .limits import Limits
from .nbimport import (
    ReplayExecution,
    _course_dirs,
    _ensure_path,
    import_submission,
)
from .normalize import TrustedCell
from .portable import grade_packed, pack, unpack
from .records import STATE_DIR, SubmissionRecord, load_records, save_record
from .secret import case_seed_of, ensure_secret, fingerprint
from .warm import start_worker
from .worker import GradeJob
from .worker_import import (
    ImportKit,
    ImportResult,
    connect,
    grade_and_import,
    make_template,
    merge,
    read_timestamp,
    sqlite_path,
    stage_for_import,
    student_rows,
    submission_scores,
    with_kit,
    write_autograded,
)

STAGING = "staging"

# ---- course access --------------------------------------------------------------------------


def load_config(course_dir: Path) -> Any:
    """The course's nbgrader config with ``CourseDirectory.root`` set to `course_dir`."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = course_dir / "nbgrader_config.py"
    if not path.is_file():
        raise GradingError(f"{course_dir} is not an nbgrader course dir: no nbgrader_config.py")
    cfg = PyFileConfigLoader(path.name, path=str(course_dir)).load_config()
    out = Config()
    out.merge(cfg)
    out.CourseDirectory.root = str(course_dir)
    return out


def trusted_cells(db_url: str, assignment: str) -> dict[str, dict[str, dict[str, Any]]]:
    """notebook → grade id → :class:`TrustedCell` dict, from the gradebook's source cells."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, dict[str, dict[str, Any]]] = {}
    with Gradebook(db_url) as gb:
        try:
            assignment_row = gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(
                f"assignment {assignment!r} is not in the gradebook: run `nbgrader "
                f"generate_assignment {assignment}` (or `autograder build`) first"
            ) from None
        for notebook in sorted(assignment_row.notebooks, key=lambda n: n.name):
            grades = {c.name: float(c.max_score) for c in notebook.grade_cells}
            solutions = {c.name for c in notebook.solution_cells}
            out[notebook.name] = {
                c.name: TrustedCell(
                    grade_id=c.name,
                    cell_type=c.cell_type,
                    source=c.source,
                    locked=bool(c.locked),
                    checksum=c.checksum,
                    grade=c.name in grades,
                    solution=c.name in solutions,
                    points=grades.get(c.name),
                ).to_dict()
                for c in notebook.source_cells
            }
    if not out:
        raise GradingError(f"assignment {assignment!r} has no notebooks in the gradebook")
    return out


def find_submissions(submitted: Path, assignment: str) -> list[str]:
    """Student ids with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    if not submitted.is_dir():
        return []
    return sorted(
        p.name
        for p in submitted.iterdir()
        if (p / assignment).is_dir() and not p.name.startswith(".")
    )


# ---- phase 2 ---------------------------------------------------------------------------------


def read_back(db_url: str, record: SubmissionRecord) -> None:
    """Update the record's items with the gradebook's scores (the authority after import)."""
    scores = _gradebook_scores(db_url, record.assignment, record.student)
    for nb_record in record.notebooks:
        grades = scores.get(nb_record.name)
        if grades is None:
            nb_record.reasons.append("not found in the gradebook after import")
            continue
        for item in nb_record.items:
            if item.grade_id not in grades:
                continue
            auto, manual = grades[item.grade_id]
            score = manual if manual is not None else auto
            if item.kind == "manual":
                item.points = None if score is None else float(score)
            elif score is not None and float(score) != item.points:
                nb_record.reasons.append(
                    f"item '{item.grade_id}': gradebook score {float(score):g} differs "
                    f"from the executed notebook's {item.points:g}; the gradebook's kept"
                )
                item.points = float(score)
        nb_record.recompute_score()


def _gradebook_scores(
    db_url: str, assignment: str, student: str
) -> dict[str, dict[str, tuple[float | None, float | None]]]:
    """notebook -> grade id -> (auto score, manual score) of one submission: one SQL query
    for an SQLite gradebook (:func:`.worker_import.submission_scores`; nbgrader's ORM took
    about 0.3 s per submission), nbgrader's API for any other database."""
    db = sqlite_path(db_url)
    if db is not None:
        return submission_scores(db, assignment, student)
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return out
        for nb in submission.notebooks:
            out[nb.name] = {g.name: (g.auto_score, g.manual_score) for g in nb.grades}
    return out


# ---- the coordinator ----------------------------------------------------------------------


def default_executor(
    workers: int, spec_path: str | None = None, *, sandbox: bool = True, warm: bool = True
) -> cf.Executor:
    """A process pool of `workers` processes (spawned: no inherited threads or torch state).
    With `spec_path`, each process gets ready as it starts (:func:`~.warm.start_worker`:
    its zygote imports the kernels' libraries while it imports the assignment's checks)."""
    warm_up = {"initializer": start_worker, "initargs": (spec_path, sandbox, warm)}
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        **(warm_up if spec_path is not None else {}),
    )


def _error_record(job: GradeJob, message: str) -> SubmissionRecord:
    return SubmissionRecord(
        student=job.student, assignment=job.assignment, status="error", reasons=[message]
    )


def _run_jobs(
    jobs: Sequence[GradeJob],
    workers: int,
    executor_factory: Callable[[int], cf.Executor] | None,
    on_result: Callable[[GradeJob, SubmissionRecord, ImportResult | None], None],
    import_on_workers: bool | None = None,
) -> None:
    """Run every job, calling `on_result` in this thread as each one finishes. A crashed
    worker pool is replaced and its unfinished jobs resubmitted once; a job that crashes
    its worker twice gets an error record.

    At most twice the executor's capacity is in flight at a time, so an executor whose jobs
    carry their files (a Dask cluster: ``ships_files``, :mod:`.portable`) never holds the
    whole class in memory."""
    factory = executor_factory or default_executor
    pending = list(jobs)
    attempts: dict[str, int] = {}
    while pending:
        executor = factory(workers)
        ships = bool(getattr(executor, "ships_files", False))
        capacity = max(1, int(getattr(executor, "capacity", workers)))
        window = 2 * capacity
        kits = import_on_workers
        if kits is None:  # auto: here when a core is left over for this process
            kits = ships or capacity >= (os.cpu_count() or 1)
        broken: list[GradeJob] = []
        queue = list(pending)
        running: dict[cf.Future, GradeJob] = {}
        pool_broken = False
        closer: threading.Thread | None = None
        try:
            while queue or running:
                while queue and len(running) < window and not pool_broken:
                    job = queue[0] if kits else dataclasses.replace(queue[0], phase2=None)
                    try:
                        if ships:
                            future = executor.submit(grade_packed, pack(job))
                        else:
                            future = executor.submit(grade_and_import, job)
                    except BrokenProcessPool:
                        pool_broken = True
                        break
                    running[future] = queue.pop(0)
                if not running:
                    break
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                if not queue and len(done) == len(running) and closer is None:
                    # nothing more goes to this executor: its workers shut down (a process
                    # ends its zygote, its interpreter tears down) beside the last imports
                    closer = threading.Thread(
                        target=executor.shutdown, name="ag-pool-shutdown", daemon=True
                    )
                    closer.start()
                for future in done:
                    job = running.pop(future)
                    phase2 = None
                    try:
                        result = future.result()
                        record = unpack(job, result) if ships else result.record
                        phase2 = result.phase2
                    except BrokenProcessPool:
                        pool_broken = True
                        attempts[job.student] = attempts.get(job.student, 0) + 1
                        if attempts[job.student] < 2:
                            broken.append(job)
                            continue
                        record = _error_record(job, "the grading worker crashed twice")
                    except Exception as exc:
                        record = _error_record(
                            job, f"grading worker failed: {type(exc).__name__}: {exc}"
                        )
                    on_result(job, record, phase2)
        finally:
            if closer is not None:
                closer.join()
            executor.shutdown(wait=True, cancel_futures=True)
        pending = broken + queue  # the queue was never submitted: not an attempt


def main(
    *,
    course_dir: str | os.PathLike[str],
    students: Iterable[str] | None = None,
    regrade: bool = False,
    workers: int | None = None,
    limits: Limits | None = None,
    progress: bool = True,
    feedback: bool = True,
    export: bool = True,
    executor_factory: Callable[[int], cf.Executor] | None = None,
    sandbox: bool = True,
    assignment: str | None = None,
    fixed_cases: bool = False,
    full: bool = False,
    warm: bool = True,
    force: bool = False,
    dry_run: bool = False,
    apply: bool = False,
    never_lower: bool = False,
    import_on_workers: bool | None = None,
    out: Callable[[str], None] | None = print,
) -> list[SubmissionRecord]:
    """Grade submissions of one assignment of `course_dir`; return their records.

    Args:
        course_dir: an nbgrader course dir (nbgrader_config.py, gradebook with the assignment,
            the release, ``submitted/<student>/<assignment>/``).
        assignment: the assignment id (default: the course's only assignment).
        students: student ids to grade; None: every submission without a complete record
            (not graded yet, or its run was killed before the record was saved) or
            resubmitted since its record (all of them when `regrade`).
        regrade: with ``students=None``, grade submissions already graded too.
        workers: parallel submissions (default: the number of CPU cores).
        limits: execution limits per notebook (default: :class:`Limits`()).
        progress: show a progress bar with ETA on stderr.
        feedback: afterwards generate the graded students' feedback pages
            (:func:`autograder.pipeline.feedback.generate`).
        export: afterwards export the grades (:func:`autograder.pipeline.export.write`).
        executor_factory: ``workers -> concurrent.futures.Executor`` (default: a spawned
            process pool); lets a Dask executor replace the pool.
        sandbox: run each kernel in the sandbox with the hidden tests judged outside it
            (:mod:`autograder.pipeline.sandboxed`); False: the plain executor.
        fixed_cases: grade everyone on the fixed hidden cases (those a student's machine
            sees) instead of per-student cases drawn from the course secret
            (:mod:`autograder.pipeline.secret`, created when missing).
        full: run every cell, demonstrations too, as nbgrader does (slower; the feedback
            pages then show the student's figures); False: grade-only execution.
        warm: fork the sandboxed kernels from a zygote per worker that has imported the
            heavy libraries once (:mod:`autograder.sandbox.zygote`); False: cold kernels.
        force: execute every chosen submission, even one whose complete record was graded
            from the same files, checks, reference, release and environment (default: such
            a record is kept and the submission is not executed again; :mod:`.cache`).
        dry_run: grade without touching the gradebook or the records: the new records wait
            as pending (:mod:`.regrade`), and ``exports/<id>/regrade.csv`` with a summary
            says how each student's points would change; no feedback, no export.
        apply: like a normal run, but a pending record of a dry run whose grading key still
            matches is imported without executing again; the change table is written too.
        never_lower: after the import, keep each item's earlier points where the new ones
            are lower (a manual score in the gradebook); like `apply`, it imports a dry
            run's pending records, and writes the change table.
        import_on_workers: True: the workers also run nbgrader's import, each on a private
            copy of the gradebook, and this process merges their rows
            (:mod:`.worker_import`; SQLite gradebooks); False: this process imports every
            submission itself; None (default): the workers do when their jobs carry their
            files (a cluster) or fill every core of this machine, and this process does when
            a core is left for it (its import then overlaps the workers' execution).
        out: where notes go (the secret created, feedback pages withheld); None: nowhere.

    Raises:
        GradingError: the course cannot be graded (no config, assignment not in the
            gradebook, release notebooks missing).
    """
    if dry_run and (apply or never_lower):
        raise GradingError("--dry-run only reports; --apply and --never-lower write the grades")
    _ensure_path()
    course = Path(course_dir).resolve()
    cfg = load_config(course)
    dirs = _course_dirs(cfg)
    try:
        opened = open_course(course, assignment)
    except PipelineError as exc:
        raise GradingError(str(exc)) from None
    spec = opened.spec
    assignment = spec.id
    submitted_root = Path(dirs.format_path(dirs.submitted_directory, ".", ".")).resolve()
    release = Path(dirs.format_path(dirs.release_directory, ".", assignment)).resolve()
    trusted = trusted_cells(dirs.db_url, assignment)
    for name in trusted:
        if not (release / f"{name}.ipynb").is_file():
            raise GradingError(
                f"release notebook {release / (name + '.ipynb')} is missing: "
                "generate the release first"
            )

    available = find_submissions(submitted_root, assignment)
    saved = {r.student: r for r in load_records(course, assignment) if r.imported}
    previous = {s: r for s, r in saved.items() if r.cache_keys}  # complete, with hashes
    submission_keys = {s: submission_key(submitted_root / s / assignment) for s in available}
    if students is not None:
        wanted = list(dict.fromkeys(students))
        unknown = [s for s in wanted if s not in available]
        if unknown:
            raise GradingError(f"no submission of {', '.join(unknown)} in {submitted_root}")
        chosen = wanted
    elif regrade:
        chosen = available
    else:
        # not graded yet (no complete record: a run killed before this student's record was
        # saved counts as not graded), or resubmitted since
        chosen = [
            s
            for s in available
            if (s in previous and previous[s].cache_keys.get("submission") != submission_keys[s])
            or s not in saved  # (a complete record from before cache keys is kept)
        ]

    if fixed_cases:
        secret, cases_label = None, "fixed"
    else:
        secret = ensure_secret(course, out)
        cases_label = f"per-student (secret {fingerprint(secret)})"
    limits = limits or Limits()
    workers = max(1, min(workers or os.cpu_count() or 1, len(chosen) or 1))
    staging_root = course / STATE_DIR / STAGING
    course_hash = course_key(spec)
    by_difference = dry_run or apply or never_lower
    old_points = by_diff.gradebook_points(dirs.db_url, assignment, chosen) if by_difference else {}
    jobs = []
    ready: list[tuple[GradeJob, SubmissionRecord]] = []  # a dry run's records to import
    grading_keys: dict[str, str] = {}
    reused: dict[str, SubmissionRecord] = {}
    for student in chosen:
        job = GradeJob(
            student=student,
            assignment=assignment,
            submission_dir=str(submitted_root / student / assignment),
            release_dir=str(release),
            notebooks=tuple(trusted),
            trusted_cells=trusted,
            staging_dir=str(staging_root / student / assignment),
            limits=limits,
            sandbox=sandbox,
            spec_path=str(spec.path),
            case_seed=case_seed_of(secret, assignment, student),
            full=full,
            warm=warm,
        )
        grading_keys[student] = grading_key(job, course_hash, submission_keys[student])
        earlier = previous.get(student)
        if (
            not force
            and earlier is not None
            and earlier.cache_keys.get("grading") == grading_keys[student]
        ):
            reused[student] = earlier  # same files, checks, release and environment
            continue
        pending = by_diff.load_pending(course, assignment, student) if by_difference else None
        if (
            pending is not None
            and not force
            and pending.cache_keys.get("grading") == grading_keys[student]
            and all((Path(job.staging_dir) / f"{n}.ipynb").is_file() for n in job.notebooks)
        ):
            ready.append((job, pending))  # graded by the dry run: import it as it is
            continue
        shutil.rmtree(job.staging_dir, ignore_errors=True)
        Path(job.staging_dir).mkdir(parents=True)
        jobs.append(job)
    if import_on_workers is not False and jobs and not dry_run:
        jobs = _with_import_kits(jobs, course, cfg, dirs)
    if reused and out:
        out(
            f"{len(reused)} submission(s) unchanged since they were graded (same files, "
            "checks, reference, release and environment): records kept, not executed again "
            "(--force executes them)"
        )

    records: dict[str, SubmissionRecord] = dict(reused)
    bar = _progress(len(jobs) + len(ready), progress)

    def on_result(
        job: GradeJob, record: SubmissionRecord, phase2: ImportResult | None = None
    ) -> None:
        record.cases = cases_label
        record.cache_keys = {
            "submission": submission_keys[job.student],
            "grading": grading_keys[job.student],
        }
        if dry_run:  # nothing of the gradebook or the records changes
            by_diff.save_pending(course, record)
            records[job.student] = record
            if bar is not None:
                bar.update(1)
            return
        started = time.monotonic()
        if record.status != "error" or record.notebooks:
            # until the import is done and the record saved again, this student has no
            # complete record: a coordinator killed in between leaves them to the next run
            save_record(course, record)
            problems = _merge_worker_import(job, phase2, dirs)
            if problems is None:  # not imported on the worker: import here
                try:
                    _stage_extras(job)
                    problems = import_submission(course, cfg, job.student, assignment, staging_root)
                except Exception as exc:  # never let one import stop the others
                    problems = [f"gradebook import failed: {type(exc).__name__}: {exc}"]
            if problems:
                record.reasons.extend(problems)
                record.status = "error"
            else:
                record.imported = True
                try:
                    read_back(dirs.db_url, record)
                except Exception as exc:
                    record.reasons.append(f"reading the gradebook back failed: {exc}")
                if never_lower:
                    by_diff.keep_higher(dirs.db_url, record, old_points.get(job.student, {}))
                record.update_status()
            record.phases["gradebook_import"] = round(time.monotonic() - started, 3)
        save_record(course, record)
        by_diff.drop_pending(course, assignment, job.student)
        records[job.student] = record
        if bar is not None:
            bar.set_postfix_str(f"{job.student}: {record.status}", refresh=False)
            bar.update(1)

    try:
        for job, pending in ready:
            on_result(job, pending)
        if jobs:
            factory = executor_factory or functools.partial(
                default_executor, spec_path=str(spec.path), sandbox=sandbox, warm=warm
            )
            prepare = getattr(executor_factory, "prepare_workers", None)
            if prepare is not None:  # e.g. a Dask cluster's: its workers warm up now
                prepare(str(spec.path), sandbox, warm)
            _run_jobs(jobs, workers, factory, on_result, import_on_workers)
    finally:
        if bar is not None:
            bar.close()

    result = [records[s] for s in chosen if s in records]
    if by_difference:
        rows = by_diff.diff_rows(old_points, result)
        table = by_diff.write_diff(opened.exports_dir, rows)
        if out:
            for line in by_diff.summary(rows, applied=not dry_run):
                out(line)
            out(f"regrade: each student's old and new points: {table}")
    if dry_run:
        return result
    graded = [r.student for r in result if r.imported and r.student not in reused]
    if feedback and graded:
        from .feedback import generate

        try:
            withheld = generate(
                course, graded, assignment=assignment, out=out, workers=workers
            ).withheld
        except Exception as exc:  # the grades stand and are exported without feedback
            withheld = {s: [f"feedback not generated: {type(exc).__name__}: {exc}"] for s in graded}
            if out:
                out(f"feedback failed, grades are exported all the same: {exc}")
        for record in result:
            if record.student in withheld:
                record.withheld = list(withheld[record.student])
                save_record(course, record)
    if export and result:
        from .export import write

        write(course, result, assignment=assignment)
    return result


def _stage_extras(job: GradeJob) -> None:
    """Complete the phase-2 input in the staging folder (:func:`.worker_import.stage_for_import`)."""
    staging = Path(job.staging_dir)
    stage_for_import(job, staging, staging, read_timestamp(Path(job.submission_dir)))


def _with_import_kits(jobs: list[GradeJob], course: Path, cfg: Any, dirs: Any) -> list[GradeJob]:
    """The jobs with what their workers need to import them (:mod:`.worker_import`): a
    template of the gradebook, made once, and each student's current rows. Unchanged when the
    gradebook is not an SQLite file."""
    db = sqlite_path(dirs.db_url)
    if db is None or not db.is_file():
        return jobs
    template = make_template(db, course / STATE_DIR / "gradebook-template.db")
    source_dir = str(Path(dirs.root, dirs.source_directory).resolve())
    con = connect(db)
    try:
        return [
            with_kit(
                job,
                ImportKit(
                    config=cfg,
                    source_dir=source_dir,
                    template=str(template),
                    rows=student_rows(con, job.assignment, job.student),
                    timestamp=read_timestamp(Path(job.submission_dir)),
                ),
            )
            for job in jobs
        ]
    finally:
        con.close()


def _merge_worker_import(job: GradeJob, phase2: ImportResult | None, dirs: Any) -> list[str] | None:
    """Put the worker's import of `job` into the gradebook and ``autograded/``: [] when done;
    None when it must be imported here instead (none made, it failed, or the student's rows
    changed meanwhile: a manual grade entered during the run is never overwritten)."""
    db = sqlite_path(dirs.db_url)
    if phase2 is None or phase2.rows is None or job.phase2 is None or db is None:
        return None
    try:
        dest = Path(dirs.format_path(dirs.autograded_directory, job.student, job.assignment))
        write_autograded(dest, phase2.autograded)
        merge(db, job.assignment, job.student, job.phase2.rows, phase2.rows)
    except Exception:  # StaleRows, or anything unexpected: the coordinator's import decides
        return None
    return []


def _progress(total: int, enabled: bool) -> Any:
    if not enabled or total == 0:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(
        total=total,
        unit="submission",
        desc="grading",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )


__all__ = [
    "GradingError",
    "ReplayExecution",
    "default_executor",
    "import_submission",
    "main",
    "trusted_cells",
]
