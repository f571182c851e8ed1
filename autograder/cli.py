"""The `autograder` command: a thin argparse layer over plain `main(*, ...)` functions.

One subcommand per verb; each calls ``autograder.pipeline.<verb>.main`` with keyword
arguments only. Every verb works on one assignment (``--assignment``, default: the only one)
of an nbgrader course directory given by ``--course-dir`` (default: the current directory).
Problems the user can act on are :class:`autograder.errors.AutograderError`: printed as
``error: ...`` with exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

MIB = 1024 * 1024
KIB = 1024

DESCRIPTION = """\
Grading engine on top of nbgrader: build, validate, collect, grade (sandboxed, in
parallel), feedback, export and report for the assignments of an nbgrader course.
An assignment is a folder source/<id>/ with a spec (assignment.toml: its notebooks, release
files, hidden checks and reference); every verb takes --assignment ID (default: the only
one) and --course-dir DIR (default: the current directory).

The term in commands (run in the course directory, or pass --course-dir):
  autograder selfcheck             the reference passes every hidden check, the stub none
  autograder build                 source notebooks from content, checks, the release, leak check
                                   (creates the course secret on first use: autograder secret)
  autograder validate              solutions score full marks, stubs zero, each notebook in time
  nbgrader release_assignment ID   (publish the release to the exchange)
  autograder collect               collect submissions (nbgrader exchange, or --from-zip FILE)
  autograder grade                 grade new submissions in parallel; feedback; export
  (manual grading in formgrader: the Formgrader tab of JupyterLab in the course dir)
  autograder feedback              regenerate the feedback pages after manual grading
  autograder export                exports/ID/: grades.csv, JSON records, Gradescope results
  autograder report                reports/ID/: pass rates per item, score histogram, slowest
  autograder demo                  the whole pipeline on example submissions, in a temp dir
