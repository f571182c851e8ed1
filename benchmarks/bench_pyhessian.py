"""Benchmark the reference Hessian estimators against PyHessian, the papers' own library.

PyHessian (Yao, Gholami et al., "PyHessian: Neural Networks Through the Lens of the Hessian",
2020) is an optional, benchmark-only dependency: ``pip install -e '.[bench]'`` after torch
(see the README). Without it this script prints how to install it and exits 0.

Like for like, on one model and one set of random vectors:

- the model: ``landscape_lab.make_mlp(hidden=(256, 256))`` at its seed-0 initialisation
  (2 -> 256 -> 256 -> 4, 67,588 parameters), mean cross-entropy on the 1,024 training points
  of ``landscape_lab.make_dataset()``, in float64 by default (``--dtype float32`` for the
  course's dtype). PyHessian gets the ``nn.Module`` and ``nn.CrossEntropyLoss()``; the
  reference gets ``landscape_lab.flat_loss_fn`` of the same model and data.
- ``hutchinson_trace`` vs ``hessian.trace()``: PyHessian draws each probe inside ``trace()``
  from torch's global generator (``torch.randint_like`` per parameter tensor, 0 mapped to
  -1) and stops when the running mean changes by less than ``tol`` relative. Here its draws
  are replaced by the rows of one fixed matrix of Rademacher probes, the matrix that the
  reference is given, and ``tol=-inf`` makes it use all of them: both compute the mean of
  v^T H v over the same ``--probes`` vectors, so they agree to rounding (1e-10 relative in
  float64).
- ``top_eigenvalue`` vs ``hessian.eigenvalues(top_n=1)``: both run power iteration with
  Hessian-vector products (HVPs). PyHessian starts from ``torch.randn`` per parameter tensor
  (global generator); that draw is replaced by the reference's own start vector
  (``torch.randn(d, generator=torch.Generator().manual_seed(0))``). PyHessian computes the
  Rayleigh quotient of every iterate and stops once two consecutive ones differ by less
  than ``tol`` relative (default 1e-3, at most ``maxIter=100`` HVPs) and returns the earlier
  of the two; the reference returns the Rayleigh quotient after ``num_iters`` steps, i.e.
  ``num_iters + 1`` HVPs. Two cases: PyHessian's defaults, where it stops after k HVPs and
  the reference gets ``num_iters = k - 1`` (the same k HVPs; the answers agree within
  PyHessian's tolerance by its own stopping rule), and ``--power-iters`` HVPs for both
  (PyHessian with ``tol=-inf``), where they agree to ~1e-6 relative: PyHessian divides by
  ``norm + 1e-6`` instead of the norm, so its vectors are short by about 1e-6.

Timing: the two methods alternate within one process, one untimed warm-up each, then
``--repeats`` timed rounds (the order swapped every round, so that a change in the machine's
load hits both); the medians of wall-clock and CPU seconds are printed, with the ratio of the
wall-clock medians. PyHessian's time is that of ``trace()`` / ``eigenvalues()`` alone: its
constructor's forward and backward pass (shown separately) is not counted, while the
reference's time includes its own. The load average before and after is printed: the
machine is shared, and a 2-thread run on a busy 2-core machine can stall in OpenMP barriers
(compare ``--threads 1``, or ``OMP_WAIT_POLICY=PASSIVE``).

Usage: ``python benchmarks/bench_pyhessian.py [--repeats 5] [--threads N] [--dtype float64]
[--probes 50] [--power-iters 100] [--hidden 256,256] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator

import torch

SEED = 0
CASES = {"trace", "eigen_default", "eigen_fixed"}
INSTALL_HINT = (
    "pyhessian is not installed: it is a benchmark-only extra. Install it next to torch 2.13.0 "
    "with `pip install -c constraints.txt -e '.[bench]'` (or `pip install --no-deps "
    "pyhessian==0.1`; its only other dependency is numpy), then run this again."
)
#: relative agreement required between PyHessian's and the reference's trace, per dtype
TRACE_RTOL = {torch.float64: 1e-10, torch.float32: 1e-5}
#: with the same number of HVPs the eigenvalues differ by PyHessian's 1e-6 normalisation
#: offset (about 2e-6 relative); allow 1e-5 (float32: rounding over ~100 iterations)
EIGEN_FIXED_RTOL = {torch.float64: 1e-5, torch.float32: 1e-4}


def _pyhessian_module():
    """PyHessian's `pyhessian.hessian` module (the package exports a class of that name)."""
    importlib.import_module("pyhessian")
    return sys.modules["pyhessian.hessian"]


