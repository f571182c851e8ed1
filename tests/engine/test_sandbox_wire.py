"""The wire between the sandboxed call stage and the trusted verdicts (autograder.sandbox.wire).

Round trips are property-tested with hypothesis; lying objects must come back as untrusted
markers (or plain values) that the existing verdicts reject by exact type; oversized,
self-referencing and malformed input is bounded or refused; nothing is ever unpickled.
(That the course's cases, reference solutions and student-style implementations grade the
same through the wire as in-process is tested in tests/course/checks/test_through_the_wire.py.)
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.checks import registry
from autograder.checks.call import run_case
from autograder.checks.types import Build, Case, Outcome
from autograder.checks.verdicts import (
    compare_bool,
    compare_float,
    compare_int,
    compare_tensor,
    compare_tensor_dict,
    compare_value,
    fmt_value,
)
from autograder.sandbox import wire
from autograder.sandbox.wire import (
    NUMPY_DTYPES,
    TENSOR_DTYPES,
    UntrustedObject,
    WireError,
    WireLimitError,
    decode,
    decode_case,
    decode_outcome,
    encode,
    encode_case,
    encode_outcome,
    is_untrusted,
    plain_equal,
)

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def roundtrip(obj: Any) -> Any:
    return decode(encode(obj))


# ---- strategies ---------------------------------------------------------------------------------

key_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**1000), 2**1000)
    | st.floats()
    | st.text(max_size=30)
)


@st.composite
def tensors(draw: st.DrawFn) -> torch.Tensor:
    name = draw(st.sampled_from(sorted(TENSOR_DTYPES)))
    dtype = TENSOR_DTYPES[name]
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    numel = math.prod(shape)
    if dtype == torch.bool:
        t = torch.tensor(
            draw(st.lists(st.booleans(), min_size=numel, max_size=numel)), dtype=torch.bool
        ).reshape(shape)
    else:
        size = torch.empty((), dtype=dtype).element_size()
        raw = draw(st.binary(min_size=numel * size, max_size=numel * size))
        t = (
            torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape).clone()
            if numel
            else torch.empty(shape, dtype=dtype)
        )
    if dtype.is_floating_point and draw(st.booleans()):
        t.requires_grad_(True)
        if draw(st.booleans()):
            t = t.clone()  # a non-leaf with a grad_fn
    return t


@st.composite
def arrays(draw: st.DrawFn) -> Any:
    dtype = np.dtype(draw(st.sampled_from(NUMPY_DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    numel = math.prod(shape)
    raw = draw(st.binary(min_size=numel * dtype.itemsize, max_size=numel * dtype.itemsize))
    if dtype == np.bool_:
        raw = bytes(b & 1 for b in raw)
    arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if draw(st.booleans()) and numel:
        return arr.reshape(-1)[0]  # a numpy scalar of that dtype
    return arr


keys = key_scalars | st.tuples(key_scalars, key_scalars)
plain = st.recursive(
    scalars | tensors() | arrays(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4).map(OrderedDict)
        | st.sets(key_scalars, max_size=5)
        | st.frozensets(st.integers(-50, 50), max_size=5)
    ),
    max_leaves=12,
)


@st.composite
def outcomes(draw: st.DrawFn, depth: int = 0) -> Outcome:
    return Outcome(
        status=draw(st.sampled_from(["returned", "raised", "timeout"])),
        value=draw(plain),
        error_type=draw(st.text(max_size=20)),
        error_bases=tuple(draw(st.lists(st.text(max_size=10), max_size=3))),
        error_message=draw(st.text(max_size=60)),
        seconds=draw(st.floats(0, 1e6)),
        args_after=tuple(draw(st.lists(plain, max_size=2))),
        kwargs_after=draw(st.dictionaries(st.text(max_size=6), plain, max_size=2)),
        probe=draw(st.dictionaries(st.text(max_size=6), plain, max_size=2)),
        shares_input_memory=draw(st.booleans()),
        global_rng_changed=draw(st.booleans()),
        reruns=draw(st.lists(outcomes(depth + 1), max_size=2)) if depth < 1 else [],
    )


# ---- round trips -------------------------------------------------------------------------------


@FAST
@given(plain)
def test_plain_values_round_trip_exactly(value: Any) -> None:
    """Every plain value comes back with the same exact types, dtypes, shapes, flags, bits."""
    assert plain_equal(roundtrip(value), value)


@FAST
@given(outcomes())
def test_outcomes_round_trip_exactly(outcome: Outcome) -> None:
    """An Outcome (with nested reruns) comes back field by field."""
    back = decode_outcome(encode_outcome(outcome))
    assert type(back) is Outcome and plain_equal(back, outcome)


@FAST
@given(tensors())
def test_rebuilt_tensors_are_private_dense_copies(t: torch.Tensor) -> None:
    """Decoded tensors are plain, contiguous torch.Tensor objects owning their memory."""
    back = roundtrip(t)
    assert type(back) is torch.Tensor and back.is_contiguous()
    assert back.requires_grad == t.requires_grad and (back.grad_fn is None) == t.is_leaf
    if t.numel():
        assert back.untyped_storage().data_ptr() != t.untyped_storage().data_ptr()


def test_views_strides_and_devices_are_normalised() -> None:
    """Non-contiguous views and transposes cross as their values."""
    base = torch.arange(12.0).reshape(3, 4)
    for t in (base.t(), base[:, ::2], base[1], torch.tensor(2.5)):
        back = roundtrip(t)
        assert torch.equal(back, t) and back.shape == t.shape and back.dtype == t.dtype


def test_encode_case_refuses_what_cannot_cross() -> None:
    """A case holding a live object (a lambda) is a registry bug: refused with its name."""
    with pytest.raises(WireError, match="function"):
        encode_case(Case("bad", (lambda x: x,)))


def test_builds_and_cases_keep_their_types() -> None:
    case = Case(
        "c",
        (Build("mlp", {"seed": 3, "hidden": (8,)}), torch.ones(2)),
        {"fraction": 0.25},
        hint="h",
        post=Build("grad_probe", {}),
        reruns=({"seed": 1},),
    )
    back = decode_case(encode_case(case))
    assert type(back.args[0]) is Build and back.args[0].params == {"seed": 3, "hidden": (8,)}
    assert type(back.post) is Build and back.reruns == ({"seed": 1},)


# ---- lying objects -----------------------------------------------------------------------------


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class LyingTensor(torch.Tensor):
    def __eq__(self, other: object) -> Any:
        return torch.ones_like(torch.Tensor(self), dtype=torch.bool)

    __hash__ = torch.Tensor.__hash__

    def allclose(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def equal(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def tolist(self) -> Any:
        return [0.75, 0.25]


class SneakyFloat(float):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


class ShiftyNumber:
    """Its float value changes on every call (passes a first check, lies on the second)."""

    def __init__(self) -> None:
        self.calls = 0

    def __float__(self) -> float:
        self.calls += 1
        return 0.5 * self.calls


class LyingDict(dict):
    def keys(self) -> Any:
        return ["w", "b"]

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


class MyArray(np.ndarray):
    def __eq__(self, other: object) -> Any:
        return np.ones(self.shape, dtype=bool)

    __hash__ = None  # type: ignore[assignment]


class SneakyInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


LIARS = {
    "always_equal": lambda: AlwaysEqual(),
    "tensor_subclass": lambda: torch.tensor([0.1, 0.2]).as_subclass(LyingTensor),
    "parameter": lambda: torch.nn.Parameter(torch.ones(2)),
    "float_subclass": lambda: SneakyFloat(0.1),
    "int_subclass": lambda: SneakyInt(3),
    "shifty_float": lambda: ShiftyNumber(),
    "lying_dict": lambda: LyingDict(w=torch.ones(2)),
    "numpy_subclass": lambda: np.zeros(2).view(MyArray),
    "module": lambda: torch,
    "callable": lambda: lambda: 0.5,
    "generator": lambda: (x for x in range(2)),
    "complex_tensor": lambda: torch.ones(2, dtype=torch.complex64),
    "sparse_tensor": lambda: torch.ones(2).to_sparse(),
}


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_lying_objects_become_untrusted_markers(kind: str) -> None:
    """Whatever it overrides, the object arrives as a method-less marker named like its type
    (the original object is never rebuilt, nothing of it runs on the trusted side)."""
    obj = LIARS[kind]()
    back = roundtrip(obj)
    assert is_untrusted(back) and isinstance(back, UntrustedObject)
    assert type(back).__qualname__ == type(obj).__qualname__
    assert type(back).__module__ == type(obj).__module__
    assert not callable(back) and not hasattr(back, "__float__")
    assert type(back).__eq__ is object.__eq__ and type(back).__hash__ is object.__hash__
    assert (
        back.__eq__(back) is True and back.__eq__(UntrustedObject("a", "b", "c")) is NotImplemented
    )
    assert type(obj).__qualname__ in fmt_value(back)


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_verdicts_reject_every_liar(kind: str) -> None:
    """The existing verdict helpers reject each decoded liar by exact type, whatever the
    expected result is."""
    back = roundtrip(LIARS[kind]())
    expected_tensor = torch.tensor([0.1, 0.2])
    assert compare_tensor(back, expected_tensor, what="x") is not None
    assert compare_float(back, 0.5, what="x") is not None
    assert compare_int(back, 3, what="x") is not None
    assert compare_bool(back, True, what="x") is not None
    assert compare_tensor_dict(back, {"w": torch.ones(2)}, what="x") is not None
    assert compare_value(back, {1, 2}, what="x") is not None
    assert compare_value(back, [0.5], what="x") is not None


def test_liars_nested_in_plain_containers_are_caught_where_they_are() -> None:
    """Plain containers stay plain; only the lying leaf becomes a marker, and the verdict
    names where it is."""
    value = {"w": torch.tensor([1.0, 2.0]).as_subclass(LyingTensor), "b": torch.zeros(2)}
    back = roundtrip(value)
    assert type(back) is dict and type(back["b"]) is torch.Tensor
    assert is_untrusted(back["w"])
    msg = compare_tensor_dict(
        back, {"w": torch.tensor([1.0, 2.0]), "b": torch.zeros(2)}, what="the result"
    )
    assert msg and "['w']" in msg and "LyingTensor" in msg


def test_named_tuples_cross_as_plain_tuples() -> None:
    """torch.return_types and named tuples arrive as tuples of their (plain) items."""
    values, indices = torch.tensor([3.0, 1.0, 2.0]).sort()
    back = roundtrip(torch.tensor([3.0, 1.0, 2.0]).sort())
    assert type(back) is tuple and torch.equal(back[0], values) and torch.equal(back[1], indices)


def test_a_lying_result_fails_the_registered_verdict() -> None:
    """Through the wire, a float subclass whose __eq__ always says yes fails mask_overlap's
    first case, with the student's type named in the feedback."""
    case = registry.cases("mask_overlap", "basic")[0]
    outcome = run_case(lambda a, b: SneakyFloat(0.4), case)
    message = registry.judge("mask_overlap", "basic", case, decode_outcome(encode_outcome(outcome)))
    assert message and "should be a float" in message and "SneakyFloat" in message


