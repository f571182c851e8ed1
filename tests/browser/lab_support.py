"""A JupyterLab server on a temporary course directory, chromium, and step screenshots.

The server is this Python environment's `jupyter lab`, run with the environment's `bin/` first
on PATH (nbgrader runs `alembic` from PATH when it opens a gradebook) and with private Jupyter
config, data, runtime and home directories (`nbgrader_support.nbgrader_env` plus a temporary
HOME), so a developer's own settings are neither read nor written; the nbgrader lab and server
extensions are still found, in the environment's `share/jupyter` and `etc/jupyter`. It runs in
its own process group, which `jupyter_lab` stops when it is done.

The browser is Debian's `chromium` (Playwright's own browser download is not used), launched
headless with the flags a closed network and root need.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.course import nbgrader_support as nbs

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: Chromium flags: no sandbox (it refuses to run as root with one), no GPU, and none of the
#: background connections to Google hosts that a closed network refuses, noisily.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_SECONDS = 120.0
SERVER_STOP_SECONDS = 20.0

#: JupyterLab user settings: no news or update prompt over the page, and every cell of a
#: notebook in the DOM (no windowing), so that selectors find cells out of view.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running `jupyter lab`: its base URL, token, course directory and log."""

    base_url: str
    token: str
    course: Path
    log: Path
    process: subprocess.Popen

    def lab_url(self, workspace: str) -> str:
        """JupyterLab in a workspace of its own (nothing restored from another page)."""
        return f"{self.base_url}/lab/workspaces/{workspace}?token={self.token}"

    def files_url(self, relative: str) -> str:
        """A file of the course directory, served as it is (an HTML page opens as a page)."""
        return f"{self.base_url}/files/{relative}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def lab_env(course: Path, home: Path) -> dict[str, str]:
    """nbgrader's test environment for `course` plus private home, data and runtime dirs, and
    the JupyterLab user settings (LAB_SETTINGS) in its private config dir."""
    env = nbs.nbgrader_env(course)
    env["HOME"] = str(home)
    env["JUPYTER_DATA_DIR"] = str(home / "jupyter-data")
    env["JUPYTER_RUNTIME_DIR"] = str(home / "jupyter-runtime")
    settings = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    return env


@contextmanager
def jupyter_lab(course: Path, home: Path) -> Iterator[LabServer]:
    """`jupyter lab` serving `course` (also its working directory, where nbgrader's server
    extensions read nbgrader_config.py) on a free port with a known token."""
    home.mkdir(parents=True, exist_ok=True)
    env = lab_env(course, home)
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        str(nbs.venv_bin() / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={course}",
        f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = home / "jupyter-lab.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            cmd, cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, course, log, process)
    try:
        _wait_for_status(server)
        yield server
    finally:
        _stop(server)


def _wait_for_status(server: LabServer) -> None:
    url = f"{server.base_url}/api/status?token={server.token}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with status {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"jupyter lab did not answer {server.base_url}/api/status within "
                f"{SERVER_START_SECONDS:.0f} s:\n{server.log_tail()}"
            )
        time.sleep(0.3)


def _stop(server: LabServer) -> None:
    """Stop the server's process group: on SIGTERM the server shuts its kernels down; if it
    has to be killed, its kernels (each in a session of its own) see their parent die and
    exit (ipykernel's parent poller)."""
    process = server.process
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


class Steps:
    """Screenshots of a browser session, one per step, numbered, in `folder`, and each step's
    duration in `folder/steps.txt`; a step that fails leaves `NN-<step>-FAILED.png` and says
    where it is (and the server's log tail)."""

    def __init__(self, page: Page, folder: Path, server: LabServer | None = None) -> None:
        self.page, self.folder, self.server = page, folder, server
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        except BaseException as exc:
            try:
                path = self.shot(f"{name}-FAILED")
                exc.add_note(f"screenshot of the failed step: {path}")
            except Exception as shot_error:  # the page itself may be gone
                exc.add_note(f"no screenshot of the failed step: {shot_error}")
            if self.server is not None:
                exc.add_note(f"jupyter lab log (last lines):\n{self.server.log_tail()}")
            raise
        finally:
            with (self.folder / "steps.txt").open("a", encoding="utf-8") as log:
                log.write(f"{name}: {time.monotonic() - start:.1f} s\n")
        self.shot(name)
