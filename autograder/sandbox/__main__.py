"""``python -m autograder.sandbox``: what this machine offers for sandboxing, as JSON (the
mode ``grade`` will use, every mechanism and what is missing); exit status 1 when no mode
gives a private file system (the plain executor would run)."""

from __future__ import annotations

import sys

from .isolation import probe_isolation

if __name__ == "__main__":
    report = probe_isolation()
    print(report.to_json())
    sys.exit(0 if report.mode in ("namespaces", "bwrap", "userns") else 1)