# ---- bounds and malformed input ----------------------------------------------------------------


def test_encodings_over_the_limit_are_refused_with_the_reason() -> None:
    with pytest.raises(WireLimitError, match="limit of 100000 bytes"):
        encode(torch.zeros(100_000), max_bytes=100_000)
    with pytest.raises(WireLimitError, match="limit of 100000 bytes"):
        encode(["x" * 1000] * 200, max_bytes=100_000)
    with pytest.raises(WireLimitError, match="over the limit"):
        decode("[" + "0," * 60_000 + "0]", max_bytes=100_000)


def test_an_oversized_result_is_replaced_by_a_marker_that_fails() -> None:
    """encode_outcome keeps the record within bounds: a huge returned value becomes a
    'too large' marker, which no verdict accepts."""
    big = Outcome(status="returned", value=torch.zeros(1_000_000), args_after=(1.0,))
    back = decode_outcome(encode_outcome(big, max_bytes=200_000))
    assert is_untrusted(back.value) and "too large" in back.value.reason
    assert back.args_after == (1.0,)
    assert compare_tensor(back.value, torch.zeros(1_000_000), what="x") is not None


def test_self_referencing_and_deep_values_become_markers() -> None:
    loop: list[Any] = []
    loop.append(loop)
    back = roundtrip(loop)
    node = back
    while type(node) is list:
        node = node[0]
    assert is_untrusted(node) and "nested more than" in node.reason
    assert is_untrusted(roundtrip(10**400)) and "bits" in roundtrip(10**400).reason


