"""Hidden checks for notebook 03 (lottery tickets: magnitude pruning, IMP, supermasks).

One module per graded function, imported below in notebook order (the order in which they are
registered and graded); `common` holds the inputs and verdict helpers that several of them
share. Every case is plain data or a `Build` recipe (builders in `inputs_lottery_tickets`);
every verdict recomputes the reference on freshly built inputs. Only what exercise-spec.md
states is graded: masks passed in are bool, counts are ints, weights have no NaN.
"""

from __future__ import annotations

# Importing a module registers its graded function: in notebook order, never sorted.
# isort: off
from . import prune_count
from . import magnitude_mask
from . import prune_remaining
from . import global_prune
from . import imp_sparsity
from . import rounds_to_reach
from . import rewind
from . import iterative_magnitude_pruning
from . import topk_score_mask
from . import straight_through_mask
from . import mask_overlap
# isort: on

__all__ = [
    "global_prune",
    "imp_sparsity",
    "iterative_magnitude_pruning",
    "magnitude_mask",
    "mask_overlap",
    "prune_count",
    "prune_remaining",
    "rewind",
    "rounds_to_reach",
    "straight_through_mask",
    "topk_score_mask",
]
