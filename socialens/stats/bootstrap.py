"""People-resampling bootstrap for ratios of sums by group (tone profiles, personal shares).

A group's statistic is ``Σ numerator / Σ denominator`` over its people (e.g. the pooled mean tone
``Σ tone_sum / Σ n_posts``); its interval resamples people with replacement (multinomial weights,
one matrix product per statistic) and takes percentiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["percentile_interval", "group_ratios"]


def percentile_interval(values: np.ndarray, confidence: float
                        ) -> tuple[float | None, float | None]:
    """The equal-tailed percentile interval of the finite ``values`` (None with fewer than 2).

    >>> percentile_interval(np.array([1.0, 2.0, 3.0, np.nan]), 0.5)
    (1.5, 2.5)
    """
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return None, None
    a = (1 - confidence) / 2
    lo, hi = np.quantile(v, [a, 1 - a])
    return float(lo), float(hi)


def group_ratios(per_person: pd.DataFrame, groups: pd.Series, numerators: dict[str, str], *,
                 denominator: str = "n_posts", n_boot: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> pd.DataFrame:
    """Per group: ``n_people`` (with a positive denominator), ``n_posts`` (Σ denominator) and, for
    each ``name: column`` of ``numerators``, ``name`` = Σ column / Σ denominator with
    ``name_ci_low`` / ``name_ci_high`` from ``n_boot`` people resamples.

    ``per_person`` has ``person_id`` and the columns; ``groups`` maps person_id → group label
    (people not in it are left out; a repeated index puts a person in several groups).

    >>> pp = pd.DataFrame({"person_id": ["a", "b"], "n_posts": [2, 8], "s": [1.0, 0.2]})
    >>> t = group_ratios(pp, pd.Series({"a": "x", "b": "x"}), {"share": "s"}, n_boot=0)
    >>> round(float(t.share[0]), 3), int(t.n_people[0]), t.share_ci_low[0] is None
    (0.12, 2, True)
    """
    pp = per_person.set_index("person_id")
    rng = np.random.default_rng(seed)
    rows = []
    for g, ids in groups.groupby(groups, sort=False):
        ids = [i for i in ids.index if i in pp.index]
        d = pp.loc[ids]
        n = d[denominator].to_numpy(float)
        row = {"group": g, "n_people": int((n > 0).sum()), "n_posts": int(n.sum())}
        w = (rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=n_boot).astype(float)
             if n_boot and len(ids) > 1 else None)
        for name, col in numerators.items():
            num = d[col].to_numpy(float)
            row[name] = float(num.sum() / n.sum()) if n.sum() else None
            lo = hi = None
            if w is not None and n.sum():
                with np.errstate(invalid="ignore", divide="ignore"):
                    lo, hi = percentile_interval((w @ num) / (w @ n), confidence)
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = lo, hi
        rows.append(row)
    return pd.DataFrame(rows, columns=["group", "n_people", "n_posts",
                                       *[f"{k}{s}" for k in numerators
                                         for s in ("", "_ci_low", "_ci_high")]])
