"""Hidden checks of assignment `landscapes` (cases and verdicts, one module per notebook).

The engine imports this package through the assignment spec (``[checks]`` in
`../assignment.toml`), as ``landscapes_checks``; importing it registers every graded item.
The `inputs_*` modules are the call stage (they build inputs next to student code and are
copied into the sandbox); everything else here judges, in the trusted grader only.
"""

from __future__ import annotations

from importlib import import_module

# Importing a module registers its graded items: in notebook order.
for _module in ("mode_connectivity", "landscape_geometry", "lottery_tickets", "quiz"):
    import_module(f"{__name__}.{_module}")
