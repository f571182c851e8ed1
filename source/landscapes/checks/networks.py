"""Stage 3, shared by the notebooks' checks: the output of a Linear/ReLU network given as params.

`rescale_hidden_units` (notebook 02) and `align_hidden_units` (notebook 01) both change a
network's parameters without changing its function; their verdicts evaluate the network by
hand, in float64, before and after.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch


def network_output(params: Mapping[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The output of the Linear/ReLU network whose layers are named "0", "2", "4", ... ."""
    prefixes = sorted({k.split(".")[0] for k in params if k.endswith(".weight")}, key=int)
    x = X.to(torch.float64)
    for i, prefix in enumerate(prefixes):
        weight = params[f"{prefix}.weight"].detach().to(torch.float64)
        x = x @ weight.T
        if f"{prefix}.bias" in params:
            x = x + params[f"{prefix}.bias"].detach().to(torch.float64)
        if i < len(prefixes) - 1:
            x = torch.relu(x)
    return x
