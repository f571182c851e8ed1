"""Benchmark the landscape-geometry reference solutions against straightforward loops.

Times, on the notebook-02 model (``landscape_lab.make_mlp(hidden=(32, 32))`` at its seed-0
initialisation, mean cross-entropy on ``landscape_lab.make_dataset()``'s training data through
``landscape_lab.flat_loss_fn``):

- ``hutchinson_trace`` with 100 Rademacher probes (one forward and one first backward pass,
  then one backward pass through the gradient's graph per probe) vs a straightforward
  per-probe loop of double-backward Hessian-vector products (a fresh forward and two
  backward passes per probe);
- ``top_eigenvalue`` with 100 power iterations vs the same power iteration calling a fresh
  double-backward HVP per step;
- ``loss_surface`` on a 41 x 41 grid vs a Python double loop of ``loss_fn`` calls.

``benchmarks/bench_pyhessian.py`` compares ``hutchinson_trace`` and ``top_eigenvalue`` with
PyHessian's on a 67,588-parameter MLP.

Every case runs in a fresh subprocess. Time: the median wall-clock seconds of ``--repeats``
timed calls after one untimed warm-up call, and the median CPU seconds of the same calls
(``time.process_time``, summed over all threads; steadier than wall time on a shared VM). Memory: the increase of the subprocess's peak
resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) from just before the warm-up
call to after the last timed call, i.e. the extra peak memory the method needed on top of the
model and data (torch's CPU allocations count, unlike with tracemalloc). It is a coarse,
page-granular high-water mark: 0 means "fits in memory that was already resident".
``faults``: minor page faults per timed call (``ru_minflt``).

Usage: ``python benchmarks/bench_geometry.py [--repeats 5] [--threads N] [--malloc-defaults]``.

The batched methods allocate tensors of a few MiB per chunk (e.g. 16 x 1024 x 32 activations
for ``loss_surface``). With glibc's default dynamic malloc thresholds these are often handed
back to the kernel on ``free`` and faulted in again on the next ``malloc``: up to 10^5 page
faults per 41 x 41 surface and run-to-run swings of up to 3x (the ``faults`` column shows
it). Every case subprocess, baselines included (they do not gain from it), therefore raises
glibc's thresholds once at start-up (`keep_freed_memory`), as jemalloc or tcmalloc would
behave anyway; the reference solutions themselves leave the process's allocator alone.
``--malloc-defaults`` skips that in every case, to show the effect; the header says which
allocator setting was used.

On small VMs whose virtual CPUs are shared, OpenMP's default spin-waiting can make torch's
2-thread parallel regions stall for seconds; compare ``--threads 1`` or run with
``OMP_WAIT_POLICY=PASSIVE`` in the environment (it is passed on to the subprocesses).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

NUM_PROBES = 100
POWER_ITERS = 100
GRID_POINTS = 41
GRID_HALF_WIDTH = 1.0
SEED = 0
#: hutchinson and top-eigenvalue results of a method and its baseline must agree this closely.
AGREEMENT_RTOL = 1e-4

#: glibc mallopt parameters (malloc.h) and the values `keep_freed_memory` sets: blocks up
#: to 64 MiB come from the heap, and up to 256 MiB of freed heap stays in the process.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD = 64 << 20, 256 << 20
_ALLOCATOR_TUNED = False

#: (case, baseline case or None, description)
CASES = [
    ("hutchinson_loop", None, f"per-probe double-backward loop, {NUM_PROBES} probes"),
    ("hutchinson_trace", "hutchinson_loop", f"hutchinson_trace, {NUM_PROBES} probes"),
    ("power_loop", None, f"power iteration, fresh HVP per step, {POWER_ITERS} iters"),
    ("top_eigenvalue", "power_loop", f"top_eigenvalue, {POWER_ITERS} iters"),
    ("surface_loop", None, f"Python double loop, {GRID_POINTS}x{GRID_POINTS} grid"),
    ("loss_surface", "surface_loop", f"loss_surface, {GRID_POINTS}x{GRID_POINTS} grid"),
]


def keep_freed_memory() -> bool:
    """Stop glibc from returning the batched evaluations' activations to the kernel.

    Each chunk of a batched evaluation allocates activations of a few MiB and frees them
    again. glibc's dynamic thresholds often hand such blocks back to the kernel (munmap, or
    trimming the heap top), and the next chunk faults every page in again: 10^4-10^5 minor
    page faults per 41x41 surface on the notebook-02 model, which made loss_surface 1.4x
    instead of ~3x the speed of a plain loop in some runs. Raising the thresholds once per
    process (what jemalloc or tcmalloc would do anyway) keeps freed memory for reuse.

    Idempotent: only the first call of a process does anything. Returns whether the
    thresholds are raised; False where the C library has no mallopt (macOS, musl, Windows).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED or not sys.platform.startswith("linux"):
        return _ALLOCATOR_TUNED
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
    _ALLOCATOR_TUNED = True
    return True