"""


def _course_dir_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--course-dir",
        metavar="DIR",
        default=os.getcwd(),
        help="the nbgrader course directory (nbgrader_config.py, source/, the release, "
        "gradebook.db, submitted/ ...); default: the current directory",
    )
    parent.add_argument(
        "--assignment",
        metavar="ID",
        default=None,
        help="the assignment (a folder source/ID/ with an assignment.toml); default: the "
        "course's only assignment",
    )
    return parent


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


# ---------------------------------------------------------------------------------------------
# Commands (each one line into the pipeline)


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    from autograder.pipeline import selfcheck

    return selfcheck.main(
        course_dir=args.course_dir, assignment=args.assignment, verbose=not args.quiet
    )


def _cmd_build(args: argparse.Namespace) -> int:
    from autograder.pipeline import build

    return build.main(
        course_dir=args.course_dir, assignment=args.assignment, check_only=args.check_only
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    from autograder.pipeline import validate

    return validate.main(
        course_dir=args.course_dir,
        assignment=args.assignment,
        budget_seconds=args.budget,
        timeout=args.timeout,
        workers=args.workers,
        keep=args.keep,
    )


def _cmd_collect(args: argparse.Namespace) -> int:
    from autograder.pipeline import collect

    return collect.main(
        course_dir=args.course_dir,
        assignment=args.assignment,
        source=args.source,
        zip_file=args.from_zip,
        exchange=args.exchange,
        patterns=args.pattern or (),
    )


def _limits(args: argparse.Namespace):
    from autograder.pipeline.limits import Limits

    defaults = Limits()
    return Limits(
        wall_seconds=args.timeout if args.timeout is not None else defaults.wall_seconds,
        memory_bytes=(
            defaults.memory_bytes
            if args.memory is None
            else None
            if args.memory == 0
            else int(args.memory * MIB)
        ),
        output_bytes=(
            defaults.output_bytes if args.max_output is None else int(args.max_output * KIB)
        ),
    )


def _cmd_grade(args: argparse.Namespace) -> int:
    import contextlib

    from autograder.pipeline import grade, report

    if args.dask_scheduler is not None or args.dask_local is not None:
        from autograder.pipeline.cluster import dask_executor_factory

        executor: Any = dask_executor_factory(
            scheduler=args.dask_scheduler, local_workers=args.dask_local
        )
    else:
        executor = contextlib.nullcontext(None)
    with executor as executor_factory:
        records = grade.main(
            course_dir=args.course_dir,
            assignment=args.assignment,
            students=args.students or None,
            regrade=args.regrade,
            workers=args.workers,
            limits=_limits(args),
            progress=not args.no_progress,
            feedback=not args.no_feedback,
            export=not args.no_export,
            executor_factory=executor_factory,
            sandbox=not args.no_sandbox,
            fixed_cases=args.fixed_cases,
            full=args.full,
            warm=not args.cold_kernels,
            force=args.force,
            dry_run=args.dry_run,
            apply=args.apply,
            never_lower=args.never_lower,
            import_on_workers=False if args.import_here else None,
        )
    if not records:
        print(
            "nothing to grade: every submission is graded already (use --regrade, or name "
            "the students)"
        )
        return 0
    for line in report.grade_table(records):
        print(line)
    withheld = [r for r in records if r.withheld]
    if withheld:
        print(f"feedback withheld for {len(withheld)} student(s) (their grades are exported):")
        for r in withheld:
            for reason in r.withheld:
                print(f"  {r.student}: {reason}")
    errors = [r for r in records if r.status == "error"]
    for r in errors:
        print(f"error: {r.student}: {'; '.join(r.reasons)}", file=sys.stderr)
    return 1 if errors else 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    from autograder.pipeline import feedback

    return feedback.main(
        course_dir=args.course_dir, assignment=args.assignment, students=args.students or None
    )


def _cmd_secret(args: argparse.Namespace) -> int:
    from autograder.pipeline import secret

    return secret.main(course_dir=args.course_dir, new=args.new)


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder.pipeline import export

    return export.main(course_dir=args.course_dir, assignment=args.assignment)


def _cmd_report(args: argparse.Namespace) -> int:
    from autograder.pipeline import report

    return report.main(course_dir=args.course_dir, assignment=args.assignment)


def _cmd_demo(args: argparse.Namespace) -> int:
    from autograder.pipeline import demo

    return demo.main(
        course_dir=args.course_dir,
        assignment=args.assignment,
        workdir=args.workdir,
        timeout=demo.DEMO_TIMEOUT_SECONDS if args.timeout is None else args.timeout,
        workers=args.workers,
        progress=not args.no_progress,
    )


# ---------------------------------------------------------------------------------------------
# The parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    course = _course_dir_parent()

    def add(name: str, help_text: str, description: str, func):
        p = sub.add_parser(name, help=help_text, description=description, parents=[course])
        p.set_defaults(func=func)
        return p

    p = add(
        "selfcheck",
        "verify the reference solutions and hidden checks (seconds)",
        "Print the facts of the assignment's own self-check (e.g. the course text's worked "
        "examples recomputed with the reference solutions), then confirm that every hidden "
        "check accepts the reference and rejects the released stub. Exits non-zero on any "
        "problem.",
        _cmd_selfcheck,
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")

    p = add(
        "build",
        "build the source notebooks from their content, generate the release, leak check",
        "Build the source notebooks from the assignment's content files (its spec's "
        "[content] dir; --check-only: fail if a committed notebook differs instead). "
        "Check every source notebook (nbgrader metadata, unique grade and cell ids, "
        "points on grade cells, hidden-test markers, and that every check_function/"
        "check_answer call names a registered check and part): a problem is reported "
        "with its notebook and cell. Then run `nbgrader generate_assignment ID --force` "
        "(registering the assignment in the gradebook; the spec, content and checks are "
        "never copied), put the spec's release files beside the release, and check every "
        "released file for leaks (anything but the notebooks and release files, solution or "
        "hidden-test markers or lines, check calls, model answers, imports of the engine, "
        "the reference or the checks). Exits non-zero on any problem.",
        _cmd_build,
    )
    p.add_argument(
        "--check-only",
        action="store_true",
        help="only check (the source notebooks match their content, metadata, check calls); "
        "write nothing",
    )

    p = add(
        "validate",
        "grade the solutions and the stubs: full marks, zero, in time",
        "In a temporary copy of the course, grade two submissions with the grading "
        "pipeline: the release with every answer taken from the source, and the release "
        "as it is. Prints per notebook the autograded score of both and the solution's "
        "execution time; exits non-zero if a solution loses a point, a stub earns one, or "
        "a notebook takes longer than the budget.",
        _cmd_validate,
    )
    p.add_argument(
        "--budget",
        type=_positive_float,
        default=None,
        metavar="S",
        help="time budget per solution notebook in seconds (default: the spec's budget_seconds)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="S",
        help="wall limit per notebook (default: twice the budget, at least 120 s)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=2,
        metavar="N",
        help="submissions graded in parallel (default: 2)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary course dir")

    p = add(
        "collect",
        "collect submissions from the nbgrader exchange or an LMS zip",
        "Put submissions into submitted/<student>/<assignment>/. --from exchange (default) "
        "runs `nbgrader collect --update`. --from-zip FILE reads a zip downloaded from an "
        "LMS: file names like hw1_jdoe_attempt_2026-11-20-13-05-12_01_intro.ipynb "
        "(Blackboard) or jdoe_12345_67890_01_intro.ipynb (Canvas); notebook names are matched to the release ignoring case, spaces and "
        "re-upload suffixes; of several versions the latest is kept; the files go through "
        "`nbgrader zip_collect`. Every file not collected is listed with the reason.",
        _cmd_collect,
    )
    p.add_argument(
        "--from",
        dest="source",
        choices=["exchange"],
        default="exchange",
        help="collect from the nbgrader exchange (the default)",
    )
    p.add_argument(
        "--from-zip",
        metavar="FILE",
        default=None,
        help="collect from a zip file downloaded from an LMS instead",
    )
    p.add_argument(
        "--exchange",
        metavar="DIR",
        default=None,
        help="the exchange directory (default: Exchange.root of the nbgrader config)",
    )
    p.add_argument(
        "--pattern",
        metavar="REGEX",
        action="append",
        help="an extra file-name pattern for --from-zip, tried first: a regular "
        "expression with the named groups student_id and file_id (and optionally "
        "timestamp, YYYY-MM-DD-HH-MM-SS); may be repeated",
    )

    p = add(
        "grade",
        "grade submissions in parallel, then feedback and export",
        "Grade every submission in submitted/ not graded yet or resubmitted since (all of them "
        "with --regrade, or the STUDENTs named; a record graded from the same files, checks, "
        "reference, release and environment is kept instead, unless --force; a run that was "
        "killed resumes where it stopped), each in its own process with wall-time, memory and output "
        "limits, in parallel; import the results into the gradebook (formgrader sees them); "
        "then generate feedback (without the hidden tests' code) and export the grades. "
        "Prints the grade table; exits non-zero if a submission could not be graded.",
        _cmd_grade,
    )
    p.add_argument("students", nargs="*", metavar="STUDENT", help="student ids to grade")
    p.add_argument(
        "--regrade",
        action="store_true",
        help="without STUDENTs: grade submissions that were graded before too",
    )
    diff = p.add_mutually_exclusive_group()
    diff.add_argument(
        "--dry-run",
        action="store_true",
        help="with --regrade (or STUDENTs): grade, but leave the gradebook and the records as "
        "they are; write exports/ID/regrade.csv (each student's old and new points, per "
        "changed item) and print how many students would change, by how much, on which items",
    )
    diff.add_argument(
        "--apply",
        action="store_true",
        help="write a regrade: import what the last --dry-run graded (executing again only "
        "what changed since) and write the same table of changes",
    )
    p.add_argument(
        "--never-lower",
        action="store_true",
        help="when regrading, keep each item's earlier points where the new ones are lower "
        "(as a manual score in the gradebook); writes the table of changes too",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="execute the chosen submissions even when a record graded from the same files, "
        "checks, reference, release and environment exists (default: such a record is kept)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="submissions graded in parallel (default: the number of CPU cores)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="S",
        help="wall-time limit per notebook in seconds (default: 300)",
    )
    p.add_argument(
        "--memory",
        type=float,
        default=None,
        metavar="MB",
        help="memory limit per notebook in MiB (default: 4096; 0: no limit)",
    )
    p.add_argument(
        "--max-output",
        type=_positive_float,
        default=None,
        metavar="KB",
        help="output limit per cell in KiB (default: 1024)",
    )
    p.add_argument("--no-feedback", action="store_true", help="do not generate feedback")
    p.add_argument("--no-export", action="store_true", help="do not export grades")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the kernels without the sandbox, hidden tests inside the student's kernel "
        "(default: sandboxed where this machine allows a private file system)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="run every cell as nbgrader does, demonstrations too (default: grade-only: the "
        "release's demonstration cells, which carry no points, are not run)",
    )
    p.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every sandboxed kernel from scratch (default: fork each from a zygote that "
        "imported torch, numpy, matplotlib and ipykernel once per worker; it runs no student "
        "code, and each kernel starts from a fresh interpreter state)",
    )
    p.add_argument(
        "--import-here",
        action="store_true",
        help="run nbgrader's gradebook import of every submission in this process (default: "
        "on a cluster, or when the workers fill every core, each worker imports its "
        "submission into a private copy of an SQLite gradebook and this process merges the "
        "rows, about 2 s less per submission here; with a core left over, this process "
        "imports, overlapping the workers)",
    )
    p.add_argument(
        "--fixed-cases",
        action="store_true",
        help="grade everyone on the fixed hidden cases a student's machine sees (default: "
        "each student's own random cases, drawn from the course secret; see `autograder "
        "secret`)",
    )
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--dask-scheduler",
        metavar="tcp://HOST:PORT",
        default=None,
        help="run the grading of the submissions on this Dask cluster (needs the dask extra: "
        "pip install -c constraints.txt -e '.[dask]'); the gradebook stays here. Workers "
        "need this environment and the course's source at the same path, not the course dir "
        "(submissions travel with each job); start them with --nthreads 1",
    )
    cluster.add_argument(
        "--dask-local",
        type=_positive_int,
        default=None,
        metavar="N",
        help="start a local Dask cluster of N worker processes for this run (the dask extra)",
    )

    p = add(
        "feedback",
        "generate feedback pages (hidden tests' code never shown)",
        "Run `nbgrader generate_feedback` for the STUDENTs named (default: every graded "
        "student), with the hidden tests' code replaced by one comment line and their "
        "tracebacks reduced to the feedback message. Every page is then checked against "
        "the course's hidden material (hidden test cells, model answers, the code of the "
        "checks and the reference), minus what the release and the student's own cells "
        "show: a page that would show some is replaced by a notice and listed, and the "
        "other pages are kept (exit status 3 when a page was withheld). Run it again after "
        "manual grading in formgrader; then `nbgrader release_feedback ID` hands the pages "
        "out through the exchange.",
        _cmd_feedback,
    )
    p.add_argument("students", nargs="*", metavar="STUDENT", help="student ids")

    p = add(
        "secret",
        "show the course secret behind per-student hidden cases, or start a new term",
        "The hidden checks draw each student's random cases from a seed derived from the "
        "course secret (.autograder/case_secret, kept with the gradebook, readable by its "
        "owner only; never in the release, feedback, exports or the repository), the "
        "assignment and the student id. Without options: create the secret if it is missing "
        "and print where it is and its fingerprint. Keep it (and a backup) while this "
        "term's work may be regraded: the same secret gives the same cases.",
        _cmd_secret,
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="a new term: replace the secret by a new one, so every student gets new cases "
        "(the old one is kept beside it as case_secret.<time>.old)",
    )

    add(
        "export",
        "write grades.csv, JSON records and Gradescope results",
        "Write exports/ID/grades.csv (one row per student: every graded item in notebook "
        "order, the notebook totals, the total), exports/ID/records/<student>.json and "
        "exports/ID/gradescope/<student>/results.json, ID being the assignment. Manual "
        "grades and overrides made in formgrader are included.",
        _cmd_export,
    )

    add(
        "report",
        "per-item pass rates, score distribution, slowest submissions",
        "Print the grade table, the pass rate of every graded item, the score distribution "
        "and the slowest submissions; write reports/ID/report.png and reports/ID/report.html.",
        _cmd_report,
    )

    p = add(
        "demo",
        "the whole pipeline on built-in example submissions, in a temp dir",
        "Copy the course's config and source into a new course dir, build the release, "
        "write five example submissions (reference, blank, partial, timeout: a function "
        "that never returns, corrupted: a notebook that is not valid JSON), grade them, "
        "generate feedback, export and report; print the grade table and where the "
        "report is. The course dir given is only read.",
        _cmd_demo,
    )
    p.add_argument(
        "--workdir",
        metavar="DIR",
        default=None,
        help="where to create the demo course (new or empty; default: a new temporary dir, kept)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="S",
        help="wall-time limit per notebook (default: 12, so the endless example ends soon; "
        "grading runs no demonstrations)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="submissions graded in parallel (default: the number of CPU cores plus one, for the "
        "worker that waits on the endless example)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from autograder.errors import AutograderError

    try:
        return int(args.func(args))
    except AutograderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
