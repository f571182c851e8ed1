"""The `autograder` command: a thin argparse layer over plain `main(*, ...)` functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    from autograder import selfcheck

    return selfcheck.main(verbose=not args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description=(
            "Course tools for assignment `landscapes` (subject 25-05: mode connectivity, "
            "loss landscapes, lottery tickets)."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "selfcheck",
        help="verify the reference solutions and hidden checks",
        description=(
            "Recompute the course text's worked examples with the reference solutions and "
            "confirm that every hidden check accepts the reference and rejects the stub. "
            "Exits non-zero on any problem."
        ),
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=_cmd_selfcheck)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
