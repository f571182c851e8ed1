"""Getting a grading worker ready before its first job: :func:`start_worker`.

A worker process is spawned with nothing imported. Its zygote of warm kernels
(:mod:`autograder.sandbox.zygote`) needs seconds to import the kernels' libraries, and the
worker itself needs about as long to import its own (torch through the checks, nbformat,
nbclient). This module imports only the standard library, the spec and the sandbox's
process tools, so that a pool's initializer defined here starts the zygote *first* and the
two imports run side by side on two cores, instead of one after the other.

The kernels' environment lives here for the same reason: the zygote imports its libraries
under it, and :mod:`.runner` and :mod:`.sandboxed` start kernels with it.
"""

from __future__ import annotations

from autograder.sandbox.isolation import default_env, probe_isolation
from autograder.sandbox.zygote import DEFAULT_PRELOAD, WARM_MODES
from autograder.spec import AssignmentSpec

#: The environment every kernel gets on top of its sandbox's (plain or sandboxed run).
KERNEL_ENV = {
    # one thread per kernel: the pool runs one kernel per core
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "NBGRADER_EXECUTION": "autograde",
}

#: Sandbox modes that give the kernel a private file system.
PRIVATE_FS_MODES = ("namespaces", "bwrap", "userns")

#: The zygote's environment: what libraries read at import time is the kernels' (one thread,
#: the Agg backend, the hash seed); the rest of a kernel's environment is set when it forks.
KERNEL_ZYGOTE_ENV = {
    k: v for k, v in default_env("/nonexistent").items() if k not in ("HOME", "PYTHONPATH")
} | {"JUPYTER_PLATFORM_DIRS": "1", **KERNEL_ENV}


def kernel_preload(spec: AssignmentSpec | None) -> tuple[str, ...]:
    """What the zygote of `spec`'s warm kernels imports: Jupyter's and the scientific
    stack's modules, then the libraries the assignment names (its spec's `preload`)."""
    return tuple(dict.fromkeys((*DEFAULT_PRELOAD, *(spec.preload if spec else ()))))


def sandbox_available() -> bool:
    """True when this machine can give a kernel a private file system."""
    return probe_isolation().mode in PRIVATE_FS_MODES


def why_cold(mode: str, warm: bool) -> str | None:
    """Why the kernels of a sandbox in `mode` start cold (from scratch) rather than fork
    from the warm-kernel zygote; None when they fork. The one place this is decided: the
    worker's warm-up launches a zygote only where the notebooks will use it."""
    if not warm:
        return "warm kernels turned off"
    if mode not in WARM_MODES:
        return f"the {mode!r} sandbox mode cannot fork from a zygote"
    return None


def warm_up(
    spec_path: str | None, *, sandbox: bool = True, warm: bool = True, wait: bool = True
) -> str:
    """Get this worker process ready before its first job: start the zygote of warm
    kernels, import the assignment's checks and reference, probe the isolation. The zygote
    is launched first, so that it imports its libraries while this process imports the
    checks; with `wait`, this returns once it listens (else the first job waits for it).
    A pool runs it as each worker starts (:func:`start_worker`); never raises: returns what
    it did, or what failed."""
    try:
        from autograder.sandbox.zygote import launch_shared, shared_zygote
        from autograder.spec import load_spec

        spec = load_spec(spec_path) if spec_path is not None else None
        usable = sandbox and sandbox_available()
        preload = kernel_preload(spec)
        forks = usable and why_cold(probe_isolation().mode, warm) is None
        if forks:
            launch_shared(KERNEL_ZYGOTE_ENV, preload)
        # the heavy imports (torch through the checks, the notebook tools the first job
        # needs) come after the zygote's launch, beside its own
        import jupyter_client  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401

        from autograder.checks import registry

        if spec is not None:
            registry.load(spec)
        if not usable:
            return "ready (plain executor)"
        if not forks:
            return "ready, cold kernels"
        if not wait:
            return "ready, zygote starting"
        zygote, why = shared_zygote(KERNEL_ZYGOTE_ENV, preload)
        return "ready, zygote started" if zygote is not None else f"ready, cold kernels: {why}"
    except Exception as exc:  # the jobs will meet the problem and record it
        return f"warm-up failed: {type(exc).__name__}: {exc}"


def start_worker(spec_path: str | None, sandbox: bool, warm: bool) -> None:
    """A pool's initializer: :func:`warm_up` without waiting for the zygote."""
    warm_up(spec_path, sandbox=sandbox, warm=warm, wait=False)


__all__ = [
    "KERNEL_ENV",
    "KERNEL_ZYGOTE_ENV",
    "PRIVATE_FS_MODES",
    "kernel_preload",
    "sandbox_available",
    "start_worker",
    "warm_up",
    "why_cold",
]
