"""Audit the reference solutions under many per-student case seeds.

The hidden checks draw their random inputs through ``autograder.checks.seeding.vary``: under
each student's case seed the cases differ. The reference (package ``solutions``) must pass
every part under any case seed, but ``tests/course/checks/test_case_seeds.py`` proves it for
8 fixed seeds only, and a heuristic verdict can fail the reference on a rare seed (one in a
few hundred: with 300 students, some student meets it). This script runs the reference
through every part that varies with the case seed, for many case seeds, and lists the
(function, part, seed) it fails.

Which parts vary is found here, not copied from the tests: a part varies if its cases,
encoded for the wire (``encode_case``), differ between no case seed and a probe case seed.
The other parts (worked examples, edge and error cases, the quiz) are the same for every
student and are not run again.

Seeds are drawn from ``random.Random(AUDIT_RNG_SEED)``, so runs are reproducible: seed number
K is the same in every run, and ``--start K`` continues where a run stopped. Everything for a
seed (making the cases, running the reference, judging) happens inside ``cases_for(seed)``;
every part starts from ``torch.manual_seed(0)``, as in the tests. One torch thread, as when
grading (``OMP_NUM_THREADS=1``).

Usage: ``python benchmarks/audit_case_seeds.py [--seeds 50] [--start 0] [--only NAME]
[--part PART] [--case-seed SEED ...] [--time-budget SECONDS]``. Prints one line per seed and
a table of failures; exits 1 if the reference failed any part, else 0.

Re-run a failure alone (``--only NAME --part PART --case-seed SEED``) before believing it:
the checks' time limits are wall time, and a nice'd run on a busy machine can exceed them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solutions  # noqa: E402
from autograder.checks import registry  # noqa: E402
from autograder.checks.seeding import cases_for  # noqa: E402
from autograder.sandbox.wire import WireError, encode_case  # noqa: E402

AUDIT_RNG_SEED = 20_260_118
"""The seed of the `random.Random` that draws the audited case seeds (other than the tests')."""
PROBE_SEED = 1_234_567_890_123_456_789
"""The case seed under which a part's cases are compared with the fixed ones."""


def case_seeds(start: int, count: int) -> list[int]:
    """Case seeds number `start` to `start + count - 1` (63-bit, like `student_seed`)."""
    rng = random.Random(AUDIT_RNG_SEED)
    return [rng.randrange(2**63) for _ in range(start + count)][start:]


def _encoded(name: str, part: str, seed: int | None) -> list[str]:
    with cases_for(seed):
        out = []
        for case in registry.cases(name, part):
            try:
                out.append(encode_case(case))
            except WireError:
                out.append(repr((case.label, case.args, case.kwargs)))
        return out


def varying_parts(names: list[str]) -> dict[str, list[str]]:
    """name → the parts whose cases differ between no case seed and `PROBE_SEED`."""
    return {
        name: [
            part
            for part in registry.parts(name)
            if _encoded(name, part, None) != _encoded(name, part, PROBE_SEED)
        ]
        for name in names
    }


def run_part(name: str, part: str, seed: int) -> str | None:
    """None if the reference passes `part` of `name` under case seed `seed`, else the
    feedback (or the error the check itself raised)."""
    with cases_for(seed):
        torch.manual_seed(0)
        try:
            registry.check_function(name, getattr(solutions, name), part)
        except AssertionError as exc:
            return str(exc) or "AssertionError"
        except Exception as exc:
            return f"the check raised {type(exc).__name__}: {exc}"
    return None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the reference solutions through every part that varies with the "
        "case seed, under many case seeds; list the failures (exit 1 if any)."
    )
    parser.add_argument("--seeds", type=int, default=50, help="how many case seeds (50)")
    parser.add_argument(
        "--start", type=int, default=0, help="the number of the first seed (continue a run)"
    )
    parser.add_argument("--only", metavar="NAME", help="audit this graded function only")
    parser.add_argument("--part", help="audit this part of --only NAME only")
    parser.add_argument(
        "--case-seed",
        type=int,
        action="append",
        metavar="SEED",
        help="run these case seeds instead of the drawn ones (repeatable; re-run a failure)",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="stop starting parts after this many seconds and say how far the run got",
    )
    parser.add_argument(
        "--full-messages", action="store_true", help="print every failure's whole feedback"
    )
    args = parser.parse_args(argv)
    if args.part and not args.only:
        parser.error("--part needs --only NAME")

    torch.set_num_threads(1)
    registry.set_default_assignment(ROOT / "source" / "landscapes")
    names = registry.graded_functions()
    if args.only:
        if args.only not in names:
            parser.error(f"no graded function {args.only!r}; known: {', '.join(names)}")
        names = [args.only]
    if args.part and args.part not in registry.parts(args.only):
        parser.error(f"{args.only} has no part {args.part!r}: {registry.parts(args.only)}")

    t0 = time.perf_counter()
    varying = varying_parts(names)
    if args.part:
        varying = {args.only: [args.part]}
    varying = {n: ps for n, ps in varying.items() if ps}
    n_parts = sum(map(len, varying.values()))
    total = sum(len(registry.parts(n)) for n in names)
    print(
        f"{n_parts} of {total} parts vary with the case seed, in {len(varying)} functions "
        f"(found in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )

    if args.case_seed:
        numbered = [(None, s) for s in args.case_seed]
    else:
        numbered = list(enumerate(case_seeds(args.start, args.seeds), start=args.start))

    failures: list[tuple[str, str, int, str]] = []
    runs = done_seeds = 0
    stopped: str | None = None
    t_start = time.perf_counter()
    for number, seed in numbered:
        label = f"seed #{number}" if number is not None else "seed"
        t_seed = time.perf_counter()
        failed_here = 0
        for name, part_names in varying.items():
            for part in part_names:
                elapsed = time.perf_counter() - t_start
                if args.time_budget is not None and elapsed >= args.time_budget:
                    stopped = f"{label} {seed} at {name}/{part}"
                    break
                message = run_part(name, part, seed)
                runs += 1
                if message is not None:
                    failures.append((name, part, seed, message))
                    failed_here += 1
                    print(f"  FAIL {name} / {part}: {_first_line(message)}", flush=True)
            if stopped:
                break
        if stopped:
            break
        done_seeds += 1
        print(
            f"{label} {seed}: {n_parts} parts, {failed_here} failed, "
            f"{time.perf_counter() - t_seed:.1f} s (total {time.perf_counter() - t_start:.0f} s)",
            flush=True,
        )

    wall = time.perf_counter() - t_start
    print(f"\n{done_seeds} seeds x {n_parts} parts ({runs} part runs) in {wall:.0f} s")
    if stopped:
        print(f"time budget reached: stopped before {stopped}", end="")
        if not args.case_seed:
            print(f"; continue with --start {args.start + done_seeds}", end="")
        print()
    if not failures:
        print("no failures")
        return 0
    print(f"\n{len(failures)} failures:")
    rows = [("function", "part", "seed", "first line of the message")]
    rows += [(n, p, str(s), _first_line(m)) for n, p, s, m in failures]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print("  ".join(c.ljust(w) for c, w in zip(rows[0], widths)) + "  " + rows[0][3])
    for row, (*_, message) in zip(rows[1:], failures):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[3])
        detail = message.strip().splitlines()[1:2]  # the verdict's own first line
        if detail:
            print(f"    {detail[0][:200]}")
    if args.full_messages:
        for n, p, s, m in failures:
            print(f"\n--- {n} / {p} / seed {s}\n{m}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
