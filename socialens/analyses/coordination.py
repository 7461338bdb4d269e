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

Beyond ConvoKit: percentile bootstrap intervals resampling speakers (seeded), and the comparisons
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

__all__ = ["coordination", "pair_counts", "scores", "aggregate", "summary_report",
           "bootstrap_aggregate", "group_estimates", "AGGREGATIONS", "MARKERS"]

AGGREGATIONS = ("agg1", "agg2", "agg3")
_COUNTS = ("tally", "cond_total", "cond_tally")


def _count_columns() -> list[str]:
    return ["n"] + [f"{c}_{m}" for m in MARKERS for c in _COUNTS]


def pair_counts(ws: Workspace, *, feature_version: str, window_start=None, window_end=None,
                unit: str = "person") -> pd.DataFrame:
    """Per (speaker, target): the number of replies and, per marker, ``tally``, ``cond_total``,
    ``cond_tally`` (set-based, one ibis aggregation).

    Parameters
    ----------
    feature_version : str
        The ``post_features`` version whose marker columns are read (presence = value > 0).
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
    f = ws.table("post_features")
    f = f.filter(f.feature_version == feature_version)
    marks = {m: (f[MARKER_COLUMNS[m]] > 0).cast("int64") for m in MARKERS}
    fr = f.select(reply_id=f.post_id, **{f"s_{m}": v for m, v in marks.items()})
    fp = f.select(parent_id=f.post_id, **{f"t_{m}": v for m, v in marks.items()})
    r = posts.filter(posts.reply_to_post_id.notnull())
    if window_start is not None:
        r = r.filter(r.created_at >= window_start)
    if window_end is not None:
        r = r.filter(r.created_at < window_end)
    r = r.select(reply_id=r.post_id, r_account=r.account_id, parent_id=r.reply_to_post_id)
    p = posts.select(parent_id=posts.post_id, p_account=posts.account_id)
    j = r.join(p, "parent_id").join(fr, "reply_id").join(fp, "parent_id")
    if unit == "person":
        acc = ws.table("accounts")
        acc = acc.filter(acc.person_id.notnull(), acc.kind == "personal")
        sa = acc.select(r_account=acc.account_id, speaker=acc.person_id)
        ta = acc.select(p_account=acc.account_id, target=acc.person_id)
        j = j.join(sa, "r_account").join(ta, "p_account")
    elif unit == "account":
        j = j.mutate(speaker=j.r_account, target=j.p_account)
    else:
        raise AnalysisError(f"unit={unit!r}: use 'person' or 'account'")
    j = j.filter(j.speaker != j.target)
    aggs = {"n": j.count()}
    for m in MARKERS:
        s, t = j[f"s_{m}"], j[f"t_{m}"]
        aggs[f"tally_{m}"] = s.sum()
        aggs[f"cond_total_{m}"] = t.sum()
        aggs[f"cond_tally_{m}"] = (s * t).sum()
    out = j.group_by("speaker", "target").aggregate(**aggs).to_pandas()
    cols = _count_columns()
    out[cols] = out[cols].fillna(0).astype("int64")
    return out.sort_values(["speaker", "target"], ignore_index=True)[["speaker", "target", *cols]]


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


def _matrix(s: pd.DataFrame, index: list) -> np.ndarray:
    """Per-key scores aligned on ``index`` (missing keys: all NaN)."""
    return s.reindex(index)[list(MARKERS)].to_numpy(dtype=float)


def _ci(values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    v = values[~np.isnan(values)]
    if len(v) < 2:
        return None, None
    a = (1 - level) / 2
    lo, hi = np.quantile(v, [a, 1 - a])
    return float(lo), float(hi)


_COMPARISONS = ("members_to_leaders", "members_to_peers", "leaders_to_members")


def group_estimates(counts: pd.DataFrame, leaders: list, members: list, *,
                    level_of: pd.Series | None = None, aggregation: str = "agg2",
                    n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                    speaker_thresh: int = 0, target_thresh: int = 3,
                    utterances_thresh: int = 0) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The group comparisons from pair counts: members → leaders, members → peers, leaders →
    members and the difference members → leaders minus members → peers, overall and by the
    members' level (``level_of``: person → level).

    The difference is taken over the members scored towards leaders or peers (or both), each
    side aggregated over its scored members; its interval resamples those members once for both
    sides (paired). Counts may be expected values (floats): the same code then gives the value the
    estimator has in expectation (``eval.coordination_calibration``).

    Returns
    -------
    (DataFrame, dict)
        ``comparison, level, n_speakers, n_speakers_all_markers, n_replies, agg1, agg2, agg3,
        ci_low, ci_high`` (the interval is for ``aggregation``; the difference row has only
        ``aggregation``); and the per-speaker score tables of the three comparisons.
    """
    th = {"speaker_thresh": speaker_thresh, "target_thresh": target_thresh,
          "utterances_thresh": utterances_thresh}
    comps = {"members_to_leaders": (members, leaders), "members_to_peers": (members, members),
             "leaders_to_members": (leaders, members)}
    per = {k: scores(counts, focus="speakers", speakers=s, targets=g, **th)
           for k, (s, g) in comps.items()}
    rng = np.random.default_rng(seed)

    def weights(n: int) -> np.ndarray:
        return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)

    rows = []

    def summarize_group(name: str, ids: list, level=None):
        s = per[name][per[name].index.isin(set(ids))]
        ag = aggregate(s)
        row = {"comparison": name, "level": level, "n_speakers": ag["count_agg3"],
               "n_speakers_all_markers": ag["count_agg1"], "n_replies": float(s["n"].sum()),
               **{a: ag[a] for a in AGGREGATIONS}, "ci_low": None, "ci_high": None}
        if n_boot and len(s):
            b = bootstrap_aggregate(_matrix(s, list(s.index)), weights(len(s)), aggregation)
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
            w = weights(len(ids))
            bl = bootstrap_aggregate(_matrix(per["members_to_leaders"], ids), w, aggregation)
            bp = bootstrap_aggregate(_matrix(per["members_to_peers"], ids), w, aggregation)
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
        Bootstrap replicates (speakers resampled with replacement; 0 = no intervals).
    confidence : float
        Interval level.
    seed : int
        Seed of the bootstrap.
    """
    if aggregation not in AGGREGATIONS:
        raise AnalysisError(f"aggregation={aggregation!r}: use one of {', '.join(AGGREGATIONS)}")
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95")
    if n_boot < 0:
        raise AnalysisError(f"n_boot={n_boot!r} must be 0 (no intervals) or more, e.g. 1000")
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
                                  n_boot=n_boot, confidence=confidence, seed=seed, **th)
    overall = groups[groups.level.isna()].set_index("comparison")
    def row(k):
        return {c: (None if not isinstance(v, str) and pd.isna(v) else v)
                for c, v in overall.loc[k].items()}

    main = {k: row(k) for k in _COMPARISONS}
    diff = row("members_to_leaders_minus_peers")
    comps = _COMPARISONS
    speakers_long = pd.concat([_long(per[k], k) for k in comps], ignore_index=True)
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
                "confidence": confidence, "seed": seed},
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
            "aggregates speakers (docs/methods.md). Intervals: percentile bootstrap over "
            f"speakers, {n_boot} replicates, seed {seed}.",
            "Coordination is association, not proof that leaders cause members' style; random "
            "pairing gives values scattered around 0.",
        ],
    )
