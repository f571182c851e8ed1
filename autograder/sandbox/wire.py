"""The plain-data wire between the sandboxed call stage and the trusted verdicts.

What crosses the sandbox boundary is JSON text, never a pickle. Values are encoded by exact
type, and only these kinds exist on the wire:

- ``None``, ``bool``, ``int`` (at most :data:`MAX_INT_BITS` bits), ``float`` (non-finite
  values tagged), ``str``;
- ``list``, ``tuple`` (tuple subclasses such as named tuples become plain tuples), ``dict``
  and ``OrderedDict`` whose keys are scalars or tuples of scalars (e.g. a dict keyed by
  index pairs), ``set``/``frozenset`` of scalars;
- ``torch.Tensor`` of exactly that type, dense, on any device, real or bool: dtype, shape,
  the ``requires_grad``/``is_leaf`` flags and the raw bytes (base64);
- numpy arrays and scalars of the standard real/bool dtypes, as raw bytes too, and
  ``numpy.str_`` as its text;
- the call stage's own records: :class:`~autograder.checks.types.Outcome`,
  :class:`~autograder.checks.types.Case` and :class:`~autograder.checks.types.Build`.

Anything else -- objects with a custom ``__eq__`` or ``__float__``, subclasses of ``float``,
``dict`` or ``torch.Tensor``, modules, callables, generators, sparse or complex tensors,
values nested too deeply -- becomes ``{"untrusted": {"module", "qualname", "reason"}}``.
:func:`decode` turns that marker into an instance of a fresh, method-less class named like
the original type (:class:`UntrustedObject`), so the verdicts' exact type checks reject it
and their messages still name the student's type.

:func:`decode` rebuilds every tensor and array with trusted code (``torch.frombuffer`` /
``numpy.frombuffer`` on a private copy of the bytes, then a clone); it checks every field and
raises :class:`WireError` for anything malformed. Encodings and inputs larger than
`max_bytes` are refused with :class:`WireLimitError`, saying by how much.

The encoder runs inside the sandbox, next to student code that may have patched anything
(even ``type``); that is fine: all it can produce is plain data, and the trusted side only
ever judges that data. Never run the student's objects in the trusted process.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from autograder.checks.types import Build, Case, Outcome
from autograder.errors import WireError, WireLimitError

WIRE_VERSION = 1
#: Default bound on one encoding (JSON text, in characters = bytes).
DEFAULT_MAX_BYTES = 32 * 2**20
#: Deeper nesting is encoded as an untrusted marker (a self-referencing list, a bomb).
MAX_DEPTH = 48
#: Larger ints are encoded as an untrusted marker.
MAX_INT_BITS = 1024
#: Longest error message / label kept from an outcome (longer ones are cut).
MAX_MESSAGE_CHARS = 4000
#: Most dimensions a tensor or array may have on the wire.
MAX_NDIM = 16
_NODE_COST = 8  # approximate JSON characters per node, for the running size bound

TENSOR_DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}
_TENSOR_DTYPE_NAMES = {v: k for k, v in TENSOR_DTYPES.items()}
NUMPY_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
)
_NUMPY_SCALAR_TYPES = {np.dtype(name).type: name for name in NUMPY_DTYPES}
_OUTCOME_STATUSES = ("returned", "raised", "timeout")
_NAME_RE = re.compile(r"^[A-Za-z_<][\w.<>]{0,199}$")


# ---- untrusted markers ------------------------------------------------------------------------


class UntrustedObject:
    """Stands for a value that could not cross the wire as plain data.

    Instances carry only strings; the class has no comparison or conversion methods of its
    own, so nothing treats it as a number, tensor or container. :func:`untrusted_class`
    makes a subclass named like the original type, for readable feedback.
    """

    __slots__ = ("reason", "type_module", "type_qualname")

    def __init__(self, type_module: str, type_qualname: str, reason: str) -> None:
        self.type_module = type_module
        self.type_qualname = type_qualname
        self.reason = reason

    def __repr__(self) -> str:
        return f"<untrusted {self.type_module}.{self.type_qualname}: {self.reason}>"


_UNTRUSTED_CLASSES: dict[tuple[str, str], type[UntrustedObject]] = {}


def untrusted_class(module: str, qualname: str) -> type[UntrustedObject]:
    """A (cached) subclass of :class:`UntrustedObject` whose ``__module__``/``__qualname__``
    are the given names (sanitised), so ``type(x).__qualname__`` reads like the original."""
    module = module if _NAME_RE.match(module or "") else "unknown"
    qualname = qualname if _NAME_RE.match(qualname or "") else "unknown"
    key = (module, qualname)
    cls = _UNTRUSTED_CLASSES.get(key)
    if cls is None:
        cls = type(
            qualname.rsplit(".", 1)[-1],
            (UntrustedObject,),
            {"__module__": module, "__qualname__": qualname, "__slots__": ()},
        )
        _UNTRUSTED_CLASSES[key] = cls
    return cls


def make_untrusted(module: str, qualname: str, reason: str) -> UntrustedObject:
    return untrusted_class(module, qualname)(module, qualname, reason[:MAX_MESSAGE_CHARS])


# ---- encoding -------------------------------------------------------------------------------


def _type_names(obj: Any) -> tuple[str, str]:
    cls = type(obj)
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", None)
    return (
        module if type(module) is str else "unknown",
        qualname if type(qualname) is str else "unknown",
    )


class _Encoder:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0

    def charge(self, n: int) -> None:
        self.used += n
        if self.used > self.max_bytes:
            raise WireLimitError(
                f"the encoding exceeds the limit of {self.max_bytes} bytes "
                f"(at least {self.used} bytes so far)"
            )

    def untrusted(self, obj: Any, reason: str) -> dict[str, Any]:
        module, qualname = _type_names(obj)
        self.charge(len(module) + len(qualname) + len(reason) + 4 * _NODE_COST)
        return {"untrusted": {"module": module, "qualname": qualname, "reason": reason}}

    def enc(self, obj: Any, depth: int = 0) -> Any:
        self.charge(_NODE_COST)
        if depth > MAX_DEPTH:
            return self.untrusted(obj, f"nested more than {MAX_DEPTH} levels deep")
        t = type(obj)
        if obj is None or t is bool:
            return obj
        if t is int:
            if obj.bit_length() > MAX_INT_BITS:
                return self.untrusted(obj, f"an int of more than {MAX_INT_BITS} bits")
            self.charge(obj.bit_length() // 3)
            return obj
        if t is float:
            if math.isfinite(obj):
                return obj
            return {"float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if t is str:
            self.charge(len(obj) * 2)
            return obj
        if t is list:
            return [self.enc(v, depth + 1) for v in obj]
        if t is tuple:
            return {"tuple": [self.enc(v, depth + 1) for v in obj]}
        if t is dict or t is OrderedDict:
            return self.enc_dict(obj, depth)
        if t is set or t is frozenset:
            return self.enc_set(obj, depth)
        if t is torch.Tensor:
            return self.enc_tensor(obj)
        if t is np.ndarray:
            return self.enc_ndarray(obj)
        if t in _NUMPY_SCALAR_TYPES:
            return self.enc_npscalar(obj)
        if t is np.str_:  # e.g. a label picked from a numpy array of strings
            text = str.__str__(obj)
            self.charge(len(text) * 2)
            return {"npstr": text}
        if t is _TooLarge:
            return {
                "untrusted": {
                    "module": "autograder",
                    "qualname": "ValueTooLargeToSend",
                    "reason": obj.reason,
                }
            }
        if t is Outcome:
            return {"outcome": self.enc_outcome(obj, depth)}
        if t is Case:
            return {"case": self.enc_case(obj, depth)}
        if t is Build:
            return {
                "build": {
                    "kind": self.enc(obj.kind, depth + 1),
                    "params": self.enc(dict(obj.params), depth + 1),
                }
            }
        if (isinstance(obj, tuple) and hasattr(t, "_fields")) or _is_structseq(obj):
            # named tuples and torch.return_types: their items, as a plain tuple
            return {
                "tuple": [
                    self.enc(tuple.__getitem__(obj, i), depth + 1)
                    for i in range(tuple.__len__(obj))
                ]
            }
        return self.untrusted(obj, "not plain data")

    def enc_dict(self, obj: Any, depth: int) -> Any:
        pairs = []
        for key, value in dict.items(obj):
            if not _plain_key(key):
                return self.untrusted(obj, f"a dict key of type {_type_names(key)[1]}")
            pairs.append([self.enc(key, depth + 1), self.enc(value, depth + 1)])
        return {"odict" if type(obj) is OrderedDict else "dict": pairs}

    def enc_set(self, obj: Any, depth: int) -> Any:
        items = []
        for v in obj:
            if v is not None and type(v) not in (bool, int, float, str):
                return self.untrusted(obj, f"a set holding a {_type_names(v)[1]}")
            items.append(self.enc(v, depth + 1))
        items.sort(key=repr)
        return {"frozenset" if type(obj) is frozenset else "set": items}

    def enc_tensor(self, obj: torch.Tensor) -> Any:
        try:
            if obj.layout != torch.strided or obj.is_quantized or obj.is_meta:
                return self.untrusted(obj, f"a {obj.layout} tensor (only dense tensors)")
            dtype = _TENSOR_DTYPE_NAMES.get(obj.dtype)
            if dtype is None:
                return self.untrusted(obj, f"a tensor of dtype {obj.dtype}")
            if obj.dim() > MAX_NDIM:
                return self.untrusted(obj, f"a tensor with more than {MAX_NDIM} dimensions")
            flags = {"requires_grad": bool(obj.requires_grad), "is_leaf": bool(obj.is_leaf)}
            t = obj.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
            self.charge(t.numel() * t.element_size() * 4 // 3 + 64)
            raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        except WireLimitError:
            raise
        except Exception as exc:  # a tensor whose data cannot be read (e.g. patched torch)
            return self.untrusted(obj, f"its data could not be read ({type(exc).__name__})")
        return {
            "tensor": {
                "dtype": dtype,
                "shape": [int(s) for s in obj.shape],
                "data": base64.b64encode(raw).decode("ascii"),
                **flags,
            }
        }

    def enc_ndarray(self, obj: np.ndarray) -> Any:
        name = obj.dtype.name
        if name not in NUMPY_DTYPES:
            return self.untrusted(obj, f"a numpy array of dtype {name}")
        if obj.ndim > MAX_NDIM:
            return self.untrusted(obj, f"a numpy array with more than {MAX_NDIM} dimensions")
        self.charge(obj.nbytes * 4 // 3 + 64)
        raw = np.ascontiguousarray(obj, dtype=np.dtype(name).newbyteorder("=")).tobytes()
        return {
            "ndarray": {
                "dtype": name,
                "shape": [int(s) for s in obj.shape],
                "data": base64.b64encode(raw).decode("ascii"),
            }
        }

    def enc_npscalar(self, obj: Any) -> Any:
        name = _NUMPY_SCALAR_TYPES[type(obj)]
        raw = np.array(obj, dtype=np.dtype(name).newbyteorder("=")).tobytes()
        return {"npscalar": {"dtype": name, "data": base64.b64encode(raw).decode("ascii")}}

    def enc_outcome(self, o: Outcome, depth: int) -> dict[str, Any]:
        def text(value: Any) -> Any:
            return value[:MAX_MESSAGE_CHARS] if type(value) is str else value

        reruns = o.reruns if type(o.reruns) is list else []
        return {
            "status": self.enc(o.status, depth + 1),
            "value": self.enc(o.value, depth + 1),
            "error_type": self.enc(text(o.error_type), depth + 1),
            "error_bases": self.enc(o.error_bases, depth + 1),
            "error_message": self.enc(text(o.error_message), depth + 1),
            "seconds": self.enc(o.seconds, depth + 1),
            "args_after": self.enc(o.args_after, depth + 1),
            "kwargs_after": self.enc(o.kwargs_after, depth + 1),
            "probe": self.enc(o.probe, depth + 1),
            "shares_input_memory": self.enc(o.shares_input_memory, depth + 1),
            "global_rng_changed": self.enc(o.global_rng_changed, depth + 1),
            "reruns": [self.enc_outcome(r, depth + 1) for r in reruns if type(r) is Outcome],
        }

    def enc_case(self, c: Case, depth: int) -> dict[str, Any]:
        return {
            "label": self.enc(c.label, depth + 1),
            "args": self.enc(tuple(c.args), depth + 1),
            "kwargs": self.enc(dict(c.kwargs), depth + 1),
            "hint": self.enc(c.hint, depth + 1),
            "post": self.enc(c.post, depth + 1),
            "reruns": self.enc(tuple(dict(r) for r in c.reruns), depth + 1),
        }


def _plain_key(key: Any, depth: int = 0) -> bool:
    """Dict keys allowed on the wire: scalars and (nested) tuples of scalars."""
    if key is None or type(key) in (bool, int, float, str):
        return True
    return type(key) is tuple and depth < 4 and all(_plain_key(k, depth + 1) for k in key)


def _is_structseq(obj: Any) -> bool:
    t = type(obj)
    return isinstance(obj, tuple) and hasattr(t, "n_sequence_fields")


def to_wire(obj: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The JSON-able tree of `obj` (see the module docstring for what is allowed)."""
    return _Encoder(max_bytes).enc(obj)