GOOD_TENSOR = {
    "dtype": "float32",
    "shape": [2],
    "data": "AACAPwAAAEA=",
    "requires_grad": False,
    "is_leaf": True,
}


def envelope(value: str) -> str:
    return '{"wire":1,"value":' + value + "}"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"wire":1,"value":NaN}',
        '{"value":1}',
        '{"wire":2,"value":1}',
        envelope('{"pickle":"gASV"}'),
        envelope('{"tuple":[1],"dict":[]}'),
        envelope(
            '{"tensor":{"dtype":"float32","shape":[3],"data":"AACAPwAAAEA=",'
            '"requires_grad":false,"is_leaf":true}}'
        ),
        envelope(
            '{"tensor":{"dtype":"complex64","shape":[1],"data":"AACAPwAAAEA=",'
            '"requires_grad":false,"is_leaf":true}}'
        ),
        envelope(
            '{"tensor":{"dtype":"float32","shape":[-2],"data":"",'
            '"requires_grad":false,"is_leaf":true}}'
        ),
        envelope(
            '{"tensor":{"dtype":"float32","shape":[2],"data":"!!!",'
            '"requires_grad":false,"is_leaf":true}}'
        ),
        envelope('{"ndarray":{"dtype":"object","shape":[1],"data":"AA=="}}'),
        envelope('{"dict":[["a"]]}'),
        envelope('{"dict":[[["list","key"],1]]}'),
        envelope('{"set":[[1,2]]}'),
        envelope('{"float":"1.5"}'),
        envelope('{"outcome":{"status":"passed"}}'),
        envelope("[" * 100_000 + "]" * 100_000),
    ],
)
def test_malformed_input_is_refused(text: str) -> None:
    """Anything not produced by the encoder raises WireError (never a crash, never a guess)."""
    with pytest.raises(WireError):
        decode(text, max_bytes=10**6)