class _FixedDraws:
    """Stands in for the `torch` module inside PyHessian's code: its random draws
    (`torch.randint_like` for probes, `torch.randn` for the power iteration's start) return
    the next prepared tensor instead, and everything else is torch's."""

    def __init__(self, draws: list[torch.Tensor]):
        self._draws = list(draws)
        self.used = 0

    def __getattr__(self, name: str):
        return getattr(torch, name)

    def _next(self, shape: torch.Size) -> torch.Tensor:
        draw = self._draws[self.used]
        if draw.shape != shape:
            raise RuntimeError(f"draw {self.used} has shape {tuple(draw.shape)}, not {shape}")
        self.used += 1
        return draw.clone()  # PyHessian edits its probes in place (0 -> -1)

    def randint_like(self, p: torch.Tensor, high: int, device=None) -> torch.Tensor:
        assert high == 2
        return self._next(p.shape)

    def randn(self, *size) -> torch.Tensor:
        return self._next(torch.Size(size[0] if len(size) == 1 else size))


@contextlib.contextmanager
def fixed_draws(draws: list[torch.Tensor]) -> Iterator[_FixedDraws]:
    """PyHessian draws `draws`, in order, instead of random tensors; all must be used."""
    module = _pyhessian_module()
    feed = _FixedDraws(draws)
    module.torch = feed
    try:
        yield feed
    finally:
        module.torch = torch
    if feed.used != len(draws):
        raise RuntimeError(f"PyHessian used {feed.used} of the {len(draws)} prepared draws")