def encode(obj: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """JSON text for `obj`; raises :class:`WireLimitError` when it would exceed `max_bytes`."""
    tree = {"wire": WIRE_VERSION, "value": _Encoder(max_bytes).enc(obj)}
    text = json.dumps(tree, allow_nan=False, separators=(",", ":"))
    if len(text) > max_bytes:
        raise WireLimitError(
            f"the encoding is {len(text)} bytes, over the limit of {max_bytes} bytes"
        )
    return text


def encode_outcome(outcome: Outcome, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """:func:`encode` for an :class:`Outcome`; if it is too large, the returned value (then
    the probe data and input snapshots) are replaced by untrusted markers saying so."""
    if type(outcome) is not Outcome:
        return encode(outcome, max_bytes=max_bytes)
    try:
        return encode(outcome, max_bytes=max_bytes)
    except WireLimitError as exc:
        reason = f"too large to send back ({exc})"
    import dataclasses

    smaller = dataclasses.replace(outcome, value=_TooLarge(reason), reruns=[])
    try:
        return encode(smaller, max_bytes=max_bytes)
    except WireLimitError:
        smaller = dataclasses.replace(
            smaller, args_after=(), kwargs_after={}, probe={"wire_error": reason}
        )
        return encode(smaller, max_bytes=max_bytes)


class _TooLarge:
    """Placeholder for a value too large for the wire (becomes an untrusted marker)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


# ---- decoding -------------------------------------------------------------------------------


def _fail(what: str) -> WireError:
    return WireError(f"malformed wire data: {what}")


def _b64(text: Any) -> bytes:
    if type(text) is not str:
        raise _fail("tensor data is not a string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise _fail(f"bad base64 ({exc})") from None


def _shape(value: Any) -> tuple[int, ...]:
    if type(value) is not list or len(value) > MAX_NDIM:
        raise _fail("shape is not a short list")
    if not all(type(s) is int and 0 <= s < 2**40 for s in value):
        raise _fail("shape holds something other than sizes")
    return tuple(value)


def _exact_keys(node: Any, keys: set[str], what: str, optional: set[str] = frozenset()) -> None:
    if type(node) is not dict or not keys <= set(node) or not set(node) <= keys | optional:
        raise _fail(f"{what} has fields {sorted(node) if type(node) is dict else type(node)}")


def _dec_tensor(node: Any) -> torch.Tensor:
    _exact_keys(node, {"dtype", "shape", "data", "requires_grad", "is_leaf"}, "a tensor")
    dtype = TENSOR_DTYPES.get(node["dtype"]) if type(node["dtype"]) is str else None
    if dtype is None:
        raise _fail(f"tensor dtype {node['dtype']!r}")
    shape = _shape(node["shape"])
    raw = _b64(node["data"])
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != numel * itemsize:
        raise _fail(f"tensor of shape {shape} and dtype {node['dtype']} has {len(raw)} bytes")
    if numel == 0:
        t = torch.empty(shape, dtype=dtype)
    else:
        u8 = torch.frombuffer(bytearray(raw), dtype=torch.uint8).clone()
        t = (u8 != 0) if dtype == torch.bool else u8.view(dtype)
        t = t.reshape(shape).clone()
    requires_grad, is_leaf = node["requires_grad"], node["is_leaf"]
    if type(requires_grad) is not bool or type(is_leaf) is not bool:
        raise _fail("tensor flags are not bools")
    if requires_grad and t.dtype.is_floating_point:
        t.requires_grad_(True)
        if not is_leaf:
            t = t.clone()  # a non-leaf, like the original (it carries a grad_fn)
    return t


def _dec_ndarray(node: Any) -> np.ndarray:
    _exact_keys(node, {"dtype", "shape", "data"}, "a numpy array")
    if node["dtype"] not in NUMPY_DTYPES:
        raise _fail(f"numpy dtype {node['dtype']!r}")
    dtype = np.dtype(node["dtype"])
    shape = _shape(node["shape"])
    raw = _b64(node["data"])
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise _fail(f"numpy array of shape {shape} has {len(raw)} bytes")
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape).copy()


def _dec_npscalar(node: Any) -> Any:
    _exact_keys(node, {"dtype", "data"}, "a numpy scalar")
    if node["dtype"] not in NUMPY_DTYPES:
        raise _fail(f"numpy dtype {node['dtype']!r}")
    dtype = np.dtype(node["dtype"])
    raw = _b64(node["data"])
    if len(raw) != dtype.itemsize:
        raise _fail("numpy scalar of the wrong size")
    return np.frombuffer(bytearray(raw), dtype=dtype)[0]


def _str(node: Any, what: str) -> str:
    if type(node) is not str:
        raise _fail(f"{what} is not a string")
    return node


def _dec_outcome(node: Any, depth: int) -> Outcome:
    fields = {
        "status",
        "value",
        "error_type",
        "error_bases",
        "error_message",
        "seconds",
        "args_after",
        "kwargs_after",
        "probe",
        "shares_input_memory",
        "global_rng_changed",
        "reruns",
    }
    _exact_keys(node, fields, "an outcome")
    status = node["status"]
    if status not in _OUTCOME_STATUSES:
        raise _fail(f"outcome status {status!r}")
    bases = _dec(node["error_bases"], depth + 1)
    if type(bases) is not tuple or not all(type(b) is str for b in bases):
        raise _fail("error_bases is not a tuple of strings")
    seconds = node["seconds"]
    if type(seconds) not in (int, float) or not math.isfinite(seconds) or seconds < 0:
        raise _fail("seconds is not a non-negative number")
    args_after = _dec(node["args_after"], depth + 1)
    kwargs_after = _dec(node["kwargs_after"], depth + 1)
    probe = _dec(node["probe"], depth + 1)
    if type(args_after) is not tuple or type(kwargs_after) is not dict or type(probe) is not dict:
        raise _fail("args_after/kwargs_after/probe have the wrong types")
    for flag in ("shares_input_memory", "global_rng_changed"):
        if type(node[flag]) is not bool:
            raise _fail(f"{flag} is not a bool")
    if type(node["reruns"]) is not list:
        raise _fail("reruns is not a list")
    return Outcome(
        status=status,
        value=_dec(node["value"], depth + 1),
        error_type=_str(node["error_type"], "error_type")[:MAX_MESSAGE_CHARS],
        error_bases=bases,
        error_message=_str(node["error_message"], "error_message")[:MAX_MESSAGE_CHARS],
        seconds=float(seconds),
        args_after=args_after,
        kwargs_after=kwargs_after,
        probe=probe,
        shares_input_memory=node["shares_input_memory"],
        global_rng_changed=node["global_rng_changed"],
        reruns=[_dec_outcome(r, depth + 1) for r in node["reruns"]],
    )


def _dec_case(node: Any, depth: int) -> Case:
    _exact_keys(node, {"label", "args", "kwargs", "hint", "post", "reruns"}, "a case")
    args, kwargs = _dec(node["args"], depth + 1), _dec(node["kwargs"], depth + 1)
    post, reruns = _dec(node["post"], depth + 1), _dec(node["reruns"], depth + 1)
    if type(args) is not tuple or type(kwargs) is not dict:
        raise _fail("case args/kwargs have the wrong types")
    if post is not None and type(post) is not Build:
        raise _fail("case post is not a Build")
    if type(reruns) is not tuple or not all(type(r) is dict for r in reruns):
        raise _fail("case reruns is not a tuple of dicts")
    return Case(
        label=_str(node["label"], "label"),
        args=args,
        kwargs=kwargs,
        hint=_str(node["hint"], "hint"),
        post=post,
        reruns=reruns,
    )


def _dec_pairs(pairs: Any, depth: int, cls: type) -> Any:
    if type(pairs) is not list:
        raise _fail("dict items are not a list")
    out = cls()
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise _fail("a dict item is not a [key, value] pair")
        key = _dec(pair[0], depth + 1)
        if not _plain_key(key):
            raise _fail(f"a dict key of type {type(key).__name__}")
        out[key] = _dec(pair[1], depth + 1)
    return out


def _dec(node: Any, depth: int = 0) -> Any:
    if depth > 4 * MAX_DEPTH:
        raise _fail("nested too deeply")
    t = type(node)
    if node is None or t in (bool, int, str):
        return node
    if t is float:
        if not math.isfinite(node):
            raise _fail("a bare non-finite float")
        return node
    if t is list:
        return [_dec(v, depth + 1) for v in node]
    if t is not dict or len(node) != 1:
        raise _fail(f"an object with {len(node) if t is dict else 'no'} tags")
    ((tag, body),) = node.items()
    if tag == "tuple":
        if type(body) is not list:
            raise _fail("tuple body is not a list")
        return tuple(_dec(v, depth + 1) for v in body)
    if tag == "dict":
        return _dec_pairs(body, depth, dict)
    if tag == "odict":
        return _dec_pairs(body, depth, OrderedDict)
    if tag in ("set", "frozenset"):
        if type(body) is not list:
            raise _fail("set body is not a list")
        items = [_dec(v, depth + 1) for v in body]
        if not all(v is None or type(v) in (bool, int, float, str) for v in items):
            raise _fail("a set holding a non-scalar")
        return set(items) if tag == "set" else frozenset(items)
    if tag == "float":
        if body not in ("nan", "inf", "-inf"):
            raise _fail(f"float {body!r}")
        return float(body)
    if tag == "tensor":
        return _dec_tensor(body)
    if tag == "ndarray":
        return _dec_ndarray(body)
    if tag == "npscalar":
        return _dec_npscalar(body)
    if tag == "npstr":
        return np.str_(_str(body, "numpy string"))
    if tag == "untrusted":
        _exact_keys(body, {"module", "qualname", "reason"}, "an untrusted marker")
        return make_untrusted(
            _str(body["module"], "module"),
            _str(body["qualname"], "qualname"),
            _str(body["reason"], "reason"),
        )
    if tag == "outcome":
        return _dec_outcome(body, depth)
    if tag == "case":
        return _dec_case(body, depth)
    if tag == "build":
        _exact_keys(body, {"kind", "params"}, "a build")
        params = _dec(body["params"], depth + 1)
        if type(params) is not dict:
            raise _fail("build params are not a dict")
        return Build(kind=_str(body["kind"], "build kind"), params=params)
    raise _fail(f"unknown tag {tag!r}")


def _reject_constant(name: str) -> Any:
    raise _fail(f"bare {name}")


def from_wire(tree: Any) -> Any:
    """Rebuild a value from its JSON-able tree (:func:`to_wire`'s inverse)."""
    return _dec(tree)


def decode(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Rebuild the value encoded in `text` with trusted code; :class:`WireError` if it is
    malformed, :class:`WireLimitError` if it is longer than `max_bytes`."""
    if type(text) not in (str, bytes):
        raise _fail(f"input of type {type(text).__name__}")
    if len(text) > max_bytes:
        raise WireLimitError(f"the input is {len(text)} bytes, over the limit of {max_bytes}")
    try:
        tree = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _fail("nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(f"not JSON ({exc})") from None
    if type(tree) is not dict or set(tree) != {"wire", "value"} or tree["wire"] != WIRE_VERSION:
        raise _fail("missing the wire envelope or a different wire version")
    try:
        return _dec(tree["value"])
    except RecursionError:
        raise _fail("nested too deeply") from None


def decode_outcome(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Outcome:
    """:func:`decode`, requiring an :class:`Outcome`."""
    value = decode(text, max_bytes=max_bytes)
    if type(value) is not Outcome:
        raise WireError(f"expected an outcome, got {type(value).__name__}")
    return value


def encode_case(case: Case, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """:func:`encode` for a :class:`Case`; raises :class:`WireError` if any part of it is not
    plain data (a case must be, to be sent into the sandbox)."""
    text = encode(case, max_bytes=max_bytes)
    if '"untrusted"' in text:
        bad = _find_untrusted(to_wire(case, max_bytes=max_bytes))
        raise WireError(f"case {case.label!r} holds data that cannot cross the wire: {bad}")
    return text


def _find_untrusted(tree: Any) -> str:
    if type(tree) is dict:
        if set(tree) == {"untrusted"}:
            body = tree["untrusted"]
            return f"{body['module']}.{body['qualname']} ({body['reason']})"
        for value in tree.values():
            found = _find_untrusted(value)
            if found:
                return found
    elif type(tree) is list:
        for value in tree:
            found = _find_untrusted(value)
            if found:
                return found
    return ""


def decode_case(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Case:
    """:func:`decode`, requiring a :class:`Case`."""
    value = decode(text, max_bytes=max_bytes)
    if type(value) is not Case:
        raise WireError(f"expected a case, got {type(value).__name__}")
    return value


def is_untrusted(value: Any) -> bool:
    return isinstance(value, UntrustedObject)


def plain_equal(a: Any, b: Any) -> bool:
    """Structural equality by exact type (tensors: dtype, shape, flags and bits; NaN equals
    NaN), for tests of the round trip."""
    if type(a) is not type(b):
        return False
    if type(a) is torch.Tensor:
        return (
            a.dtype == b.dtype
            and a.shape == b.shape
            and a.requires_grad == b.requires_grad
            and a.is_leaf == b.is_leaf
            and torch.equal(
                a.detach().reshape(-1).view(torch.uint8) if a.numel() else a.detach(),
                b.detach().reshape(-1).view(torch.uint8) if b.numel() else b.detach(),
            )
        )
    if type(a) is np.ndarray:
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if type(a) in _NUMPY_SCALAR_TYPES:
        return a.tobytes() == b.tobytes()
    if type(a) is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(plain_equal(x, y) for x, y in zip(a, b))
    if type(a) in (dict, OrderedDict):
        return list(a.keys()) == list(b.keys()) and all(plain_equal(a[k], b[k]) for k in a)
    if type(a) in (set, frozenset):
        return {repr(x) for x in a} == {repr(x) for x in b}
    if isinstance(a, UntrustedObject):
        return (a.type_module, a.type_qualname, a.reason) == (
            b.type_module,
            b.type_qualname,
            b.reason,
        )
    if type(a) in (Outcome, Case, Build):
        import dataclasses

        return all(
            plain_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, Mapping):
        return False
    return a == b
