"""Linguistic style coordination: do members echo their leaders' function words?

The coordination of speaker ``b`` towards target ``a`` on marker ``m`` (Danescu-Niculescu-Mizil,
Gamon & Dumais 2011; Danescu-Niculescu-Mizil, Lee, Pang & Kleinberg 2012, "Echoes of power")::

    C^m(b, a) = P(b's reply has m | a's post has m) - P(b's reply has m)

over the replies of ``b`` to posts of ``a`` in the window, for the 8 function-word categories of
``post_features`` (presence per post). It is ConvoKit 5.0.0's ``Coordination`` re-implemented
set-based: one ibis group-by over the replies joined to their parents (``reply_to_post_id``) and to
both posts' marker columns gives, per (speaker, target) pair and marker, the four counts ``n``,
``tally`` (replies with m), ``cond_total`` (parents with m) and ``cond_tally`` (both). Every score
is a ratio of sums of these counts, so per-speaker, per-target, pairwise and group scores come from
the small pair table without touching the posts again. ConvoKit's thresholds (including its swap of
the thresholds for ``focus="targets"``) and its three aggregations Agg1–Agg3 are reproduced to 1e-9
on its own outputs (``python -m eval.coordination_parity``).

Beyond ConvoKit: bootstrap intervals (seeded; by default a wild bootstrap given the posts answered,
with random signs on each (speaker, target) pair's contribution), and the comparisons
of the founding study: members → leaders, members → peers, leaders → members, and the difference
members → leaders minus members → peers (paired: the same resampled members on both sides), overall
and by the members' level.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from socialens.analyses.common import post_time_range, roster_at, select_leaders, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.enrich.markers import MARKER_COLUMNS, MARKERS
from socialens.enrich.runner import feature_version as _feature_version
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["coordination", "pair_counts", "convokit_markers", "scores", "aggregate", "summary_report",
           "bootstrap_aggregate", "group_estimates", "AGGREGATIONS", "INTERVALS", "MARKERS"]

AGGREGATIONS = ("agg1", "agg2", "agg3")
_COUNTS = ("tally", "cond_total", "cond_tally")


def _count_columns() -> list[str]:
    return ["n"] + [f"{c}_{m}" for m in MARKERS for c in _COUNTS]


def pair_counts(ws: Workspace, *, feature_version: str | None = None, window_start=None,
                window_end=None, unit: str = "person", features=None) -> pd.DataFrame:
    """Per (speaker, target): the number of replies and, per marker, ``tally``, ``cond_total``,
    ``cond_tally`` (set-based, one ibis aggregation).

    Parameters
    ----------
    feature_version : str
        The ``post_features`` version whose marker columns are read (presence = value > 0).
    features : ibis table, optional
        Instead of ``post_features``: a table of ``post_id`` and the marker columns
        (e.g. :func:`convokit_markers` of the posts, for scoring from raw texts).
    window_start, window_end : datetime, optional
        Replies created in ``[window_start, window_end)``.
    unit : {"person", "account"}
        ``person``: speakers and targets are people, through their personal accounts (replies from
        or to other accounts are left out); ``account``: account ids.

    Returns
    -------
    DataFrame
        ``speaker, target, n, tally_<m>, cond_total_<m>, cond_tally_<m>`` for the 8 markers;
        self-replies (speaker = target) are left out, as in ConvoKit.
    """
    posts = ws.table("posts")
    if features is None:
        if feature_version is None:
            raise AnalysisError("pair_counts needs feature_version (or a features table)")
        f = ws.table("post_features")
        f = f.filter(f.feature_version == feature_version)
    else:
        f = features
    marks = {m: (f[MARKER_COLUMNS[m]] > 0).cast("int64") for m in MARKERS}
    fr = f.select(reply_id=f.post_id, **{f"s_{m}": v for m, v in marks.items()})
    fp = f.select(parent_id=f.post_id, **{f"t_{m}": v for m, v in marks.items()})
    r = posts.filter(posts.reply_to_post_id.notnull())
    if window_start is not None:
        r = r.filter(r.created_at >= window_start)
    if window_end is not None:
        r = r.filter(r.created_at < window_end)
    r = r.select(reply_id=r.post_id, speaker=r.account_id, parent_id=r.reply_to_post_id)
    p = posts.select(parent_id=posts.post_id, target=posts.account_id)
    if unit == "person":
        # each side gets its person before the reply-parent join, so that the self-reply test
        # is a condition of that join (DuckDB otherwise plans a nested loop over the accounts)
        acc = ws.table("accounts")
        acc = acc.filter(acc.person_id.notnull(), acc.kind == "personal")
        sa = acc.select(speaker=acc.account_id, person=acc.person_id)
        r = r.join(sa, "speaker").select("reply_id", "parent_id", speaker="person")
        p = p.join(sa.rename(target="speaker"), "target").select("parent_id", target="person")
    elif unit != "account":
        raise AnalysisError(f"unit={unit!r}: use 'person' or 'account'")
    j = r.join(p, [r.parent_id == p.parent_id, r.speaker != p.target])
    j = j.select(r.reply_id, r.parent_id, r.speaker, p.target)
    j = j.join(fr, "reply_id").join(fp, "parent_id")
    aggs = {"n": j.count()}
    for m in MARKERS:
        s, t = j[f"s_{m}"], j[f"t_{m}"]
        aggs[f"tally_{m}"] = s.sum()
        aggs[f"cond_total_{m}"] = t.sum()
        aggs[f"cond_tally_{m}"] = (s * t).sum()
    out = j.group_by("speaker", "target").aggregate(**aggs).to_pyarrow().to_pandas()
    cols = _count_columns()
    out[cols] = out[cols].fillna(0).astype("int64")
    return out.sort_values(["speaker", "target"], ignore_index=True)[["speaker", "target", *cols]]


def convokit_markers(posts):
    """ConvoKit 5.0.0's marker annotation of ``posts.text``, set-based: ``post_id`` and the 8
    marker columns of ``post_features`` (1 = present), as an ibis table.

    ConvoKit's character trie (:class:`socialens.enrich.markers.ConvoKitAnnotator`) only follows
    the characters ``a-z`` and ``'`` of its patterns and restarts at word characters, so the
    categories of a text are the union of those of its *segments*, the maximal runs of
    ``[a-z0-9_']`` of ``lower(text)`` (every other character ends a segment the same way). The
    segments are split and exploded by the engine, once per distinct lower-cased text; only the
    distinct segments go through the trie (in Python, once each); joins and a group-by give each
    post its markers. Identical to the trie on every text of the Senate source (17,586 tweets) and
    on ConvoKit's tokenization probes (``tests/analyses/test_coordination.py``). Every post has a
    row (no text: no markers).
    """
    import ibis

    from socialens.enrich.markers import _convokit

    texts = posts.select(post_id=posts.post_id, lt=posts.text.lower())
    distinct_texts = texts.filter(texts.lt.notnull()).select("lt").distinct()
    seg = distinct_texts.select(
        lt=distinct_texts.lt, seg=distinct_texts.lt.re_split(r"[^a-z0-9_']+").unnest())
    seg = seg.filter(seg.seg != "")
    distinct = seg.select("seg").distinct().to_pyarrow().column("seg").to_pylist()
    ann = _convokit()
    rows = {m: [] for m in MARKERS}
    keep = []
    for x in distinct:
        cats = ann.categories(x)
        if cats:
            keep.append(x)
            for m in MARKERS:
                rows[m].append(int(m in cats))
    cols = [MARKER_COLUMNS[m] for m in MARKERS]
    lex = ibis.memtable({"seg": keep, **{MARKER_COLUMNS[m]: rows[m] for m in MARKERS}},
                        schema={"seg": "string", **{c: "int64" for c in cols}})
    j = seg.join(lex, "seg")
    found = j.group_by("lt").aggregate(**{c: j[c].max() for c in cols})
    every = texts.left_join(found, "lt")
    every = every.select(post_id=every.post_id, **{c: every[c].fill_null(0) for c in cols})
    # materialized once (one row of 8 small integers per post), since the reply and the parent
    # side both read it
    return ibis.memtable(every.to_pyarrow())


def scores(counts: pd.DataFrame, *, focus: str = "speakers", speakers: Iterable | None = None,
           targets: Iterable | None = None, speaker_thresh: int = 0, target_thresh: int = 3,
           utterances_thresh: int = 0) -> pd.DataFrame:
    """Coordination per key, wide: one row per key, one column per marker (NaN = no score).

    Parameters
    ----------
    counts : DataFrame
        From :func:`pair_counts`.
    focus : {"speakers", "targets", "pairs"}
        Key: the speaker (their replies to every target of the group pooled), the target (every
        speaker's replies to them pooled) or the (speaker, target) pair (ConvoKit's ``transform``).
    speakers, targets : iterable, optional
        The speaker and target groups (default: everyone).
    speaker_thresh, target_thresh, utterances_thresh : int
        ConvoKit's thresholds. For ``speakers`` and ``pairs`` a marker is scored when
        ``cond_total >= max(target_thresh, 1)``, ``tally >= speaker_thresh`` and
        ``n >= max(utterances_thresh, 1)``; for ``targets`` ConvoKit swaps the first two:
        ``tally >= target_thresh`` and ``cond_total >= max(speaker_thresh, 1)``.

    Returns
    -------
    DataFrame
        Index: the key (``speaker``, ``target`` or both); columns the 8 markers and ``n`` (replies).
        Keys without any scored marker are left out.
    """
    c = counts
    if speakers is not None:
        c = c[c.speaker.isin(set(speakers))]
    if targets is not None:
        c = c[c.target.isin(set(targets))]
    key = {"speakers": ["speaker"], "targets": ["target"],
           "pairs": ["speaker", "target"]}.get(focus)
    if key is None:
        raise AnalysisError(f"focus={focus!r}: use 'speakers', 'targets' or 'pairs'")
    g = c.groupby(key, sort=True)[_count_columns()].sum()
    n = g["n"].to_numpy(dtype=float)
    out = pd.DataFrame(index=g.index)
    for m in MARKERS:
        tally = g[f"tally_{m}"].to_numpy(dtype=float)
        ct = g[f"cond_total_{m}"].to_numpy(dtype=float)
        ctl = g[f"cond_tally_{m}"].to_numpy(dtype=float)
        if focus == "targets":
            ok = (tally >= target_thresh) & (ct >= max(speaker_thresh, 1))
        else:
            ok = (ct >= max(target_thresh, 1)) & (tally >= speaker_thresh)
        ok &= n >= max(utterances_thresh, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[m] = np.where(ok, ctl / ct - tally / n, np.nan)
    out["n"] = g["n"].astype("int64")
    return out[out[list(MARKERS)].notna().any(axis=1)]


def aggregate(s: pd.DataFrame) -> dict:
    """ConvoKit's ``summary_report`` of a table from :func:`scores`.

    ``agg3``: mean over keys of each key's mean over its scored markers; ``agg1``: the same over the
    keys scored on all 8 markers; ``agg2``: each key's missing markers filled with the group's mean
    for that marker, then the mean over 8 (None unless every marker has a score somewhere);
    ``marker_agg1`` / ``marker_agg2``: per-marker means over the full keys / over the keys scored
    on that marker; ``count_agg1`` full keys, ``count_agg2`` = ``count_agg3`` all keys.
    """
    x = s[list(MARKERS)].to_numpy(dtype=float) if len(s) else np.empty((0, len(MARKERS)))
    avail = ~np.isnan(x)
    full = avail.all(axis=1)
    x0 = np.where(avail, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_key = x0.sum(axis=1) / avail.sum(axis=1)        # every kept key has a marker
        mk2 = x0.sum(axis=0) / avail.sum(axis=0)            # NaN: no key has the marker
    mk1 = x[full].mean(axis=0) if full.any() else np.full(len(MARKERS), np.nan)
    agg3 = float(per_key.mean()) if len(x) else None
    agg1 = float(per_key[full].mean()) if full.any() else None
    agg2 = (float(np.where(avail, x, mk2).mean(axis=1).mean())
            if len(x) and not np.isnan(mk2).any() else None)
    return {
        "marker_agg1": {m: (None if np.isnan(v) else float(v)) for m, v in zip(MARKERS, mk1, strict=True)},
        "marker_agg2": {m: (None if np.isnan(v) else float(v)) for m, v in zip(MARKERS, mk2, strict=True)},
        "agg1": agg1, "agg2": agg2, "agg3": agg3,
        "count_agg1": int(full.sum()), "count_agg2": len(x), "count_agg3": len(x),
    }


def summary_report(counts: pd.DataFrame, **kw) -> dict:
    """:func:`aggregate` of :func:`scores` (the keyword arguments of :func:`scores`)."""
    return aggregate(scores(counts, **kw))


def _weighted_aggs(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Agg1–Agg3 of the per-key matrix ``x`` (keys × markers, NaN = missing) under key weights
    ``w`` (replicates × keys): one value per replicate (NaN when undefined)."""
    avail = ~np.isnan(x)
    x0 = np.where(avail, x, 0.0)
    k = avail.sum(axis=1)
    present = k > 0
    full = k == x.shape[1]
    per_key = np.where(present, x0.sum(axis=1) / np.maximum(k, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg3 = (w @ (per_key * present)) / (w @ present)
        agg1 = (w @ (per_key * full)) / (w @ full)
        mu = (w @ x0) / (w @ avail)                       # replicates × markers
        fill = (w @ (~avail & present[:, None])) * mu    # missing cells filled with the mean
        agg2 = ((w @ x0).sum(axis=1) + np.nansum(fill, axis=1)) / (x.shape[1] * (w @ present))
        agg2 = np.where(np.isnan(mu).any(axis=1), np.nan, agg2)
    return {"agg1": agg1, "agg2": agg2, "agg3": agg3}


def bootstrap_aggregate(x: np.ndarray, w: np.ndarray, aggregation: str) -> np.ndarray:
    """One aggregate per bootstrap replicate (rows of ``w``), see :func:`_weighted_aggs`."""
    return _weighted_aggs(x, w)[aggregation]


def _weighted_aggs3(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`_weighted_aggs` when the per-key scores differ by replicate: ``x`` is replicates ×
    keys × markers (NaN = not scored in that replicate), ``w`` replicates × keys."""
    avail = ~np.isnan(x)
    x0 = np.where(avail, x, 0.0)
    k = avail.sum(axis=2)
    present = k > 0
    full = k == x.shape[2]
    per_key = x0.sum(axis=2) / np.maximum(k, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg3 = (w * per_key * present).sum(axis=1) / (w * present).sum(axis=1)
        agg1 = (w * per_key * full).sum(axis=1) / (w * full).sum(axis=1)
        mu = np.einsum("bk,bkm->bm", w, x0) / np.einsum("bk,bkm->bm", w, avail.astype(float))
        missing = np.einsum("bk,bkm->bm", w, (~avail & present[:, :, None]).astype(float))
        fill = np.where(missing > 0, missing * mu, 0.0)
        agg2 = ((np.einsum("bk,bkm->b", w, x0) + fill.sum(axis=1))
                / (x.shape[2] * (w * present).sum(axis=1)))
        agg2 = np.where(np.isnan(mu).any(axis=1), np.nan, agg2)
    return {"agg1": agg1, "agg2": agg2, "agg3": agg3}


#: interval methods of :func:`group_estimates` (see docs/methods.md, *Coordination*)
INTERVALS = ("wild", "two-way", "speakers", "targets")


class _Side:
    """One comparison's pair counts laid out for weighted replicates: speakers ``ids`` (rows of
    the speaker weights), the targets answered (columns of the target weights)."""

    def __init__(self, counts: pd.DataFrame, ids: list, targets: Iterable, th: dict):
        c = counts[counts.speaker.isin(set(ids)) & counts.target.isin(set(targets))]
        self.ids = list(ids)
        self.targets = sorted(set(c.target))
        pos = {v: i for i, v in enumerate(self.ids)}
        tpos = {v: i for i, v in enumerate(self.targets)}
        self.s_idx = c.speaker.map(pos).to_numpy(dtype=np.int64)
        self.t_idx = c.target.map(tpos).to_numpy(dtype=np.int64)
        self.x = c[_count_columns()].to_numpy(dtype=float)           # pairs × (1 + 3·8)
        self.th = th
        self.dof = True

    def scores(self, v: np.ndarray | None) -> np.ndarray:
        """Per-speaker scores (replicates × speakers × markers, NaN = not scored) with the pairs
        weighted by their target's weight in each replicate (``v``: replicates × targets;
        ``None``: unit weights, one replicate)."""
        from scipy import sparse

        n_s, n_p = len(self.ids), len(self.x)
        a = sparse.csr_matrix((np.ones(n_p), (self.s_idx, np.arange(n_p))), shape=(n_s, n_p))
        if v is None:
            g = (a @ self.x)[None]                                     # 1 × speakers × cols
        else:
            vp = v[:, self.t_idx]                                      # replicates × pairs
            g = np.stack([(a @ (vp * self.x[:, j]).T).T for j in range(self.x.shape[1])],
                         axis=2)                                       # replicates × speakers × cols
        n = g[:, :, 0]
        tally, ct, ctl = g[:, :, 1::3], g[:, :, 2::3], g[:, :, 3::3]
        th = self.th
        ok = (ct >= max(th["target_thresh"], 1)) & (tally >= th["speaker_thresh"])
        ok &= (n >= max(th["utterances_thresh"], 1))[:, :, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, ctl / ct - tally / n[:, :, None], np.nan)


    def contributions(self, aggregation: str) -> np.ndarray:
        """Each pair's additive contribution ``d_p`` to the side's aggregate, with the reply
        indicators centred at their speaker's own rate on the side (the value under no
        coordination): ``sum(d) == aggregate``; ``sum(eps_p d_p)`` with random signs ``eps`` is
        the wild bootstrap of the aggregate given the posts answered.

        The aggregate is linear in the per-speaker scores once the scored cells are fixed:
        ``g_bm = d aggregate / d C_bm`` is ``(1 + U_m / N_m) / (8 N)`` for Agg2 (``N`` speakers,
        ``N_m`` scored on ``m``, ``U_m = N - N_m``), ``1 / (k_b N)`` for Agg3 and ``1 / (8 N_1)``
        for the ``N_1`` full speakers of Agg1. ``C_bm = sum_p [(ctl_pm - ct_pm r_bm) / CT_bm -
        (tl_pm - n_p r_bm) / n_b]`` for any ``r_bm``; ``r_bm = T_bm / n_b`` makes each term mean
        zero without coordination."""
        n_s, k = len(self.ids), len(MARKERS)
        tot = np.zeros((n_s, self.x.shape[1]))
        np.add.at(tot, self.s_idx, self.x)
        n, tally, ct = tot[:, 0], tot[:, 1::3], tot[:, 2::3]
        c = self.scores(None)[0]                                      # speakers × markers
        sc = ~np.isnan(c)
        k_b = sc.sum(axis=1)
        present = k_b > 0
        g = np.zeros((n_s, k))
        if aggregation == "agg2":
            n_m = sc.sum(axis=0)
            if present.any() and (n_m > 0).all():
                g = np.where(sc, (1 + (present.sum() - n_m) / np.maximum(n_m, 1))
                             / (k * present.sum()), 0.0)
        elif aggregation == "agg3":
            if present.any():
                g = np.where(sc, 1.0 / (np.maximum(k_b, 1)[:, None] * present.sum()), 0.0)
        else:
            full = k_b == k
            if full.any():
                g = np.where(full[:, None], 1.0 / (k * full.sum()), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(n[:, None] > 0, tally / n[:, None], 0.0)
            a = np.where(sc, g / ct, 0.0)                            # per unit of ctl
            b = np.where(sc, g / n[:, None], 0.0)                    # per unit of tl
        si = self.s_idx
        xp = self.x
        tl_p, ct_p, ctl_p = xp[:, 1::3], xp[:, 2::3], xp[:, 3::3]
        r = rate[si]
        d = (a[si] * (ctl_p - ct_p * r) - b[si] * (tl_p - xp[:, [0]] * r)).sum(axis=1)
        if not self.dof:
            return d
        # the rate is estimated from the speaker's own n_b replies: E[residual²] = (1 - 1/n_b) σ²,
        # so the contributions are scaled by sqrt(n_b / (n_b - 1)) (an HC1-type correction)
        nb = n[si]
        return d * np.sqrt(np.where(nb > 1, nb / np.maximum(nb - 1, 1), 1.0))


def _multinomial(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    return rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float)


def _replicates(sides: list[_Side], interval: str, n_boot: int, rng: np.random.Generator,
                aggregation: str, chunk: int = 100) -> list[np.ndarray]:
    """The aggregate of each side in ``n_boot`` replicates. The speakers (shared by the sides:
    the same resampled speakers on both sides of a difference) get multinomial weights unless
    ``interval="targets"``; each side's targets get their own multinomial weights unless
    ``interval="speakers"``; ``two-way`` is the product-weight (pigeonhole) bootstrap of Owen
    (2007): a pair's weight is its speaker's weight times its target's weight."""
    n_s = len(sides[0].ids)
    out = [[] for _ in sides]
    if interval == "wild":
        d = [s.contributions(aggregation) for s in sides]
        est = [x.sum() for x in d]
        for k in range(len(sides)):
            eps = rng.choice([-1.0, 1.0], size=(n_boot, len(d[k])))
            out[k] = est[k] + eps @ d[k]   # centred: est + (null replicate), see group_estimates
        return out
    fixed = [s.scores(None)[0] for s in sides] if interval == "speakers" else None
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        w = (_multinomial(rng, n_s, b) if interval != "targets" else np.ones((b, n_s)))
        for k, side in enumerate(sides):
            if interval == "speakers":
                out[k].append(_weighted_aggs(fixed[k], w)[aggregation])
            else:
                v = _multinomial(rng, max(len(side.targets), 1), b)[:, :len(side.targets)]
                out[k].append(_weighted_aggs3(side.scores(v), w)[aggregation])
        done += b
    return [np.concatenate(o) for o in out]


def _ci(values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    v = values[~np.isnan(values)]
    if len(v) < 2:
        return None, None
    a = (1 - level) / 2
    lo, hi = np.quantile(v, [a, 1 - a])
    return float(lo), float(hi)


_INTERVAL_WORDS = {
    "wild": "wild bootstrap given the posts answered (random signs on each pair of people's "
            "contribution)",
    "speakers": "percentile bootstrap over speakers",
    "two-way": "two-way bootstrap over speakers and targets (Owen 2007)",
    "targets": "percentile bootstrap over targets",
}

_COMPARISONS = ("members_to_leaders", "members_to_peers", "leaders_to_members")


def group_estimates(counts: pd.DataFrame, leaders: list, members: list, *,
                    level_of: pd.Series | None = None, aggregation: str = "agg2",
                    n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                    interval: str = "wild", speaker_thresh: int = 0, target_thresh: int = 3,
                    utterances_thresh: int = 0) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The group comparisons from pair counts: members → leaders, members → peers, leaders →
    members and the difference members → leaders minus members → peers, overall and by the
    members' level (``level_of``: person → level).

    The difference is taken over the members scored towards leaders or peers (or both), each
    side aggregated over its scored members; its interval resamples those members once for both
    sides (paired). Counts may be expected values (floats): the same code then gives the value the
    estimator has in expectation (``eval.coordination_calibration``).

    ``interval`` (``n_boot`` replicates, percentile): ``wild`` (default) is a wild cluster
    bootstrap given the posts answered: each (speaker, target) pair's additive contribution to the
    aggregate (:meth:`_Side.contributions`, replies centred at the speaker's own marker rates on
    that side) gets an independent random sign (Rademacher), the scored cells fixed; its
    replicates are ``estimate + sum(eps_p d_p)``. ``two-way`` resamples speakers and targets
    independently, each pair weighted by the product of its speaker's and its target's
    multinomial weights (Owen 2007's pigeonhole bootstrap), the per-speaker scores and ConvoKit's
    thresholds recomputed in every replicate from the weighted counts; ``speakers`` resamples
    speakers only (their scores fixed); ``targets`` targets only.

    Returns
    -------
    (DataFrame, dict)
        ``comparison, level, n_speakers, n_speakers_all_markers, n_replies, agg1, agg2, agg3,
        ci_low, ci_high`` (the interval is for ``aggregation``; the difference row has only
        ``aggregation``); and the per-speaker score tables of the three comparisons.
    """
    if interval not in INTERVALS:
        raise AnalysisError(f"interval={interval!r}: use one of {', '.join(INTERVALS)}")
    th = {"speaker_thresh": speaker_thresh, "target_thresh": target_thresh,
          "utterances_thresh": utterances_thresh}
    comps = {"members_to_leaders": (members, leaders), "members_to_peers": (members, members),
             "leaders_to_members": (leaders, members)}
    per = {k: scores(counts, focus="speakers", speakers=s, targets=g, **th)
           for k, (s, g) in comps.items()}
    rng = np.random.default_rng(seed)
    rows = []

    def summarize_group(name: str, ids: list, level=None):
        s = per[name][per[name].index.isin(set(ids))]
        ag = aggregate(s)
        row = {"comparison": name, "level": level, "n_speakers": ag["count_agg3"],
               "n_speakers_all_markers": ag["count_agg1"], "n_replies": float(s["n"].sum()),
               **{a: ag[a] for a in AGGREGATIONS}, "ci_low": None, "ci_high": None}
        if n_boot and len(s):
            side = _Side(counts, list(s.index), comps[name][1], th)
            (b,) = _replicates([side], interval, n_boot, rng, aggregation)
            row["ci_low"], row["ci_high"] = _ci(b, confidence)
        rows.append(row)

    def difference(ids: list, level=None):
        ids = sorted(set(ids) & (set(per["members_to_leaders"].index)
                                 | set(per["members_to_peers"].index)))
        ml = per["members_to_leaders"][per["members_to_leaders"].index.isin(ids)]
        mp = per["members_to_peers"][per["members_to_peers"].index.isin(ids)]
        a, b = aggregate(ml)[aggregation], aggregate(mp)[aggregation]
        row = {"comparison": "members_to_leaders_minus_peers", "level": level,
               "n_speakers": len(ids), "n_speakers_all_markers": None,
               "n_replies": float(ml["n"].sum() + mp["n"].sum()),
               **{g: None for g in AGGREGATIONS}, "ci_low": None, "ci_high": None}
        row[aggregation] = None if a is None or b is None else a - b
        if n_boot and ids and row[aggregation] is not None:
            sides = [_Side(counts, ids, leaders, th), _Side(counts, ids, members, th)]
            bl, bp = _replicates(sides, interval, n_boot, rng, aggregation)
            row["ci_low"], row["ci_high"] = _ci(bl - bp, confidence)
        rows.append(row)

    for k in comps:
        summarize_group(k, list(per[k].index))
    difference(members)
    if level_of is not None:
        lv = pd.to_numeric(level_of.reindex(members), errors="coerce")
        for level in sorted({int(v) for v in lv.dropna()}):
            ids = list(lv.index[lv == level])
            for k in ("members_to_leaders", "members_to_peers"):
                summarize_group(k, ids, level=level)
            difference(ids, level=level)
    return pd.DataFrame(rows), per


def _long(s: pd.DataFrame, group: str) -> pd.DataFrame:
    if s.empty:
        return pd.DataFrame(columns=["speaker", "target_group", "marker", "score", "n"])
    t = s.reset_index().melt(id_vars=["speaker", "n"], value_vars=list(MARKERS),
                             var_name="marker", value_name="score").dropna(subset=["score"])
    t.insert(1, "target_group", group)
    return t[["speaker", "target_group", "marker", "score", "n"]].sort_values(
        ["speaker", "marker"], ignore_index=True)


def _pp(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:+.1f}"


@analysis_function
def coordination(
    ws: Workspace,
    *,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    markers_mode: str = "default",
    aggregation: str = "agg2",
    speaker_thresh: int = 0,
    target_thresh: int = 3,
    utterances_thresh: int = 0,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    interval: str = "wild",
) -> Result:
    """Coordination of members towards leaders and peers, and of leaders towards members.

    Parameters
    ----------
    as_of : time, optional
        When roles are read (default: ``window_end``, else the last post).
    window_start, window_end : time, optional
        Replies created in ``[window_start, window_end)`` (default: all).
    leaders : str
        Leader rule (``is_leader``, ``level<=1``, ``ids:...``); members are everyone else on the
        roster at ``as_of``.
    markers_mode : {"default", "convokit"}
        Which enrichment of the markers is read (``socialens enrich --markers-mode``).
    aggregation : {"agg1", "agg2", "agg3"}
        The aggregation of the headline and intervals (all three are in the tables).
    speaker_thresh, target_thresh, utterances_thresh : int
        ConvoKit's thresholds (its defaults 0, 3, 0), applied per speaker and marker.
    n_boot : int
        Bootstrap replicates (0 = no intervals).
    confidence : float
        Interval level.
    seed : int
        Seed of the bootstrap.
    interval : {"wild", "speakers", "two-way", "targets"}
        ``wild`` (default): given the posts answered, each (speaker, target) pair's contribution
        to the estimate, with the replies centred at their speaker's own marker rates, gets a random
        sign (a wild cluster bootstrap; calibrated in EVALUATION.md). ``speakers``: speakers
        resampled with replacement (the interval of earlier versions); ``two-way``: speakers and
        targets resampled (Owen 2007's pigeonhole bootstrap); ``targets``: targets only. See
        docs/methods.md, *Coordination*.
    """
    if aggregation not in AGGREGATIONS:
        raise AnalysisError(f"aggregation={aggregation!r}: use one of {', '.join(AGGREGATIONS)}")
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95")
    if n_boot < 0:
        raise AnalysisError(f"n_boot={n_boot!r} must be 0 (no intervals) or more, e.g. 1000")
    if interval not in INTERVALS:
        raise AnalysisError(f"interval={interval!r}: use one of {', '.join(INTERVALS)}")
    try:
        fv = _feature_version(markers_mode)
    except Exception as exc:  # EnrichError: unknown mode
        raise AnalysisError(str(exc)) from None
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    first, last = post_time_range(ws)
    t = to_time(as_of, "as_of") or t1 or last
    if t is None:
        raise AnalysisError("the workspace has no posts; there are no replies to measure "
                            "coordination on")
    n_feat = ws.table("post_features").filter(
        ws.table("post_features").feature_version == fv).count().execute()
    if not n_feat:
        flag = "" if markers_mode == "default" else f" --markers-mode {markers_mode}"
        raise AnalysisError(f"no post features of version {fv!r}: run `socialens enrich{flag}` "
                            "first (coordination reads the style markers of each post)")
    counts = pair_counts(ws, feature_version=fv, window_start=t0, window_end=t1)
    if counts.empty:
        raise AnalysisError("no replies between people of the organization in the window (with "
                            "both posts enriched); coordination needs replies (posts with "
                            "reply_to_post_id)")
    roster = roster_at(ws, t)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {t.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    lead = sorted(roster.person_id[roster.leader])
    memb = sorted(roster.person_id[~roster.leader])
    th = {"speaker_thresh": speaker_thresh, "target_thresh": target_thresh,
          "utterances_thresh": utterances_thresh}
    level_of = roster.set_index("person_id")["level"]
    groups, per = group_estimates(counts, lead, memb, level_of=level_of, aggregation=aggregation,
                                  n_boot=n_boot, confidence=confidence, seed=seed,
                                  interval=interval, **th)
    overall = groups[groups.level.isna()].set_index("comparison")
    def row(k):
        return {c: (None if not isinstance(v, str) and pd.isna(v) else v)
                for c, v in overall.loc[k].items()}

    main = {k: row(k) for k in _COMPARISONS}
    diff = row("members_to_leaders_minus_peers")
    comps = _COMPARISONS
    parts = [_long(per[k], k) for k in comps]
    speakers_long = (pd.concat([t for t in parts if len(t)], ignore_index=True)
                     if any(len(t) for t in parts) else parts[0])
    by_marker = []
    for k in comps:
        ag = aggregate(per[k])
        for m in MARKERS:
            by_marker.append({"comparison": k, "marker": m, "marker_agg1": ag["marker_agg1"][m],
                              "marker_agg2": ag["marker_agg2"][m]})
    by_marker = pd.DataFrame(by_marker)
    names = roster.set_index("person_id")["name"]
    per_target = scores(counts, focus="targets", speakers=memb, targets=lead, **th)
    per_target = _long(per_target.rename_axis("speaker"), "members").rename(
        columns={"speaker": "target", "target_group": "speaker_group"})
    per_target["name"] = per_target.target.map(names)

    def fmt(r):
        v = r.get(aggregation)
        ci = (f" (95 % CI {_pp(r['ci_low'])} to {_pp(r['ci_high'])})"
              if r.get("ci_low") is not None else "")
        return f"{_pp(v)} points{ci}"

    ml, mp, lm = main["members_to_leaders"], main["members_to_peers"], main["leaders_to_members"]
    if ml[aggregation] is None and mp[aggregation] is None:
        headline = (f"Too few replies to measure coordination: no member reached ConvoKit's "
                    f"threshold of {max(target_thresh, 1)} replies to posts with a marker.")
    else:
        if diff[aggregation] is not None and diff["ci_low"] is not None:
            if diff["ci_low"] > 0:
                verdict = "members echo leaders more than they echo peers"
            elif diff["ci_high"] < 0:
                verdict = "members echo peers more than they echo leaders"
            else:
                verdict = "no clear difference between echoing leaders and echoing peers"
        else:
            verdict = "too few replies to compare leaders and peers"
        headline = (
            f"When a post uses a kind of function word (articles, pronouns, 'and', 'very'...), "
            f"members replying to a leader use it {fmt(ml)} more often than they otherwise do; "
            f"replying to a peer {fmt(mp)}; leaders replying to members {fmt(lm)}. "
            f"Difference leaders vs peers {fmt(diff)}: {verdict}.")
    summary = {
        "aggregation": aggregation, "confidence": confidence,
        "n_replies": int(counts["n"].sum()), "n_leaders": len(lead), "n_members": len(memb),
        "window_start": t0 or first, "window_end": t1,
        **{k: {key: main[k][key] for key in (*AGGREGATIONS, "ci_low", "ci_high", "n_speakers",
                                               "n_speakers_all_markers", "n_replies")}
           for k in comps},
        "members_to_leaders_minus_peers": {"estimate": diff[aggregation],
                                           "ci_low": diff["ci_low"], "ci_high": diff["ci_high"],
                                           "n_speakers": diff["n_speakers"]},
    }
    return Result(
        name="coordination",
        title="Coordination: do members echo their leaders' style?",
        params={"as_of": t, "window_start": t0, "window_end": t1, "leaders": leaders,
                "markers_mode": markers_mode, "feature_version": fv, "aggregation": aggregation,
                "speaker_thresh": speaker_thresh, "target_thresh": target_thresh,
                "utterances_thresh": utterances_thresh, "n_boot": n_boot,
                "confidence": confidence, "seed": seed, "interval": interval},
        summary=summary,
        tables={"groups": groups, "speakers": speakers_long, "markers": by_marker,
                "leaders_as_targets": per_target},
        headline=headline,
        notes=[
            "Coordination C = P(reply has marker | post answered has it) − P(reply has marker), "
            "per speaker and marker, over replies between people of the organization in the "
            "window (Danescu-Niculescu-Mizil et al. 2012, as ConvoKit 5.0.0 computes it); shown "
            "in percentage points.",
            f"A speaker's marker is scored when at least {max(target_thresh, 1)} of the posts "
            f"they answered in the group contain it (ConvoKit's target_thresh); {aggregation} "
            "aggregates speakers (docs/methods.md). Intervals: "
            + _INTERVAL_WORDS[interval] + f", {n_boot} replicates, seed {seed}.",
            "Coordination is association, not proof that leaders cause members' style; random "
            "pairing gives values scattered around 0.",
        ],
    )
