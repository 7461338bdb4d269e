"""Parameter checking of the analyses: a misspelled parameter is an error, never ignored.

``directory(ws, leader="ids:x")`` used to fall silently back to the default leaders. Every
analysis is wrapped by :func:`analysis_function`, which raises :class:`ParameterError` (a
``TypeError`` and a :class:`~socialens.errors.SocialensError`) naming the parameter, the closest
valid one and every valid one; :func:`split_params` gives each analysis of a run the shared
parameters it takes and rejects a parameter that none of them takes.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable

from socialens.errors import AnalysisError

__all__ = ["ParameterError", "analysis_function", "parameter_names", "split_params"]


class ParameterError(AnalysisError, TypeError):
    """An analysis was given a parameter it does not take."""


def parameter_names(fn: Callable) -> list[str]:
    """The keyword parameters of an analysis (everything after the workspace)."""
    fn = inspect.unwrap(fn)
    return [p.name for p in list(inspect.signature(fn).parameters.values())[1:]
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _message(bad: Iterable[str], valid: list[str], where: str) -> str:
    bad = sorted(bad)
    hints = []
    for b in bad:
        close = difflib.get_close_matches(b, valid, n=1, cutoff=0.6)
        hints.append(f"{b!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    s = "s" if len(bad) > 1 else ""
    return (f"{where} got unknown parameter{s} {', '.join(hints)}; valid parameters: "
            f"{', '.join(valid)}")


def analysis_function(fn: Callable) -> Callable:
    """Decorate an analysis ``fn(ws, *, ...)`` so that an unknown keyword raises
    :class:`ParameterError` listing the valid ones (instead of Python's bare ``TypeError``)."""
    valid = parameter_names(fn)

    @functools.wraps(fn)
    def checked(ws, *args, **kwargs):
        bad = set(kwargs) - set(valid)
        if bad:
            raise ParameterError(_message(bad, valid, f"{fn.__name__}()"))
        return fn(ws, *args, **kwargs)

    checked.parameters = valid
    return checked


def split_params(functions: dict[str, Callable], params: dict) -> dict[str, dict]:
    """``{name: the params that analysis takes}``; a parameter that no analysis in
    ``functions`` takes raises :class:`ParameterError`."""
    taken = {name: set(parameter_names(fn)) for name, fn in functions.items()}
    every = sorted(set().union(*taken.values())) if taken else []
    bad = set(params) - set(every)
    if bad:
        raise ParameterError(_message(bad, every, f"analyses {', '.join(functions)}"))
    return {name: {k: v for k, v in params.items() if k in names} for name, names in taken.items()}
