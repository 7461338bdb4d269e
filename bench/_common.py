"""Helpers shared by the benchmarks (not a benchmark itself: ``make bench`` runs ``bench_*``)."""

from __future__ import annotations

import time
from pathlib import Path


def timed(fn):
    """``(fn(), wall seconds, CPU seconds of the process)`` — DuckDB's threads included."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def workspace_or_simulated(path: Path | None, folder: str | Path, people: int,
                           posts_per_person: int) -> Path:
    """``path`` if given, else a simulated organization (preset ``scale``, seed 1) of ``people``
    with about ``posts_per_person`` posts each, written into ``folder``."""
    if path is not None:
        return path
    from socialens.simulate import simulate

    out = Path(folder) / "ws.duckdb"
    simulate(people=people, seed=1, preset="scale", target_posts=posts_per_person * people,
             out=out, files=Path(folder) / "files")
    return out