def test_a_forged_outcome_with_wrong_field_types_is_refused() -> None:
    good = encode_outcome(Outcome(status="returned", value=1.0))
    decode_outcome(good)
    for bad in (
        good.replace('"seconds":0.0', '"seconds":-1'),
        good.replace('"shares_input_memory":false', '"shares_input_memory":1'),
        good.replace('"status":"returned"', '"status":"passed"'),
        good.replace('"error_bases":{"tuple":[]}', '"error_bases":[]'),
    ):
        assert bad != good
        with pytest.raises(WireError):
            decode_outcome(bad)
    decoded = decode(encode({"t": GOOD_TENSOR}))
    assert decoded == {"t": GOOD_TENSOR}  # a dict that merely looks like a tensor stays a dict


def test_the_wire_never_pickles() -> None:
    """No pickle-like module is imported, and nothing is evaluated."""
    tree = ast.parse(inspect.getsource(wire))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in getattr(node, "names", [])
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & {"pickle", "marshal", "dill", "shelve", "copyreg", "cloudpickle"}
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"eval", "exec", "__import__"}


def test_outcome_fields_are_all_on_the_wire() -> None:
    """A new Outcome field must be added to the wire too (this fails until it is)."""
    names = {f.name for f in dataclasses.fields(Outcome)}
    tree = wire.to_wire(Outcome(status="returned"))
    assert set(tree["outcome"]) == names
