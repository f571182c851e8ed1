"""The course secret: what makes each student's hidden cases their own.

The grader draws the random inputs of the hidden checks from a case seed per student
(:func:`autograder.checks.seeding.student_seed` of this secret, the assignment and the student
id). The secret is kept with the gradebook, in the course's state folder
(``<course>/.autograder/case_secret``, readable by its owner only). It is never copied into
the release, a feedback page, an export or the repository (``.autograder/`` is git-ignored),
and the sandbox hides the whole course directory from student code: the kernel that runs
student code only ever receives the cases themselves.

Keep the file as long as grades of this term may be regraded: the same secret gives every
student the same cases again. A new term starts with a new secret (``autograder secret
--new``): every student then gets new cases, and a table of outputs copied from last term's
feedback is worth nothing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from autograder.checks.seeding import student_seed
from autograder.errors import PipelineError

from .records import STATE_DIR

SECRET_NAME = "case_secret"
SECRET_BYTES = 32
_MIN_BYTES = 16


def secret_path(course_root: str | os.PathLike[str]) -> Path:
    """Where the course secret of `course_root` lives."""
    return Path(course_root) / STATE_DIR / SECRET_NAME


def read_secret(course_root: str | os.PathLike[str]) -> bytes | None:
    """The course secret, or None when there is none yet. PipelineError if the file is
    unreadable or too short to be a secret (a truncated copy must not grade anyone)."""
    path = secret_path(course_root)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read the course secret {path}: {exc}") from None
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise PipelineError(f"the course secret {path} is not hex text: restore it") from None
    if len(value) < _MIN_BYTES:
        raise PipelineError(
            f"the course secret {path} has {len(value)} bytes, fewer than {_MIN_BYTES}: "
            "restore it from a backup, or start a new term with `autograder secret --new`"
        )
    return value


def _write(path: Path, value: bytes, *, replace: bool) -> bool:
    """Write `value` to `path` whole or not at all (a private temporary file, then renamed or
    linked into place, so no reader ever sees half a secret). With ``replace=False`` an
    existing secret wins (two verbs starting at once keep one secret): returns False."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value.hex() + "\n")
    try:
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def ensure_secret(
    course_root: str | os.PathLike[str], out: Callable[[str], None] | None = None
) -> bytes:
    """The course secret, created (and announced through `out`) when there is none."""
    value = read_secret(course_root)
    if value is not None:
        return value
    path = secret_path(course_root)
    if not _write(path, secrets.token_bytes(SECRET_BYTES), replace=False):
        return ensure_secret(course_root, out)  # another process wrote it first
    if out:
        out(
            f"created the course secret {path}: it makes each student's hidden cases their "
            "own; keep it (and back it up) with the gradebook, never share it"
        )
    return read_secret(course_root) or b""


def new_secret(course_root: str | os.PathLike[str]) -> tuple[Path, Path | None]:
    """Replace the course secret by a new one (a new term); the old one is kept beside it
    as ``case_secret.<UTC time>.old``. Returns the secret's path and the old one's."""
    path = secret_path(course_root)
    old: Path | None = None
    if path.exists():
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        old = path.with_name(f"{SECRET_NAME}.{stamp}.old")
        os.replace(path, old)
    _write(path, secrets.token_bytes(SECRET_BYTES), replace=True)
    return path, old


def fingerprint(value: bytes) -> str:
    """A short name of a secret that says nothing about it (to tell two secrets apart)."""
    return hashlib.sha256(b"autograder-secret-fingerprint\0" + value).hexdigest()[:12]


def case_seed_of(secret: bytes | None, assignment: str, student: str) -> int | None:
    """The case seed of a student (None without a secret: the fixed cases)."""
    return None if secret is None else student_seed(secret, assignment, student)


def main(*, course_dir: str | os.PathLike[str] = ".", new: bool = False) -> int:
    """`autograder secret`: say where the course secret is (creating it if missing), or
    start a new term with a new one."""
    root = Path(course_dir).resolve()
    if new:
        path, old = new_secret(root)
        print(f"new course secret {path} (fingerprint {fingerprint(read_secret(root) or b'')})")
        if old is not None:
            print(f"the previous one is kept as {old}: regrading this term's work needs it back")
        return 0
    value = ensure_secret(root, out=print)
    print(f"course secret {secret_path(root)} (fingerprint {fingerprint(value)})")
    return 0