def _split(vector: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    """A flat vector as tensors shaped like `params` (PyHessian's list-of-tensors vectors)."""
    sizes = [p.numel() for p in params]
    return [part.reshape(p.shape) for part, p in zip(vector.split(sizes), params)]


def setup(dtype: torch.dtype, hidden: tuple[int, ...], num_probes: int) -> dict:
    """The model, data, the reference's loss_fn and theta, the probes and the start vector."""
    import landscape_lab

    from solutions import landscape_geometry as lg

    data = landscape_lab.make_dataset()
    model = landscape_lab.make_mlp(hidden=hidden).to(dtype)
    X, y = data.X_train.to(dtype), data.y_train
    theta = landscape_lab.flatten_params(landscape_lab.params_of(model))
    probes = lg.rademacher_probes(num_probes, theta.numel(), torch.Generator().manual_seed(SEED))
    probes = probes.to(dtype)
    start = torch.randn(theta.shape, generator=torch.Generator().manual_seed(SEED), dtype=dtype)
    return {
        "model": model,
        "X": X,
        "y": y,
        "loss_fn": landscape_lab.flat_loss_fn(model, X, y),
        "theta": theta,
        "probes": probes,
        "start": start,
    }


def pyhessian_call(s: dict, method: str, **kwargs) -> tuple[float, float, int]:
    """Build PyHessian's `hessian` object and call one of its methods with PyHessian's random
    draws replaced by the benchmark's probes / start vector. Returns (its answer, constructor
    seconds, number of HVPs)."""
    module = _pyhessian_module()
    model = s["model"]
    params = list(model.parameters())
    if method == "trace":
        # randint_like per parameter tensor and probe; PyHessian maps the zeros to -1.
        draws = [bits for v in s["probes"] for bits in _split((v + 1) / 2, params)]
    else:
        draws = _split(s["start"], params)
    hvps = 0
    product = module.hessian_vector_product

    def counted_product(*args, **kw):
        nonlocal hvps
        hvps += 1
        return product(*args, **kw)

    model.zero_grad(set_to_none=True)  # its constructor accumulates into .grad
    with warnings.catch_warnings():
        # "backward() with create_graph=True will create a reference cycle": PyHessian's own
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        h = module.hessian(model, torch.nn.CrossEntropyLoss(), data=(s["X"], s["y"]), cuda=False)
        constructor_s = time.perf_counter() - start
        module.hessian_vector_product = counted_product
        try:
            with fixed_draws(draws):
                result = getattr(h, method)(**kwargs)
        finally:
            module.hessian_vector_product = product
    model.zero_grad(set_to_none=True)  # breaks the parameter <-> .grad reference cycle
    if method == "trace":
        if hvps != len(s["probes"]):
            raise RuntimeError(f"PyHessian used {hvps} probes, not {len(s['probes'])}")
        value = float(statistics.fmean(result))
    else:
        value = float(result[0][0])
    return value, constructor_s, hvps


def gemm_floor_s(n: int, hidden: tuple[int, ...], dtype: torch.dtype, repeats: int) -> float:
    """Seconds per HVP spent in its large matrix products alone (median of `repeats`).

    Between two hidden layers of widths a -> b on n points, a Hessian-vector product by
    reverse-over-reverse (PyHessian, the reference) or forward-over-reverse (torch.func's
    jvp of grad) does six n x a x b products: two for the tangent of the pre-activations
    (dx W^T + x dW^T), two for the tangent of the gradient with respect to x (dg W + g dW),
    two for the tangent of the weight gradient (dg^T x + g^T dx). Batching probes does not
    change their number. The thin input and output layers are left out, so this is a lower
    bound on any such HVP's time: a method cannot beat PyHessian by more than its time per
    HVP over this.
    """
    pairs = list(itertools.pairwise(hidden))
    if not pairs:
        return 0.0
    mats = [
        (
            torch.randn(n, a, dtype=dtype),
            torch.randn(a, b, dtype=dtype),
            torch.randn(b, n, dtype=dtype),
        )
        for a, b in pairs
    ]

    def six_products() -> None:
        for x, w, gt in mats:  # x: (n, a), w: (a, b), gt: (b, n)
            y = x @ w  # (n, b): the two tangent products of the pre-activations
            x @ w
            y @ w.T  # (n, a): the two products of the gradient's tangent
            y @ w.T
            gt @ x  # (b, a): the two products of the weight gradient's tangent
            gt @ x

    six_products()
    times = []
    for _ in range(max(repeats, 5)):
        start = time.perf_counter()
        six_products()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _time_pair(calls: dict[str, Callable[[], float]], repeats: int) -> dict[str, dict[str, object]]:
    """Alternate the calls: one warm-up each, then `repeats` timed rounds in swapped order."""
    names = list(calls)
    records: dict[str, dict[str, object]] = {
        n: {"times_s": [], "cpu_s": [], "value": None} for n in names
    }
    for name in names:
        records[name]["value"] = calls[name]()
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            start, cpu_start = time.perf_counter(), time.process_time()
            value = calls[name]()
            records[name]["times_s"].append(time.perf_counter() - start)
            records[name]["cpu_s"].append(time.process_time() - cpu_start)
            records[name]["value"] = value
    for record in records.values():
        record["median_s"] = statistics.median(record["times_s"])
        record["median_cpu_s"] = statistics.median(record["cpu_s"])
    return records


def run(args: argparse.Namespace) -> dict:
    from solutions import landscape_geometry as lg

    dtype = getattr(torch, args.dtype)
    s = setup(dtype, args.hidden, args.probes)
    loss_fn, theta = s["loss_fn"], s["theta"]
    inf = -math.inf  # tol=-inf: PyHessian never stops early
    extra: dict[str, object] = {}

    def ph_method(method: str, **kwargs) -> Callable[[], float]:
        def call() -> float:
            value, constructor_s, hvps = pyhessian_call(s, method, **kwargs)
            extra.setdefault(f"{method}_constructor_s", []).append(constructor_s)
            extra[f"{method}_hvps"] = hvps
            return value

        return call

    def reference_eigen(num_iters: int) -> Callable[[], float]:
        return lambda: lg.top_eigenvalue(
            loss_fn, theta, num_iters=num_iters, generator=torch.Generator().manual_seed(SEED)
        )

    # How many HVPs PyHessian's eigenvalues() takes with its defaults, measured once.
    _, _, default_hvps = pyhessian_call(s, "eigenvalues")
    cases = {
        "trace": (
            f"trace, {args.probes} probes",
            args.probes,
            ph_method("trace", maxIter=args.probes, tol=inf),
            lambda: lg.hutchinson_trace(loss_fn, theta, s["probes"]),
            TRACE_RTOL[dtype],
        ),
        "eigen_default": (
            f"top eigenvalue, PyHessian defaults: {default_hvps} HVPs",
            default_hvps,
            ph_method("eigenvalues"),  # maxIter=100, tol=1e-3, top_n=1
            reference_eigen(default_hvps - 1),
            1e-3,  # PyHessian's tolerance
        ),
        "eigen_fixed": (
            f"top eigenvalue, {args.power_iters} HVPs",
            args.power_iters,
            ph_method("eigenvalues", maxIter=args.power_iters, tol=inf, top_n=1),
            reference_eigen(args.power_iters - 1),
            EIGEN_FIXED_RTOL[dtype],
        ),
    }
    report: dict[str, object] = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "parameters": theta.numel(),
        "hidden": list(args.hidden),
        "repeats": args.repeats,
        "load_before": os.getloadavg(),
        "cases": {},
    }
    for case, (description, hvps, ph_call, ref_call, rtol) in cases.items():
        if args.cases and case not in args.cases:
            continue
        records = _time_pair({"pyhessian": ph_call, "reference": ref_call}, args.repeats)
        ph, ref = records["pyhessian"], records["reference"]
        floor_s = hvps * gemm_floor_s(len(s["X"]), args.hidden, dtype, args.repeats)
        rel = abs(ref["value"] - ph["value"]) / max(abs(ph["value"]), 1e-300)
        report["cases"][case] = {
            "description": description,
            "pyhessian": ph,
            "reference": ref,
            "speedup": ph["median_s"] / ref["median_s"],
            "hvps": hvps,
            "gemm_floor_s": floor_s,
            "relative_difference": rel,
            "rtol": rtol,
            "agrees": rel <= rtol,
        }
    method = {"trace": "trace", "eigen_default": "eigenvalues", "eigen_fixed": "eigenvalues"}
    for case, name in method.items():
        if case not in report["cases"]:
            continue
        report["cases"][case]["pyhessian_constructor_median_s"] = statistics.median(
            extra[f"{name}_constructor_s"]
        )
    report["load_after"] = os.getloadavg()
    return report


