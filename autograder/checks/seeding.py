"""Per-student hidden cases: the seed that a check's random inputs are drawn from.

A hidden check's random inputs (random tensors, random models, a random generator's seed)
are drawn from seeds that its cases name, e.g. ``torch.Generator().manual_seed(vary(11))``.
:func:`vary` returns the case's own seed (``11``) when no case seed is active: the cases are
then the fixed ones that a student's machine, the visible tests, ``autograder validate`` and a
plain ``nbgrader autograde`` see. While the grader judges one student's submission, a case
seed is active (:func:`cases_for`) and :func:`vary` mixes it into every base seed: each
student gets other random inputs, so a table of outputs copied from someone's feedback
(or from one's own, last term) does not pass. Worked examples, edge cases and error cases do
not call :func:`vary` and stay the same for everyone.

The case seed of a student is :func:`student_seed` of the course secret (kept with the
gradebook, see :mod:`autograder.pipeline.secret`), the assignment id and the student id: the
same secret gives the same cases on every regrade, a new secret (a new term) new ones.
Only the derived seed, never the secret, reaches the process that makes the cases.

Which case seed is active, in this order: the innermost :func:`cases_for` of this thread
(or asyncio task); else the environment variable :data:`CASE_SEED_ENV` (the plain grader
sets it for kernels that run hidden checks themselves); else none.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import os
from collections.abc import Iterator

CASE_SEED_ENV = "AUTOGRADER_CASE_SEED"
"""The environment variable that carries a case seed into a kernel (decimal)."""

SEED_LIMIT = 2**31 - 1
"""Every varied seed is below this, so that torch, numpy and `random` all accept it."""

_active: contextvars.ContextVar[int | None] = contextvars.ContextVar("case_seed", default=None)


def student_seed(secret: bytes, assignment: str, student: str) -> int:
    """The case seed of `student` in `assignment`: an HMAC of both under the course secret.

    Without the secret the seed of one student says nothing about another's (nor about the
    secret): a 63-bit keyed hash, not a counter.
    """
    if not secret:
        raise ValueError("the course secret is empty")
    message = f"autograder-cases\0{assignment}\0{student}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def parse_seed(text: str) -> int:
    """A case seed from its decimal text (the environment variable); ValueError if malformed."""
    value = int(text.strip(), 10)
    if value < 0:
        raise ValueError(f"a case seed is not negative, got {value}")
    return value


def case_seed() -> int | None:
    """The active case seed (see the module docstring), or None: the fixed cases."""
    seed = _active.get()
    if seed is not None:
        return None if seed < 0 else seed  # -1: cases_for(None), the fixed cases
    env = os.environ.get(CASE_SEED_ENV, "").strip()
    if not env:
        return None
    try:
        return parse_seed(env)
    except ValueError:
        raise ValueError(
            f"{CASE_SEED_ENV}={env!r} is not a case seed (a decimal integer)"
        ) from None


@contextlib.contextmanager
def cases_for(seed: int | None) -> Iterator[int | None]:
    """Within the block, cases are made for case seed `seed` (None: the fixed cases, even
    if the environment names a seed)."""
    if seed is not None and (type(seed) is not int or seed < 0):
        raise ValueError(f"a case seed is a non-negative int, got {seed!r}")
    token = _active.set(seed if seed is not None else -1)
    try:
        yield seed
    finally:
        _active.reset(token)


def vary(base: int) -> int:
    """The seed a case with fixed seed `base` uses: `base` itself when no case seed is active
    (so the fixed cases never change), else a seed below :data:`SEED_LIMIT` derived from the
    case seed and `base` (different bases give unrelated seeds)."""
    if type(base) is not int:
        raise TypeError(f"vary() takes an int base seed, got {type(base).__name__}")
    seed = case_seed()
    if seed is None:
        return base
    digest = hashlib.sha256(f"{seed}\0{base}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_LIMIT


__all__ = [
    "CASE_SEED_ENV",
    "SEED_LIMIT",
    "case_seed",
    "cases_for",
    "parse_seed",
    "student_seed",
    "vary",
]