def _setup() -> dict:
    """The notebook-02 model, its flat loss, theta, probes and plane directions."""
    import landscape_lab

    data = landscape_lab.make_dataset()
    model = landscape_lab.make_mlp(hidden=(32, 32))
    loss_fn = landscape_lab.flat_loss_fn(model, data.X_train, data.y_train)
    theta = landscape_lab.flatten_params(landscape_lab.params_of(model))
    generator = torch.Generator().manual_seed(SEED)
    probes = (torch.randint(0, 2, (NUM_PROBES, theta.numel()), generator=generator) * 2 - 1).to(
        theta.dtype
    )
    d1 = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    d2 = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    grid = torch.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, GRID_POINTS, dtype=theta.dtype)
    return {"loss_fn": loss_fn, "theta": theta, "probes": probes, "d1": d1, "d2": d2, "grid": grid}


def _naive_hvp(loss_fn: Callable, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """One Hessian-vector product from scratch: forward, backward, double backward."""
    x = theta.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(grad, x, grad_outputs=v)
    return hv


def _make_call(case: str, s: dict) -> Callable[[], object]:
    """The zero-argument callable that one timed run of `case` executes."""
    from solutions import landscape_geometry as lg

    loss_fn, theta, probes = s["loss_fn"], s["theta"], s["probes"]
    d1, d2, grid = s["d1"], s["d2"], s["grid"]

    def hutchinson_loop() -> float:
        total = 0.0
        for v in probes:
            total += float(v @ _naive_hvp(loss_fn, theta, v))
        return total / len(probes)

    def power_loop() -> float:
        generator = torch.Generator().manual_seed(SEED)
        v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
        v = v / v.norm()
        for _ in range(POWER_ITERS):
            hv = _naive_hvp(loss_fn, theta, v)
            v = hv / hv.norm()
        return float(v @ _naive_hvp(loss_fn, theta, v))

    def surface_loop() -> torch.Tensor:
        Z = torch.empty(len(grid), len(grid))
        with torch.no_grad():
            for i, a in enumerate(grid.tolist()):
                for j, b in enumerate(grid.tolist()):
                    Z[i, j] = loss_fn(theta + a * d1 + b * d2)
        return Z

    calls: dict[str, Callable[[], object]] = {
        "hutchinson_loop": hutchinson_loop,
        "hutchinson_trace": lambda: lg.hutchinson_trace(loss_fn, theta, probes),
        "power_loop": power_loop,
        "top_eigenvalue": lambda: lg.top_eigenvalue(
            loss_fn,
            theta,
            num_iters=POWER_ITERS,
            generator=torch.Generator().manual_seed(SEED),
        ),
        "surface_loop": surface_loop,
        "loss_surface": lambda: lg.loss_surface(loss_fn, theta, d1, d2, grid, grid),
    }
    return calls[case]


def _run_case(case: str, repeats: int, *, tune_malloc: bool = True) -> dict:
    """Time one case in this process (called in a fresh subprocess) and return the record."""
    malloc_tuned = keep_freed_memory() if tune_malloc else False
    call = _make_call(case, _setup())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    call()  # warm-up
    times, cpu_times = [], []
    result: object = None
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = call()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if isinstance(result, torch.Tensor):
        summary = {"surface_sum": float(result.double().sum())}
    else:
        summary = {"value": float(result)}  # type: ignore[arg-type]
    return {
        "case": case,
        "median_s": statistics.median(times),
        "times_s": times,
        "median_cpu_s": statistics.median(cpu_times),
        "peak_rss_delta_mib": (rss_after - rss_before) / 1024,  # Linux reports KiB
        "page_faults_per_call": faults / repeats,
        "malloc_tuned": malloc_tuned,
        **summary,
    }


def _agree(a: dict, b: dict) -> bool:
    key = "value" if "value" in a else "surface_sum"
    return abs(a[key] - b[key]) <= AGREEMENT_RTOL * max(abs(b[key]), 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads in each case (default: torch's default)",
    )
    parser.add_argument(
        "--malloc-defaults",
        action="store_true",
        help="keep glibc's default malloc thresholds in every case (by default each case "
        "raises them at start-up, so that freed memory is reused instead of being returned "
        "to the kernel and faulted in again)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw records as JSON")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.case:
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        record = _run_case(args.case, args.repeats, tune_malloc=not args.malloc_defaults)
        print(json.dumps(record))
        return 0

    records: dict[str, dict] = {}
    for case, _, _ in CASES:
        command = [sys.executable, __file__, "--case", case, "--repeats", str(args.repeats)]
        if args.threads is not None:
            command += ["--threads", str(args.threads)]
        if args.malloc_defaults:
            command.append("--malloc-defaults")
        proc = subprocess.run(command, capture_output=True, text=True, check=True)
        records[case] = json.loads(proc.stdout.strip().splitlines()[-1])
    agreement = {
        case: _agree(records[case], records[baseline])
        for case, baseline, _ in CASES
        if baseline is not None
    }
    if args.json:
        print(json.dumps(records, indent=2))
        return 0 if all(agreement.values()) else 1

    threads = args.threads if args.threads is not None else torch.get_num_threads()
    wait_policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    if args.malloc_defaults:
        malloc = "glibc defaults"
    elif all(rec["malloc_tuned"] for rec in records.values()):
        malloc = "thresholds raised in every case"
    else:
        malloc = "glibc defaults (no mallopt here)"
    print(
        f"torch {torch.__version__}, {threads} threads, OMP_WAIT_POLICY={wait_policy}, "
        f"malloc: {malloc}, median of {args.repeats} runs; memory = peak RSS increase in a "
        "fresh subprocess"
    )
    header = (
        f"{'case':<18} {'what':<46} {'median s':>9} {'speedup':>8} {'cpu s':>7} "
        f"{'cpu speedup':>11} {'peak MiB':>9} {'faults':>7}  agrees"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for case, baseline, description in CASES:
        rec = records[case]
        speedup = cpu_speedup = agrees = ""
        if baseline is not None:
            base = records[baseline]
            speedup = f"{base['median_s'] / rec['median_s']:.1f}x"
            cpu_speedup = f"{base['median_cpu_s'] / rec['median_cpu_s']:.1f}x"
            agreed = agreement[case]
            ok = ok and agreed
            agrees = "yes" if agreed else "NO"
        print(
            f"{case:<18} {description:<46} {rec['median_s']:>9.4f} {speedup:>8} "
            f"{rec['median_cpu_s']:>7.4f} {cpu_speedup:>11} {rec['peak_rss_delta_mib']:>9.1f} "
            f"{rec['page_faults_per_call']:>7.0f}  "
            f"{agrees}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