def _hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of ints: {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"widths must be >= 1: {text!r}")
    return widths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--probes", type=int, default=50, help="Rademacher probes (default 50)")
    parser.add_argument(
        "--power-iters", type=int, default=100, help="HVPs of the fixed power iteration"
    )
    parser.add_argument(
        "--hidden", type=_hidden, default=(256, 256), help="hidden widths (default 256,256)"
    )
    parser.add_argument(
        "--cases",
        type=lambda text: text.split(","),
        default=None,
        help="comma-separated subset of: trace, eigen_default, eigen_fixed (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw records as JSON")
    args = parser.parse_args(argv)
    unknown = set(args.cases or ()) - CASES
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {sorted(CASES)}")
    for name in ("repeats", "probes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.power_iters < 2:
        parser.error("--power-iters must be at least 2")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    try:
        _pyhessian_module()
    except ImportError:
        print(f"bench_pyhessian: skipped. {INSTALL_HINT}")
        return 0

    report = run(args)
    ok = all(case["agrees"] for case in report["cases"].values())
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if ok else 1
    load = lambda key: ", ".join(f"{x:.2f}" for x in report[key])  # noqa: E731
    print(
        f"PyHessian vs reference: torch {report['torch']}, {report['threads']} threads, "
        f"{report['dtype']}, MLP {report['hidden']} ({report['parameters']:,} parameters), "
        f"1,024 points; median of {report['repeats']} alternating runs; load average "
        f"{load('load_before')} before, {load('load_after')} after"
    )
    header = (
        f"{'case':<44} {'PyHessian s':>11} {'(+ctor)':>8} {'reference s':>11} {'speedup':>8} "
        f"{'cpu speedup':>11} {'GEMM floor s':>12} {'rel. diff':>9}  agrees"
    )
    print(header)
    print("-" * len(header))
    for case in report["cases"].values():
        ph, ref = case["pyhessian"], case["reference"]
        print(
            f"{case['description']:<44} {ph['median_s']:>11.3f} "
            f"{case['pyhessian_constructor_median_s']:>8.3f} {ref['median_s']:>11.3f} "
            f"{case['speedup']:>7.2f}x {ph['median_cpu_s'] / ref['median_cpu_s']:>10.2f}x "
            f"{case['gemm_floor_s']:>12.3f} {case['relative_difference']:>9.1e}  "
            f"{'yes' if case['agrees'] else 'NO'} (tol {case['rtol']:.0e})"
        )
    print(
        "GEMM floor: the six large matrix products of every HVP alone (gemm_floor_s); no "
        "HVP-based method, batched or not, can be faster than PyHessian by more than "
        "PyHessian's time over this floor."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
