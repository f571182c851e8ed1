"""Inputs and verdict helpers shared by several graded functions of notebook 03.

Stage 1: generators, random weights and masks, parameter dicts and all-True masks for them,
worked example 3's weights W1 and mask M1, and near-ties that only exact ranking tells apart.
The seeds of the random ones go through `vary` when the cases are made, so every student gets
other random inputs (the fixed ones when no case seed is active), except with `fixed=True`: for
the cases whose random masks or weights expose a typical mistake only by the luck of the draw.

Stage 3: `_checked` (`returned_then` for judges that do not need the case) and the comparison
of masks and dicts of masks (type, shape, bool dtype, the number kept, then which entries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.seeding import vary
from autograder.checks.types import Outcome, Verdict
from autograder.checks.verdicts import DICT_TYPES, fmt_value, index_str, returned_then

# ---------------------------------------------------------------------------------------------
# Inputs (stage 1: deterministic plain data)


def _gen(seed: int, *, fixed: bool = False) -> torch.Generator:
    """The generator of a case's random inputs: varied per student (call it in make_cases),
    unless `fixed`."""
    return torch.Generator().manual_seed(seed if fixed else vary(seed))


def _randn(
    shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float32, *, fixed: bool = False
) -> torch.Tensor:
    return torch.randn(shape, generator=_gen(seed, fixed=fixed), dtype=dtype)


def _rand_mask(
    shape: tuple[int, ...], seed: int, keep: float = 0.6, *, fixed: bool = False
) -> torch.Tensor:
    return torch.rand(shape, generator=_gen(seed, fixed=fixed)) < keep


def _params(
    seed: int, shapes: Mapping[str, tuple[int, ...]], *, fixed: bool = False
) -> dict[str, torch.Tensor]:
    gen = _gen(seed, fixed=fixed)
    return {key: torch.randn(shape, generator=gen) for key, shape in shapes.items()}


def _ones_like(params: Mapping[str, torch.Tensor], keys: list[str]) -> dict[str, torch.Tensor]:
    """All-True masks for `keys`, shaped like their params."""
    return {k: torch.ones(params[k].shape, dtype=torch.bool) for k in keys}


#: Worked example 3 of the seed: W1 (4x3) and its mask after 30% pruning (1 = kept).
W1 = [[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]]
M1 = [[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]]


def _w1(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.tensor(W1, dtype=dtype)


def _near_ties(dtype: torch.dtype, signs: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """[1 + 2**-40, 1, 3, 1 + 2**-41] (times `signs`): three values that are all 1.0 in float32.

    Ranked exactly, index 1 is the smallest, then 3, then 0; rounded to float32 the three
    tie and the flat order would decide instead.
    """
    values = [1.0 + 2.0**-40, 1.0, 3.0, 1.0 + 2.0**-41]
    return torch.tensor([v * s for v, s in zip(values, signs)], dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Verdict helpers (stage 3)


def _checked(
    name: str, judge: Callable[[Outcome, tuple, dict], str | None], hint: str = ""
) -> Verdict:
    """`returned_then` for judges that do not need the case."""
    return returned_then(name, lambda _case, outcome, a, k: judge(outcome, a, k), hint)


def _state(kept: bool) -> str:
    return "kept" if kept else "pruned"


def _mask_form(got: Any, expected: torch.Tensor, what: str) -> str | None:
    """Type, shape and dtype of a returned mask."""
    if type(got) is not torch.Tensor:
        return f"{what} should be a bool torch.Tensor (True = kept), got {fmt_value(got)}"
    if tuple(got.shape) != tuple(expected.shape):
        return (
            f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)} "
            "(the shape of the input)"
        )
    if got.dtype != torch.bool:
        return f"{what} has dtype {got.dtype}, expected torch.bool (True = kept, False = pruned)"
    if got.layout != torch.strided:
        return f"{what} should be a dense tensor"
    return None


def _first_wrong_entry(
    got: torch.Tensor,
    expected: torch.Tensor,
    what: str,
    values: torch.Tensor | None,
    value_label: str,
) -> str | None:
    g = got.detach().cpu().reshape(-1)
    e = expected.detach().cpu().reshape(-1)
    bad = (g != e).nonzero().reshape(-1)
    if not bad.numel():
        return None
    i = int(bad[0])
    where = f"entry {index_str(i, tuple(expected.shape))}"
    if values is not None:
        where += f" ({value_label} = {float(values.detach().reshape(-1)[i]):.6g})"
    return (
        f"{what} keeps the right number of entries ({int(e.sum())} of {e.numel()}) but not the "
        f"right ones: {bad.numel()} entries differ; {where} should be {_state(bool(e[i]))}, "
        f"got {_state(bool(g[i]))}"
    )


def compare_mask(
    got: Any,
    expected: torch.Tensor,
    *,
    what: str,
    context: str = "",
    values: torch.Tensor | None = None,
    value_label: str = "|w|",
) -> str | None:
    """Type, shape, dtype, number kept (with `context` explaining it), then which entries."""
    msg = _mask_form(got, expected, what)
    if msg:
        return msg
    kept_got = int(got.detach().sum())
    kept_expected = int(expected.sum())
    if kept_got != kept_expected:
        return f"{what} kept {kept_got} of {expected.numel()} entries, expected {kept_expected}" + (
            f": {context}" if context else ""
        )
    if values is not None and value_label == "|w|":
        values = values.detach().abs()
    return _first_wrong_entry(got, expected, what, values, value_label)


def compare_mask_dict(
    got: Any,
    expected: Mapping[str, torch.Tensor],
    *,
    what: str,
    context: str = "",
    values: Mapping[str, torch.Tensor] | None = None,
    keys_hint: str = "",
) -> str | None:
    """A dict of masks: keys, each mask's form, total kept, kept per key, then entries."""
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of bool tensors, got {fmt_value(got)}"
    if set(got.keys()) != set(expected.keys()):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        return f"{what}: wrong keys, missing {missing!r}, unexpected {extra!r}" + (
            f" ({keys_hint})" if keys_hint else ""
        )
    for key, exp in expected.items():
        msg = _mask_form(got[key], exp, f"{what}[{key!r}]")
        if msg:
            return msg
    kept_got = {k: int(got[k].detach().sum()) for k in expected}
    kept_expected = {k: int(m.sum()) for k, m in expected.items()}
    total_got, total_expected = sum(kept_got.values()), sum(kept_expected.values())
    if total_got != total_expected:
        return f"{what} kept {total_got} entries in total, expected {total_expected}" + (
            f": {context}" if context else ""
        )
    if kept_got != kept_expected:
        return (
            f"{what} kept the right total ({total_expected}) but split differently over the "
            f"keys: kept {kept_got}, expected {kept_expected}"
            + (f" ({context})" if context else "")
        )
    for key, exp in expected.items():
        vals = None if values is None or key not in values else values[key].detach().abs()
        msg = _first_wrong_entry(got[key], exp, f"{what}[{key!r}]", vals, "|w|")
        if msg:
            return msg
    return None
