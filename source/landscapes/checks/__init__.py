"""Hidden checks of assignment `landscapes` (cases and verdicts, one package per notebook).

The engine imports this package through the assignment spec (``[checks]`` in
`../assignment.toml`), as ``landscapes_checks``; importing it registers every graded item.
Notebooks 01-03 are packages with one module per graded function (and a `common` module for
what several share); the quiz is a single module. The `inputs_*` modules are the call stage
(they build inputs next to student code and are copied into the sandbox); everything else
here judges, in the trusted grader only.
"""

from __future__ import annotations

from importlib import import_module

# Importing a package or module registers its graded items: in notebook order.
for _module in ("mode_connectivity", "landscape_geometry", "lottery_tickets", "quiz"):
    import_module(f"{__name__}.{_module}")
