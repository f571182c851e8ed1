"""Reference solutions of assignment `landscapes`, one module per notebook.

Course staff only: never released to students, never importable from a sandboxed
submission. Every function of exercise-spec.md's three tables is importable from here.
"""

from __future__ import annotations

from .landscape_geometry import *  # noqa: F403
from .landscape_geometry import __all__ as _geometry_all
from .lottery_tickets import *  # noqa: F403
from .lottery_tickets import __all__ as _lottery_all
from .mode_connectivity import *  # noqa: F403
from .mode_connectivity import __all__ as _connectivity_all

__all__ = [*_connectivity_all, *_geometry_all, *_lottery_all]
