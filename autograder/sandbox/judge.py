"""The trusted half of a probe: write its request, read its records, judge them.

Runs in the grader's own process, never in the sandbox (it imports the registry, and through
it the verdicts and the reference). For one hidden test cell ``check_function(NAME, ..., part=P)``:

1. :func:`write_request` computes the part's cases (stage 1) and writes them, wire-encoded, to
   a request file in the (read-only) probe runtime; :func:`probe_cell_source` is the code
   that replaces the cell's source for the sandboxed run;
2. the sandbox runs the cell (:mod:`autograder.sandbox.probe`), which emits records;
3. :func:`read_records` picks them out of the cell's outputs (or a stdout text), and
   :func:`judge_records` rebuilds every outcome with trusted code and applies the verdicts
   (stage 3) exactly as ``check_function`` would: None when every case passes, else the same
   feedback message (which case, expected, got, hint).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.checks import registry
from autograder.checks.types import Case, Outcome
from autograder.sandbox import wire
from autograder.sandbox.probe import MIME_TYPE, STDOUT_PREFIX
from autograder.sandbox.runtime import REQUESTS_DIRNAME


@dataclass
class ProbeRequest:
    """What the trusted side keeps of a request: its cases, to judge the outcomes against."""

    name: str
    parts: list[str]
    cases: dict[str, list[Case]]
    nonce: str
    path: str = ""
    assignment: str | None = None

    @property
    def ordered(self) -> list[tuple[str, int, Case]]:
        return [(p, i, c) for p in self.parts for i, c in enumerate(self.cases[p])]


@dataclass
class ProbeRecords:
    """The records of one probe cell: the header and the decoded outcomes (in case order)."""

    header: dict[str, Any] | None = None
    outcomes: list[Outcome | None] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def make_request(
    name: str, part: str | None, *, nonce: str, assignment: str | None = None
) -> tuple[ProbeRequest, str]:
    """The request for `name` (one part, or all when `part` is None) and its wire text.

    The request names the assignment's call-stage modules: the probe imports them so that
    the builders of the cases' inputs exist in the sandbox."""
    assignment = registry.current_assignment(assignment)
    spec = registry.spec_of(assignment)
    checks = registry.lookup(name, assignment)
    parts = list(checks.parts) if part is None else [registry.get_part(name, part, assignment).name]
    cases = {p: registry.cases(name, p, assignment) for p in parts}
    request = ProbeRequest(name=name, parts=parts, cases=cases, nonce=nonce, assignment=assignment)
    payload = {
        "name": name,
        "kind": checks.kind,
        "timeout": checks.timeout,
        "nonce": nonce,
        "modules": [f"{spec.checks_package}.{m}" for m in spec.call_stage],
        "cases": [c for _, _, c in request.ordered],
    }
    return request, wire.encode(payload)


def write_request(
    runtime_dir: str | os.PathLike[str],
    name: str,
    part: str | None,
    *,
    nonce: str,
    key: str,
    assignment: str | None = None,
) -> ProbeRequest:
    """Write the request of one hidden test cell into ``runtime_dir/requests/<key>.json``
    (the folder :func:`~autograder.sandbox.isolation.prepare_runtime` made, writable by the
    grader only and bound read-only into the sandbox)."""
    request, text = make_request(name, part, nonce=nonce, assignment=assignment)
    folder = Path(runtime_dir) / REQUESTS_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    path.write_text(text, encoding="utf-8")
    request.path = str(path)
    return request


def probe_cell_source(name: str, request_path: str) -> str:
    """The source of a probe cell: one statement, no names left behind in the namespace."""
    return (
        '__import__("autograder.sandbox.probe", fromlist=["run_probe"]).run_probe('
        f"{name!r}, globals().get({name!r}), {request_path!r})\n"
    )


def _record(data: Any) -> Any:
    """A record as plain data, from a cell output's MIME data."""
    if isinstance(data, str):  # some writers keep JSON MIME data as text
        try:
            return json.loads(data)
        except ValueError:
            return None
    if isinstance(data, Mapping):  # e.g. a NotebookNode: plain dicts only
        return json.loads(json.dumps(data))
    return data


def record_nonce(output: Any) -> str | None:
    """The nonce of the probe record in a cell output, or None when it holds none."""
    data = output.get("data") if isinstance(output, Mapping) else None
    if not isinstance(data, Mapping) or MIME_TYPE not in data:
        return None
    record = data[MIME_TYPE]
    if isinstance(record, str):
        record = _record(record)
    nonce = record.get("nonce") if isinstance(record, Mapping) else None
    return nonce if isinstance(nonce, str) else None


