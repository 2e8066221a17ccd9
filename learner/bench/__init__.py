"""Benchmarks: commands that print figures (``main.py bench ...``), never tests.

loop (session-loop lateness), live (live play while learning), learning (fidelity and
stylometry), relevance, perf (every DESIGN.md figure), report (JSON to docs)."""
