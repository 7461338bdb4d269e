"""Analyses: one module each, each a pure function ``f(workspace, **params) -> Result``.

None of them writes into the workspace. :func:`run_all` runs several with shared parameters; an
unknown parameter raises :class:`ParameterError` (see :mod:`socialens.analyses.signature`).
"""

from __future__ import annotations

from collections.abc import Callable

from socialens.analyses.activity import activity
from socialens.analyses.adoption import adoption
from socialens.analyses.common import shared_reads
from socialens.analyses.contagion import contagion
from socialens.analyses.contagion_tests import contagion_tests
from socialens.analyses.coordination import coordination
from socialens.analyses.delegation import delegation
from socialens.analyses.directory import directory
from socialens.analyses.interactions import interactions
from socialens.analyses.leaders import leaders
from socialens.analyses.reach import reach
from socialens.analyses.result import Result
from socialens.analyses.sharing import sharing
from socialens.analyses.signature import ParameterError, split_params
from socialens.analyses.tone import tone
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["REGISTRY", "Result", "ParameterError", "directory", "adoption", "activity",
           "interactions", "reach", "contagion", "contagion_tests", "OPT_IN", "run_all", "summaries",
           "coordination", "tone", "delegation", "sharing", "leaders"]

#: name → analysis function, in report order.
REGISTRY: dict[str, Callable[..., Result]] = {
    "directory": directory,
    "adoption": adoption,
    "activity": activity,
    "interactions": interactions,
    "reach": reach,
    "contagion": contagion,
    "coordination": coordination,
    "tone": tone,
    "sharing": sharing,
    "delegation": delegation,
    # the report card composes the analyses above; run_all hands it their results
    "leaders": leaders,
}

#: Analyses run only when named (``run_all(ws, ["contagion_tests"])``, ``analyze -a``): the
#: influence tests are slow (permutations, a hazard model per behaviour) and, with six
#: departments, say "no evidence" far more often than there is none (power 18 % at a planted
#: ratio of 2, EVALUATION.md), so the default report leaves them out (``report
#: --influence-tests`` adds them).
OPT_IN: dict[str, Callable[..., Result]] = {
    "contagion_tests": contagion_tests,
}


def run_all(ws: Workspace, names: list[str] | None = None, *,
            unavailable: dict[str, str] | None = None, **params) -> dict[str, Result]:
    """Run the named analyses (default: all) with shared parameters; each gets the ones it takes.

    Parameters
    ----------
    names : list of str, optional
        Analyses to run, from :data:`REGISTRY` or :data:`OPT_IN` (default: all of
        :data:`REGISTRY`).
    unavailable : dict, optional
        When given, an analysis that cannot run on this workspace (an
        :class:`~socialens.errors.AnalysisError`, e.g. no follower snapshots) is left out and
        ``unavailable[name]`` is set to the reason; without it the error is raised.
    **params
        Shared parameters. One that none of the named analyses takes raises
        :class:`ParameterError`, which is never treated as "unavailable".

    Returns
    -------
    dict
        ``{name: Result}`` in registry order, for the analyses that ran.
    """
    known = {**REGISTRY, **OPT_IN}
    names = list(names or REGISTRY)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise AnalysisError(f"unknown analysis {unknown}; choose from {', '.join(known)}")
    chosen = {n: known[n] for n in known if n in names}
    per = split_params(chosen, params)
    results = {}
    with shared_reads():  # the analyses only read: their common first reads are made once
        for name, fn in chosen.items():
            try:
                # a composing analysis (leaders) reuses the results of this run instead of
                # rerunning them
                reuse = getattr(fn, "from_results", None)
                results[name] = (reuse(ws, dict(results), unavailable=dict(unavailable or {}),
                                       **per[name])
                                 if reuse is not None and results else fn(ws, **per[name]))
            except ParameterError:
                raise
            except AnalysisError as exc:
                if unavailable is None:
                    raise
                unavailable[name] = str(exc)
    return results


def summaries(results: dict[str, Result], unavailable: dict[str, str] | None = None) -> dict:
    """``{"analyses": {name: {"summary": ..., "params": ...}}}`` — the summary.json form; with
    ``unavailable`` also ``"not_available": {name: reason}``."""
    out: dict = {"analyses": {name: r.to_dict() for name, r in results.items()}}
    if unavailable:
        out["not_available"] = dict(unavailable)
    return out
