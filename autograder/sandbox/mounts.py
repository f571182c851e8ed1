"""The sandbox's private root as plain data: the mount plan, bubblewrap's argv, the env.

Every path keeps its host name inside the sandbox; only the allowlist exists there (the
system directories, the Python environment, the scratch dir, what the caller binds).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autograder.errors import SandboxError

from .types import MIB, SYSTEM_DIRS, SandboxLimits

# ---- the private root ----------------------------------------------------------------------


def python_paths() -> list[str]:
    """Directories holding the running Python: the environment (sys.prefix) and the base
    installation its interpreter and standard library come from."""
    candidates = [
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
    ]
    return _outermost(os.path.realpath(p) for p in candidates)


def _outermost(paths: Iterable[str]) -> list[str]:
    """The given paths without duplicates and without paths nested in another one."""
    unique = sorted({os.path.normpath(p) for p in paths if p})
    out: list[str] = []
    for p in unique:
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def _depth(path: str) -> int:
    return len([part for part in path.split("/") if part])


def mount_plan(
    scratch_dir: str,
    *,
    readable_paths: Sequence[str | os.PathLike[str]] = (),
    writable_paths: Sequence[str | os.PathLike[str]] = (),
    hide_paths: Sequence[str | os.PathLike[str]] = (),
    limits: SandboxLimits,
) -> list[dict[str, Any]]:
    """The private root as a list of mounts (plain data for the launcher), in mount order.

    Every path keeps its host name inside the sandbox. Readable paths inside the scratch dir
    (e.g. the probe runtime) are re-bound read-only on top of it.
    """
    scratch = os.path.realpath(scratch_dir)
    symlinks: list[dict[str, Any]] = []
    binds: list[dict[str, Any]] = []
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            symlinks.append({"kind": "symlink", "dest": top, "target": os.readlink(top)})
        elif os.path.isdir(top):
            binds.append({"kind": "bind", "src": top, "dest": top, "ro": True})
    system = [b["dest"] for b in binds]
    for path in python_paths():
        if not any(path == s or path.startswith(s + "/") for s in system):
            binds.append({"kind": "bind", "src": path, "dest": path, "ro": True})
    binds.append({"kind": "tmpfs", "dest": "/tmp", "mode": "1777", "size": limits.tmp_bytes})
    binds.append({"kind": "proc", "dest": "/proc"})
    binds.append({"kind": "dev", "dest": "/dev", "shm_size": limits.tmp_bytes})
    binds.append({"kind": "bind", "src": scratch, "dest": scratch, "ro": False})
    for paths, ro in ((writable_paths, False), (readable_paths, True)):
        for path in paths:
            real = os.path.realpath(path)
            if not os.path.exists(real):
                raise SandboxError(f"path {str(path)!r} to bind into the sandbox does not exist")
            binds.append({"kind": "bind", "src": real, "dest": real, "ro": ro})
    binds.sort(key=lambda m: _depth(m["dest"]))  # stable: parents before children
    hides = [{"kind": "hide", "dest": os.path.realpath(p)} for p in hide_paths]
    return symlinks + binds + hides


def default_env(
    scratch_dir: str | os.PathLike[str],
    *,
    runtime_dir: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A small environment for a sandboxed Python: no inherited secrets, one thread,
    home in the scratch dir, the probe runtime (if any) on PYTHONPATH."""
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(scratch_dir),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
    }
    if runtime_dir is not None:
        env["PYTHONPATH"] = str(runtime_dir)
    if extra:
        env.update(extra)
    return env


def bwrap_argv(
    bwrap: str,
    plan: Sequence[Mapping[str, Any]],
    *,
    cwd: str,
    env: Mapping[str, str],
    argv: Sequence[str],
) -> list[str]:
    """The bubblewrap command line for a mount plan (same allowlist as the own launcher).

    As with the own launcher, a hidden path is covered only where the sandbox would see it
    (below a bind mount); elsewhere it does not exist in the private root at all. The root
    itself is remounted read-only at the end (bwrap makes it a tmpfs owned by the user).
    """
    binds = [m["dest"] for m in plan if m["kind"] == "bind"]
    out = [
        bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
    ]
    for m in plan:
        kind = m["kind"]
        if kind == "symlink":
            out += ["--symlink", m["target"], m["dest"]]
        elif kind == "bind":
            out += ["--ro-bind" if m.get("ro", True) else "--bind", m["src"], m["dest"]]
        elif kind == "tmpfs":
            out += [
                "--perms",
                m.get("mode", "0755"),
                "--size",
                str(m.get("size", MIB)),
                "--tmpfs",
                m["dest"],
            ]
        elif kind == "proc":
            out += ["--proc", m["dest"]]
        elif kind == "dev":
            out += ["--dev", m["dest"]]
        elif kind == "hide":
            dest = m["dest"]
            if not any(dest == b or dest.startswith(b.rstrip("/") + "/") for b in binds):
                continue  # not visible in the sandbox: nothing to cover
            if os.path.isdir(dest):
                out += ["--perms", "0000", "--tmpfs", dest]
            elif os.path.exists(dest):
                out += ["--ro-bind", "/dev/null", dest]
    out += ["--remount-ro", "/", "--chdir", cwd, "--clearenv"]
    for key, value in env.items():
        out += ["--setenv", key, value]
    return [*out, "--", *argv]
