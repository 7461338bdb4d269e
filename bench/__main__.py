"""Run every benchmark (``make bench``): each ``bench/bench_*.py`` module's ``main([])``.

Each benchmark appends its results to BENCHMARKS.md, as ratios to a baseline measured in the same
run, and prints one JSON object on its last line.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
    if info.name.startswith("bench_"):
        importlib.import_module(f"bench.{info.name}").main([])
