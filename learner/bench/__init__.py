"""Benchmarks: commands that print figures (``main.py bench ...``), never tests.

loop (session-loop lateness), live (live play while learning), learning (fidelity and
stylometry), relevance, perf (every DESIGN.md figure), report (JSON to docs)."""

from __future__ import annotations

import json
from pathlib import Path


def write_json(result: dict, path: Path | None) -> None:
    """Every bench's ``--json``: the figures as indented JSON, and a line saying where."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
