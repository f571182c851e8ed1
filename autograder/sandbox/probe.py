"""The probe: what a hidden test cell runs inside the sandbox instead of ``check_function``.

This module belongs to the probe runtime (:func:`autograder.sandbox.isolation.prepare_runtime`
copies it into the sandbox): it imports only the call stage and the wire, never the
verdicts or the reference. A probe cell reads like::

    __import__("autograder.sandbox.probe", fromlist=["run_probe"]).run_probe(
        "top_k", globals().get("top_k"), "/abs/path/request.json")

and consecutive probe cells run as one execution through :func:`run_probes` (one round
trip to the kernel instead of one per cell).

:func:`run_probe` loads the request (the part's cases, written beforehand by the trusted
grader, :mod:`autograder.sandbox.judge`), runs the call stage on every case and makes one
record per case: a header first (is the name defined, callable, of which type), then each
:class:`~autograder.checks.types.Outcome`, wire-encoded. The records of a request go out
together (:func:`bundle`): in a Jupyter kernel as one ``display_data`` output of MIME type
:data:`MIME_TYPE`; elsewhere as a line on stdout starting with :data:`STDOUT_PREFIX`. It
never judges anything and never raises.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import warnings
from typing import Any

from autograder.checks.builders import import_builder_modules
from autograder.checks.call import run_case, value_call
from autograder.checks.types import Outcome
from autograder.sandbox import wire

MIME_TYPE = "application/vnd.autograder.probe+json"
STDOUT_PREFIX = "@@autograder-probe@@ "
#: Bound on one record (one case's outcome); larger values are replaced by a marker.
RECORD_MAX_BYTES = 4 * 2**20


def _type_of(target: Any) -> list[str]:
    cls = type(target)
    module = getattr(cls, "__module__", "?")
    qualname = getattr(cls, "__qualname__", "?")
    return [module if type(module) is str else "?", qualname if type(qualname) is str else "?"]


def load_request(source: str) -> dict[str, Any]:
    """A request: a wire-encoded dict (name, kind, timeout, nonce, modules, cases), read from
    a file path or given as text."""
    text = source
    if not source.lstrip().startswith("{"):
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
    request = wire.decode(text)
    if type(request) is not dict:
        raise wire.WireError("a probe request must be a dict")
    return request


def probe_records(target: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the call stage of every case of `request` on `target`; the records to emit.

    The first record is the header ``{"index": -1, ...}``; then one ``{"index": i,
    "outcome": <wire text>}`` per case, in order. Nothing is run when the target is None,
    or not callable for a function item (the verdict side reports that).
    """
    nonce = request.get("nonce", "")
    kind = request.get("kind", "function")
    header = {
        "nonce": nonce,
        "index": -1,
        "is_none": target is None,
        "callable": callable(target),
        "type": _type_of(target),
    }
    records = [header]
    if target is None or (kind == "function" and not callable(target)):
        return records
    fn = value_call(target) if kind == "value" else target
    timeout = request.get("timeout", 10.0)
    for index, case in enumerate(request.get("cases", [])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = run_case(fn, case, timeout=timeout)
        try:
            text = wire.encode_outcome(outcome, max_bytes=RECORD_MAX_BYTES)
        except Exception as exc:
            text = wire.encode(
                Outcome(
                    status="raised",
                    error_type="WireError",
                    error_message=f"the outcome could not be encoded: {exc}",
                )
            )
        records.append({"nonce": nonce, "index": index, "outcome": text})
    return records


def emit(record: dict[str, Any]) -> None:
    """Publish one record: a display_data output in a kernel, else a line on stdout."""
    ip = None
    with contextlib.suppress(Exception):
        from IPython import get_ipython

        ip = get_ipython()
    if ip is not None and getattr(ip, "display_pub", None) is not None:
        from IPython.display import publish_display_data

        publish_display_data({MIME_TYPE: record, "text/plain": "<autograder probe record>"})
        return
    sys.stdout.write(STDOUT_PREFIX + json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def run_probe(name: str, target: Any, request: str) -> None:
    """What a probe cell calls: run the call stage for the request and emit the records."""
    try:
        req = load_request(request)
        if req.get("name") != name:
            raise wire.WireError(f"the request is for {req.get('name')!r}, not {name!r}")
        # the assignment's call-stage modules register the builders its cases need
        import_builder_modules(req.get("modules", []))
        records = probe_records(target, req)
    except Exception as exc:
        records = [{"nonce": "", "index": -1, "error": f"{type(exc).__name__}: {exc}"}]
    emit(bundle(records))


def bundle(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One output for all the records of a request: the record itself when there is one,
    else ``{"nonce": ..., "records": [...]}`` (each record keeps its own nonce). One
    message instead of one per case: each costs the kernel, the transport and the grader's
    client a round of work."""
    if len(records) == 1:
        return records[0]
    return {"nonce": records[0].get("nonce", ""), "records": records}


def run_probes(calls: list[tuple[str, str]], namespace: dict[str, Any]) -> None:
    """What a batch of probe cells calls, run as one execution: :func:`run_probe` for each
    ``(name, request)`` in order, the name looked up in `namespace` when its turn comes (as
    each cell would). Whatever escapes one probe is reported as its error record and the
    next one runs, as the next cell would have."""
    for name, request in calls:
        try:
            run_probe(name, namespace.get(name), request)
        except BaseException as exc:  # a cell of its own would have gone on
            emit({"nonce": "", "index": -1, "error": f"{type(exc).__name__}: {exc}"})
        _sent()


def _sent(timeout: float = 2.0) -> None:
    """Wait until the kernel's IOPub thread has sent what this probe published: the next
    probe runs student code that may end the kernel, and its records must be out by then
    (a cell of its own would have been answered first)."""
    with contextlib.suppress(Exception):
        from IPython import get_ipython

        thread = get_ipython().kernel.iopub_thread
        sent = threading.Event()
        thread.schedule(sent.set)
        sent.wait(timeout)


def main(argv: list[str]) -> int:
    """``python -m autograder.sandbox.probe MODULE_FILE NAME REQUEST``: execute a student's
    module file, then probe its `NAME` (for running probes without a kernel)."""
    module_file, name, request = argv
    namespace: dict[str, Any] = {"__name__": "__student__"}
    with contextlib.suppress(BaseException), open(module_file, encoding="utf-8") as fh:
        exec(compile(fh.read(), module_file, "exec"), namespace)
    run_probe(name, namespace.get(name), request)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
