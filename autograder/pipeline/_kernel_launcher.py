"""Apply a kernel's limits to this process, then exec the kernel (stdlib only).

Run as ``python -S _kernel_launcher.py SPEC -- KERNEL_CMD...`` (the prefix comes from
``autograder.pipeline.limits.launcher_prefix``). SPEC is JSON: ``procs_files`` (the
``cgroup.procs`` files of the kernel's cgroups, joined first), ``netns`` (enter a fresh, empty
network namespace) and ``rlimits`` (name → value, set as soft and hard limit; where the hard
limit is lower and cannot be raised, the soft limit only). Then the process becomes a session
leader, so the grader can kill the kernel's whole process group, and execs the kernel.

It imports nothing of the course and starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys

CLONE_NEWNET = 0x40000000


def launch(argv: list[str]) -> None:  # pragma: no cover - runs in the kernel's process
    spec = json.loads(argv[0])
    cmd = argv[argv.index("--") + 1 :]
    for path in spec.get("procs_files", []):
        with open(path, "w", encoding="ascii") as fh:
            fh.write(str(os.getpid()))
    if spec.get("netns"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            sys.stderr.write("autograder launcher: could not isolate the network\n")
    for name, value in spec.get("rlimits", {}).items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            _soft, hard = resource.getrlimit(which)
            if hard == resource.RLIM_INFINITY or value <= hard:
                resource.setrlimit(which, (value, hard))
    with contextlib.suppress(OSError):
        os.setsid()  # already a session leader when started by jupyter_client
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":  # pragma: no cover
    launch(sys.argv[1:])
