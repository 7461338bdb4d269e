"""Analyses: one module each, each a pure function ``f(workspace, **params) -> Result``.

None of them writes into the workspace. :func:`run_all` runs several with shared parameters.
"""

from __future__ import annotations

from collections.abc import Callable

from socialens.analyses.activity import activity
from socialens.analyses.adoption import adoption
from socialens.analyses.directory import directory
from socialens.analyses.result import Result
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["REGISTRY", "Result", "directory", "adoption", "activity", "run_all", "summaries"]

#: name → analysis function, in report order.
REGISTRY: dict[str, Callable[..., Result]] = {
    "directory": directory,
    "adoption": adoption,
    "activity": activity,
}


def run_all(ws: Workspace, names: list[str] | None = None, **params) -> dict[str, Result]:
    """Run the named analyses (default: all) with shared parameters; each ignores the ones it does
    not take. Returns ``{name: Result}`` in registry order."""
    names = list(names or REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise AnalysisError(f"unknown analysis {unknown}; choose from {', '.join(REGISTRY)}")
    return {n: REGISTRY[n](ws, **params) for n in REGISTRY if n in names}


def summaries(results: dict[str, Result]) -> dict:
    """``{"analyses": {name: {"summary": ..., "params": ...}}}`` — the summary.json form."""
    return {"analyses": {name: r.to_dict() for name, r in results.items()}}