def unbundle(raw: Iterable[Any]) -> Iterator[Any]:
    """The records of `raw`, each bundle (:func:`autograder.sandbox.probe.bundle`) opened:
    its records are checked one by one like any other (each carries its own nonce)."""
    for item in raw:
        if type(item) is dict and set(item) == {"nonce", "records"}:
            inner = item["records"]
            if type(inner) is list:
                yield from inner
                continue
        yield item


def read_records(outputs: Iterable[Mapping[str, Any]] | str, request: ProbeRequest) -> ProbeRecords:
    """Collect a probe's records from notebook cell outputs (display_data of
    :data:`MIME_TYPE`) or from stdout text (lines starting with :data:`STDOUT_PREFIX`)."""
    raw: list[Any] = []
    if isinstance(outputs, str):
        for line in outputs.splitlines():
            if line.startswith(STDOUT_PREFIX):
                try:
                    raw.append(json.loads(line[len(STDOUT_PREFIX) :]))
                except ValueError:
                    raw.append(None)
    else:
        for out in outputs:
            data = out.get("data") if isinstance(out, Mapping) else None
            if isinstance(data, Mapping) and MIME_TYPE in data:
                raw.append(_record(data[MIME_TYPE]))
    found = ProbeRecords(outcomes=[None] * len(request.ordered))
    for record in unbundle(raw):
        if type(record) is not dict or record.get("nonce") != request.nonce:
            found.problems.append("a probe record that does not belong to this cell")
            continue
        index = record.get("index")
        if index == -1 and found.header is None:
            found.header = record
        elif (
            type(index) is int
            and 0 <= index < len(found.outcomes)
            and found.outcomes[index] is None
        ):
            text = record.get("outcome")
            try:
                found.outcomes[index] = wire.decode_outcome(text if type(text) is str else "")
            except wire.WireError as exc:
                found.problems.append(f"case {index + 1}: {exc}")
        else:
            found.problems.append(f"an unexpected probe record (index {index!r})")
    return found


def judge_records(request: ProbeRequest, records: ProbeRecords) -> str | None:
    """None when every case passes, else the feedback message (as ``check_function``'s
    AssertionError would carry it). Missing or malformed records fail, saying why."""
    name = request.name
    checks = registry.lookup(name, request.assignment)
    header = records.header
    if header is None:
        return (
            f"the hidden checks of `{name}` did not run: the cell was stopped or its "
            "output replaced before they could report"
        )
    if "error" in header:
        return f"the hidden checks of `{name}` could not run: {header['error']}"
    if header.get("is_none") is True:
        if checks.kind == "value":
            return f"`{name}` is still None: replace None with your answer and run its cell"
        return f"`{name}` is not defined: run the cell that defines it"
    if checks.kind == "function" and header.get("callable") is not True:
        type_name = header.get("type", ["?", "?"])[-1]
        return (
            f"`{name}` should be a function, but it is {type_name}: did you overwrite it "
            "with a value?"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for flat, (part_name, index, case) in enumerate(request.ordered):
            part = checks.parts[part_name]
            total = len(request.cases[part_name])
            outcome = records.outcomes[flat]
            head = registry.header(name, part, index + 1, total, case)
            if outcome is None:
                why = "; ".join(records.problems) or "the kernel stopped or the output was cut"
                return f"{head}\nthe hidden check of this case did not report back ({why})"
            message = part.verdict(case, outcome)
            if message:
                return f"{head}\n{message}"
    return None


def error_output(message: str) -> dict[str, Any]:
    """A notebook error output carrying a failed verdict (nbgrader scores the cell 0)."""
    first = message.splitlines()[0] if message else ""
    return {
        "output_type": "error",
        "ename": "AssertionError",
        "evalue": first,
        "traceback": ["AssertionError: " + message],
    }


def verdict_outputs(message: str | None) -> list[dict[str, Any]]:
    """The outputs a judged test cell gets: none when it passed, else one error output."""
    return [] if message is None else [error_output(message)]


def judge_text(stdout: str, requests: Sequence[ProbeRequest]) -> dict[str, str | None]:
    """Judge several probes whose records are all in one stdout text (keyed by request
    path): for probes run outside a kernel."""
    return {r.path or r.name: judge_records(r, read_records(stdout, r)) for r in requests}
