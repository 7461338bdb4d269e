"""Several questions at once: Holm's step-down adjustment (Holm 1979).

The founding answer asks three questions (first, most active, most followed) of the same
organization, one pre-declared primary test each; a "yes" needs the Holm-adjusted p-value below
alpha, which keeps the chance of any false "yes" at most alpha whatever the dependence.
"""

from __future__ import annotations

__all__ = ["holm", "smallest_adjusted"]


def holm(pvalues: dict[str, float | None]) -> dict[str, float | None]:
    """Holm-adjusted p-values: ``p_(i) * (m - i + 1)`` for the i-th smallest, made monotone and
    capped at 1. Missing p-values (None) are not counted in ``m`` and stay None.

    >>> holm({"a": 0.01, "b": 0.04, "c": 0.03})
    {'a': 0.03, 'b': 0.06, 'c': 0.06}
    """
    known = sorted((p, k) for k, p in pvalues.items() if p is not None)
    m = len(known)
    out: dict[str, float | None] = {k: None for k in pvalues}
    running = 0.0
    for i, (p, k) in enumerate(known):
        running = max(running, min(1.0, (m - i) * p))
        out[k] = round(running, 15)
    return out


def smallest_adjusted(min_p: float | None, m: int) -> float | None:
    """The smallest Holm-adjusted p-value a question can reach when its own smallest attainable
    p-value is ``min_p`` among ``m`` questions: ``min(1, m * min_p)`` (it is then the smallest).

    >>> round(smallest_adjusted(9 / 165, 3), 4)
    0.1636
    """
    return None if min_p is None else min(1.0, m * min_p)
