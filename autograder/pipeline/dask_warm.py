"""The warm-up of Dask workers: what the process pool's initializer
(:func:`autograder.pipeline.warm.start_worker`) does for its workers, as a Dask worker
plugin. Imported only when Dask is (an optional extra)."""

from __future__ import annotations

import threading
from typing import Any

from distributed import WorkerPlugin

from .warm import start_worker

#: The name the plugin is registered under: registering again replaces it.
PLUGIN_NAME = "autograder-warm-up"


class WarmUp(WorkerPlugin):
    """Start the worker's zygote of warm kernels and import the assignment's checks as the
    worker joins (now, or later), in a thread: the worker's event loop stays free, and a
    task that arrives meanwhile finds what is ready (the zygote is shared per process)."""

    def __init__(self, spec_path: str, sandbox: bool, warm: bool) -> None:
        self.spec_path, self.sandbox, self.warm = spec_path, sandbox, warm

    def setup(self, worker: Any) -> None:
        threading.Thread(
            target=start_worker,
            args=(self.spec_path, self.sandbox, self.warm),
            name="ag-warm-up",
            daemon=True,
        ).start()


def register(client: Any, spec_path: str, sandbox: bool, warm: bool) -> None:
    """Warm up every worker of `client`'s cluster, present and future."""
    client.register_plugin(WarmUp(spec_path, sandbox, warm), name=PLUGIN_NAME)
