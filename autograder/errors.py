"""The one exception hierarchy of the engine.

Every problem the engine reports to a person (an instructor's command, a build, a course
spec) is an :class:`AutograderError`; the CLI catches this base class, prints ``error:``
and the message, and exits 1. Anything else escaping a command is a bug and keeps its
traceback.

This module is stdlib-only: the probe runtime copies it into the sandbox along with the
wire protocol, whose errors derive from it too.
"""

from __future__ import annotations


class AutograderError(Exception):
    """Base class: a problem the user can act on; the message says what and where."""


class SpecError(AutograderError):
    """An assignment spec or its content files are missing or malformed."""


class PipelineError(AutograderError):
    """A course verb cannot go on (no course dir, nbgrader failed, a bad release ...)."""


class GradingError(PipelineError):
    """The course cannot be graded at all (no gradebook entry, no release, bad config)."""


class SandboxError(AutograderError):
    """The sandbox could not be built or the requested mode is unavailable (a grader
    problem, never caused by the command it runs)."""


class WireError(AutograderError, ValueError):
    """Data on the wire between the sandbox and the grader is malformed."""


class WireLimitError(WireError):
    """An encoded value exceeds the wire's size bounds."""
