"""Sandboxed execution of student code and the plain-data wire between it and the grader.

- :mod:`autograder.sandbox.isolation`: probe what isolation this machine offers and run a
  command under it (:func:`probe_isolation`, :func:`run_sandboxed`, :func:`prepare_runtime`);
- :mod:`autograder.sandbox.wire`: encode outcomes of the call stage as JSON plus raw tensor
  buffers, and rebuild them with trusted code (no pickle);
- :mod:`autograder.sandbox.probe`: the call-stage driver that runs inside the sandbox;
- :mod:`autograder.sandbox.judge`: its trusted counterpart (requests in, verdicts out).
"""

from __future__ import annotations

from .isolation import (
    IsolationReport,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxResult,
    default_env,
    prepare_runtime,
    probe_isolation,
    run_sandboxed,
)

__all__ = [
    "IsolationReport",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "default_env",
    "prepare_runtime",
    "probe_isolation",
    "run_sandboxed",
]
