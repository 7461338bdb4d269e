"""Model or delegate: calibration of the delegation comparison through the product (simulate →
ingest → ``delegation``), against the uptake difference the simulator plants.

The simulator (``socialens/simulate/behaviours.py``) starts ``n_campaigns`` hashtag campaigns from
a leader's personal account, the official account, a leader's delegate account or a member
(``campaign_seed_shares``), on a day drawn uniformly in [10 %, 80 %] of the window; each follower of
an account that uses the hashtag gets one chance to take it up, with the planted probability
``p_transmit_leader`` (a leader's account), ``p_transmit_official`` (official or delegate) or
``p_transmit_peer``. The analysis sees only accounts (with their ``kind``), roles, posts and
hashtags; it estimates ``delta``: the difference in mean uptake share within 90 days (members on
the platform at the first use, the seeder excepted), leader-seeded minus delegated, within
matched calendar quarters weighted by their number of campaigns (docs/methods.md, *Delegation*).

**The planted value.** The uptake share of a campaign depends on ``p_transmit_*`` and on who
follows the seeding account (the official account's audience is not a leader's), so it is not a
parameter of the simulator but an expectation under it. For each simulated organization the
planted ``delta`` is computed by Monte Carlo on the *same* organization (the org chart, network,
platform adoption and official followers rebuilt from the seed): ``N_MC`` further campaigns drawn
by the simulator's own ``simulate_campaigns`` (streams ``[seed + 10**7, 202, c]``, independent of the
observed campaigns), each scored exactly as the analysis scores one (members on the platform at
its start, the seeder's owner excepted, first uses in ``(t0, t0 + 90 d]``); the expected share of
each arm in each quarter is the mean over those campaigns, and ``delta = sum_s w_s (mu_L,s -
mu_D,s)`` with the analysis's own weights ``w_s``. Its Monte Carlo standard error is recorded.

Presets (``SETTINGS`` on top of each): ``default`` (``p_transmit_leader`` 0.15 >
``p_transmit_official`` 0.05, leaders = CEO and C-suite: a C-suite head's audience is much smaller
than the official account's, so the planted difference is small, about +0.3 points); ``ceo``
(``unconfounded`` with the CEO the only leader — ``leader_max_level = 0``, the delegate account is
hers — followed by the same share of members as the official account, ``p_follow_ceo =
p_follow_official = 0.5``, no tie churn; 0.15 vs 0.05: about +8 points); ``null`` (``null`` with the
same audiences, 0.05 = 0.05: the planted difference is 0 on average over organizations, within
about ±0.5 points on each). Under the plain ``null`` preset the planted difference is *not* zero:
the official account reaches half of the members, a C-suite head mostly her department (about -1
point). A seed *covers* when the 95 % interval contains its planted ``delta``; it *rejects* when
the interval excludes 0 (power under ``default`` and ``ceo``, false positives under ``null``).

Method choice: development seeds only (``--dev``: 0–12; the diagnosis of 2026-12-02 used 0–130 of
``default``, 0–72 of ``ceo``, 0–52 of ``null_owner``). The first reported run (87 seeds,
170000–170086) had the t interval covering 88.5 % under ``default``; the diagnosis found no bias
(per-campaign uptake through the product equals the truth re-scored, the weights are the
analysis's), no account clustering to correct (campaigns are independent given the organization,
which the planted value holds fixed), a right-skewed leader arm (CEO vs C-suite campaigns: the
error of the estimate correlates 0.43 with its se, misses lopsided) and a Monte Carlo error of the
planted value a quarter of the se (2,000 campaigns). Since then ``N_MC`` = 4,000. The
studentized bootstrap (``bootstrap-t``), headline of 171000–171190, covered no better than ``t``
there. The diagnostic that decided the present headline, ``hc3`` (:func:`spread`, ``--spread``,
development seeds only): conditional on one organization, many independent sets of its campaigns
give the true sd of the estimate, to compare with the mean se; over 37 organizations × 40 sets
the pooled ``t`` covered 94.9 / 93.8 % (``ceo`` / ``null_owner``; sd of (estimate − planted) / se
1.01 / 1.04), the HC3 variance of the period-by-arm means 96.6 / 94.9 % (docs/methods.md,
*Delegation*).
Every interval is computed on the same table; rows carry ``misses_low`` / ``misses_high``
(planted value below / above the interval) and Wilson intervals. The reported run uses fresh
seeds, e.g. ``nice -n 10 python -m eval.delegation_calibration --seed-base 171200 --seeds 100
--rows rows.jsonl`` (and ``--seed-base 171300`` in a second process).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from eval.common import complete_seeds, emit, read_rows, run_jobs

NAME = "delegation_calibration"
TITLE = "Model or delegate: delegation comparison calibration on simulated organizations"

#: small organizations (~7 s a seed through the product) with many campaigns, mostly from leaders
#: and official/delegate accounts (the default 30 campaigns give ~9 per arm: too few)
SETTINGS = dict(people=250, n_campaigns=120, campaign_seed_shares=(0.4, 0.3, 0.2, 0.1),
                truth_posts=False, reply_share=0.05)
#: the CEO is the only leader (her delegate account is the only one) and is followed by the same
#: share of members as the official account, with no tie churn: the two arms reach exchangeable
#: audiences, so the planted difference comes from the transmission probabilities alone
CEO = {"leader_max_level": 0, "p_follow_ceo": 0.5, "p_follow_official": 0.5,
       "tie_late_share": 0.0, "tie_end_share": 0.0}
PRESETS = {
    "default": ("default", {}),
    "ceo": ("unconfounded", {**CEO, "p_transmit_leader": 0.15, "p_transmit_official": 0.05}),
    "null": ("null", {**CEO}),
    # the exact null: the CEO's delegate account reaches the CEO's own followers (simulator option
    # delegate_audience="owner"), the delegated campaigns all come from it, 0.05 = 0.05
    "null_owner": ("null", {"leader_max_level": 0, "delegate_audience": "owner",
                            "campaign_seed_shares": (0.5, 0.0, 0.5, 0.0)}),
}
SEED_BASE = 171_200
DEV_SEEDS = range(0, 13)
N_SEEDS = 200
HORIZON_DAYS = 90.0
N_MC = 4000
BUDGET_S = 1200.0
HEADLINE = "hc3"  # declared for 171200+; t was the headline of 171000-171190 (EVALUATION.md)
METHODS = ("hc3", "t", "bootstrap-t", "bootstrap")


def _config(preset: str):
    from socialens.simulate.config import make_config

    base, extra = PRESETS[preset]
    return make_config(base, **{**SETTINGS, **extra})


def _organization(cfg, seed: int):
    """The organization of ``seed`` rebuilt from its streams (org chart, network, adoption and
    population), as ``simulate`` builds it."""
    from socialens.simulate.activity import build_population
    from socialens.simulate.adoption import simulate_adoption
    from socialens.simulate.network import build_network
    from socialens.simulate.org import build_org

    org = build_org(cfg, np.random.default_rng([seed, 1]))
    net = build_network(cfg, org, np.random.default_rng([seed, 2]))
    ad = simulate_adoption(cfg, org, net, np.random.default_rng([seed, 3]))
    pop = build_population(cfg, org, net, ad, np.random.default_rng([seed, 4]))
    return org, net, pop


def score_campaigns(cfg, camps, pop, *, horizon_days: float = HORIZON_DAYS) -> pd.DataFrame:
    """Each leader-seeded or delegated campaign scored exactly as the analysis scores it: ``arm``
    (1 = leader), ``s`` (calendar quarter of its start), ``y`` (uptake share: members on the
    platform at its start, the seeder's owner excepted, first uses in ``(t0, t0 + horizon]``)."""
    from socialens.simulate.activity import DAY

    n = pop.n
    h = int(horizon_days * DAY)
    created = pop.created_sec[:n]
    base = pd.Timestamp(f"{cfg.start}T00:00:00Z")
    rows = []
    for row, ent, sec in zip(camps.rows, camps.ent, camps.sec, strict=True):
        if row["seed_kind"] == "member":
            continue
        t0 = row["introduced_sec"]
        s = row["seed_ent"]
        owner = s if s < n else (int(pop.delegates_of[s - n - 1]) if s > n else -1)
        on = (created >= 0) & (created <= t0)
        if owner >= 0:
            on[owner] = False
        k = ent < n
        e, dt = ent[k], sec[k] - t0
        took = e[(dt > 0) & (dt <= h)]
        took = took[on[took]]
        risk = int(on.sum())
        if risk == 0:
            continue
        q = (base + pd.Timedelta(seconds=int(t0))).tz_localize(None).to_period("Q")
        rows.append({"arm": 1 if row["seed_kind"] == "leader" else 0, "s": str(q),
                     "y": len(took) / risk})
    return pd.DataFrame(rows, columns=["arm", "s", "y"])


def spread(preset: str, seed: int, *, n_sets: int = 40, n_truth: int = 20_000,
           methods=("hc3", "t")) -> pd.DataFrame:
    """The decisive diagnostic (development seeds only): conditional on one organization, the
    simulator draws ``n_sets`` independent sets of the observed campaigns (set 0 is the one the
    product sees, stream ``seed``; set ``r`` stream ``seed + 10**8 + 1000 r``), each scored as
    the analysis scores it; each set's matched difference and intervals by ``methods``, against
    the expectation from ``n_truth`` campaigns (streams ``seed + 10**7``) with the set's own
    weights. The sd of ``estimate - planted`` over the sets is the true sd of the estimate for
    that organization, to compare with the mean ``se_<method>``."""
    from socialens.analyses.delegation import matched_difference
    from socialens.simulate.behaviours import simulate_campaigns

    cfg = _config(preset)
    org, net, pop = _organization(cfg, seed)
    sh = np.asarray(cfg.campaign_seed_shares, dtype=float)
    sh[3] = 0.0
    mc = cfg.replace(n_campaigns=n_truth, campaign_seed_shares=tuple(sh / sh.sum()))
    mu = score_campaigns(cfg, simulate_campaigns(mc, seed + 10**7, org, net, pop), pop
                         ).groupby(["s", "arm"]).y.mean()
    rows = []
    for r in range(n_sets):
        df = score_campaigns(cfg, simulate_campaigns(
            cfg, seed if r == 0 else seed + 10**8 + 1000 * r, org, net, pop), pop)
        row: dict = {"preset": preset, "seed": seed, "set": r}
        for m in methods:
            o = matched_difference(df.y.to_numpy(), df.arm.to_numpy(), df.s.to_numpy(),
                                   interval=m)
            row.update({f"se_{m}": o["se"], f"df_{m}": o["df"],
                        f"ci_{m}": [o["ci_low"], o["ci_high"]] if o["ci_low"] is not None
                        else None})
        row["estimate"] = o["estimate"]
        if o["estimate"] is not None and all((k, a) in mu.index for k in o["weights"]
                                             for a in (0, 1)):
            row["planted"] = float(sum(w * (mu[(k, 1)] - mu[(k, 0)])
                                       for k, w in o["weights"].items()))
        rows.append(row)
    return pd.DataFrame(rows)


def summarize_spread(df: pd.DataFrame, methods=("hc3", "t")) -> dict:
    """Per preset: the pooled sd of ``(estimate - planted) / se`` and the coverage of each
    method over every (organization, set), and the mean ratio of the true sd of the estimate
    per organization to its mean se."""
    out: dict = {}
    df = df[df.planted.notna()]
    for p, g in df.groupby("preset"):
        err = g.estimate - g.planted
        out[f"n_orgs_{p}"] = int(g.seed.nunique())
        out[f"n_sets_{p}"] = int(len(g))
        for m in methods:
            lo, hi = g[f"ci_{m}"].map(lambda c: c[0]), g[f"ci_{m}"].map(lambda c: c[1])
            out[f"sd_z_{p}_{m}"] = round(float((err / g[f"se_{m}"]).std()), 4)
            out[f"coverage_{p}_{m}"] = round(float(((lo <= g.planted) & (g.planted <= hi))
                                                   .mean()), 4)
            per = g.assign(err=err).groupby("seed").agg(sd=("err", "std"),
                                                        se=(f"se_{m}", "mean"))
            out[f"sd_over_se_{p}_{m}"] = round(float((per.sd / per.se).mean()), 4)
    return out


def planted_delta(cfg, seed: int, weights: dict[str, float], *, n_mc: int = N_MC,
                  horizon_days: float = HORIZON_DAYS) -> dict:
    """The expected matched difference on this seed's organization, by Monte Carlo over fresh
    campaigns of the simulator (see the module docstring)."""
    from socialens.simulate.behaviours import simulate_campaigns

    org, net, pop = _organization(cfg, seed)
    sh = np.asarray(cfg.campaign_seed_shares, dtype=float)
    sh[3] = 0.0  # member-seeded campaigns are not compared
    mc = cfg.replace(n_campaigns=n_mc, campaign_seed_shares=tuple(sh / sh.sum()))
    camps = simulate_campaigns(mc, seed + 10**7, org, net, pop)
    df = score_campaigns(cfg, camps, pop, horizon_days=horizon_days)
    g = df.groupby(["s", "arm"]).y.agg(["mean", "var", "size"])
    est, var = 0.0, 0.0
    for s, w in weights.items():
        for a, sign in ((1, 1.0), (0, -1.0)):
            if (s, a) not in g.index:
                return {"planted": None, "planted_mc_se": None}
            m = g.loc[(s, a)]
            est += sign * w * float(m["mean"])
            var += w * w * float(m["var"]) / float(m["size"])
    return {"planted": est, "planted_mc_se": float(np.sqrt(var))}


def one_seed(seed: int, preset: str) -> dict:
    """Simulate → ingest → delegation for one seed, every interval, and the planted value."""
    import socialens
    from socialens.analyses.delegation import delegation, matched_difference
    from socialens.simulate import simulate

    cfg = _config(preset)
    t0 = time.perf_counter()
    row = {"seed": seed, "preset": preset}
    with tempfile.TemporaryDirectory() as d:
        r = simulate(seed=seed, config=cfg, out=Path(d) / "ws.duckdb")
        ws = socialens.open(r.workspace, read_only=True)
        try:
            res = delegation(ws, horizon_days=HORIZON_DAYS, interval=HEADLINE, seed=seed)
            truth = ws.table("sim_truth_campaigns").select("hashtag", "seed_kind").to_pandas()
        finally:
            ws.close()
    s = res.summary
    tbl = res.tables["behaviours"]
    # the pipeline check: the seeder kinds the analysis read from the product vs the truth
    kinds = dict(zip("hashtag:#" + truth.hashtag, truth.seed_kind, strict=True))
    seen = tbl[tbl.behaviour.isin(kinds)]
    row["seeder_kind_agreement"] = float((seen.seeder_kind == seen.behaviour.map(kinds)).mean())
    comp = tbl[tbl.followed_up & (tbl.at_risk > 0)
               & tbl.seeder_kind.isin(["leader", "official", "delegate"])]
    arm = (comp.seeder_kind == "leader").astype(int).to_numpy()
    row.update(status=s["status"], estimate=s["delta"], n_leader=s["n_leader"],
               n_delegated=s["n_delegated"], n_strata=s["n_strata"], se=s.get("delta_se"),
               n_leader_accounts=int(comp[arm == 1].seeder_account_id.nunique()),
               n_delegated_accounts=int(comp[arm == 0].seeder_account_id.nunique()))
    for m in METHODS:  # the headline through the product, the others on the same table
        if m == HEADLINE:
            row[f"ci_{m}"] = s["delta_ci"]
            continue
        o = matched_difference(comp.uptake_share.to_numpy(float), arm, comp.period.to_numpy(),
                               interval=m, n_boot=2000, seed=seed)
        row[f"ci_{m}"] = [o["ci_low"], o["ci_high"]] if o["ci_low"] is not None else None
    t1 = time.perf_counter()
    weights = {}
    if s["status"] == "estimated":
        from socialens.analyses.delegation import matched_difference as md

        weights = md(comp.uptake_share.to_numpy(float), arm, comp.period.to_numpy())["weights"]
        row.update(planted_delta(cfg, seed, weights))
    row["seconds_truth"] = round(time.perf_counter() - t1, 2)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def _job(args):
    seed, preset = args
    try:
        return one_seed(seed, preset)
    except Exception as exc:  # noqa: BLE001 - a failed seed is a row, counted, not a crash
        return {"seed": seed, "preset": preset, "error": f"{type(exc).__name__}: {exc}"}


def _rate(s: pd.Series) -> float | None:
    return None if len(s) == 0 else round(float(s.mean()), 4)


def wilson(k: int, n: int, z: float = 1.959963984540054) -> list[float] | None:
    """The Wilson score interval of a proportion ``k / n`` (95 % by default)."""
    if n == 0:
        return None
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(c - h), 4), round(float(c + h), 4)]


def summarize(df: pd.DataFrame) -> dict:
    out: dict = {"seeds": [int(df.seed.min()), int(df.seed.max())] if len(df) else [None, None],
                 "headline_interval": HEADLINE}
    present = [p for p in PRESETS if p in set(df.preset)]
    out["presets"] = present
    for p in present:
        g = df[df.preset == p]
        est = g[g.status == "estimated"] if "status" in g else g.iloc[0:0]
        out[f"n_seeds_{p}"] = int(len(g))
        out[f"n_too_few_{p}"] = int(len(g) - len(est))
        out[f"mean_estimate_{p}"] = (round(float(est.estimate.mean()), 5) if len(est) else None)
        out[f"sd_estimate_{p}"] = (round(float(est.estimate.std()), 5) if len(est) > 1 else None)
        out[f"mean_planted_{p}"] = (round(float(est.planted.mean()), 5) if len(est) else None)
        out[f"mean_planted_mc_se_{p}"] = (round(float(est.planted_mc_se.mean()), 5)
                                          if len(est) else None)
        out[f"median_n_leader_{p}"] = float(est.n_leader.median()) if len(est) else None
        out[f"median_n_delegated_{p}"] = float(est.n_delegated.median()) if len(est) else None
        out[f"seeder_kind_agreement_{p}"] = (round(float(g.seeder_kind_agreement.mean()), 4)
                                             if len(g) else None)
        for m in METHODS:
            ci = est[f"ci_{m}"]
            ok = ci.notna()
            lo = ci[ok].map(lambda c: c[0])
            hi = ci[ok].map(lambda c: c[1])
            pl = est.planted[ok]
            suffix = f"_{p}" + ("" if m == HEADLINE else f"_{m}")
            cov, rej = (lo <= pl) & (pl <= hi), (lo > 0) | (hi < 0)
            out["coverage" + suffix] = _rate(cov)
            out["coverage_wilson" + suffix] = wilson(int(cov.sum()), int(len(cov)))
            out["misses_low" + suffix] = _rate(pl < lo)  # the planted value below the interval
            out["misses_high" + suffix] = _rate(pl > hi)
            out["rejects_zero" + suffix] = _rate(rej)
            out["rejects_zero_wilson" + suffix] = wilson(int(rej.sum()), int(len(rej)))
            out["mean_width" + suffix] = (round(float((hi - lo).mean()), 5) if ok.any() else None)
    out["n_seeds"] = int(min(out[f"n_seeds_{p}"] for p in present)) if present else 0
    out["coverage"] = out.get("coverage_default")
    out["coverage_wilson"] = out.get("coverage_wilson_default")
    out["rejection_rate"] = out.get("rejects_zero_null_owner")
    out["rejection_rate_wilson"] = out.get("rejects_zero_wilson_null_owner")
    out["power"] = out.get("rejects_zero_ceo")
    out["power_default"] = out.get("rejects_zero_default")
    return out


def run(n_seeds: int = N_SEEDS, *, seed_base: int = SEED_BASE, rows_out: Path | None = None,
        budget_s: float | None = BUDGET_S, presets: list[str] | None = None) -> dict:
    """Both presets over ``n_seeds`` seeds from ``seed_base`` (seed-major; one process)."""
    t0 = time.perf_counter()
    jobs = [(seed_base + k, p) for k in range(n_seeds) for p in presets or PRESETS]
    rows = run_jobs(_job, jobs, rows_out=rows_out, budget_s=budget_s, t0=t0)
    df, errors = complete_seeds(rows, len(presets or PRESETS))
    out = summarize(df)
    out.update(errors=errors, seconds=round(time.perf_counter() - t0, 1),
               n_seeds_requested=n_seeds, budget_s=budget_s)
    return out


def _ci(c) -> str:
    return "–" if not c else f"{c[0]}–{c[1]}"


def to_markdown(r: dict) -> str:
    s = r.get("seeds", [None, None])
    role = {"default": "power at the default preset's small planted difference",
            "ceo": "power", "null": "org-level difference of audiences, see below",
            "null_owner": "false positives, target 2–8 %"}
    present = r.get("presets", list(PRESETS))
    lines = [
        f"{r['n_seeds']} seeds per preset (seeds {s[0]}–{s[1]}"
        + (f", of {r['n_seeds_requested']} asked: stopped by the {r['budget_s']:.0f} s budget"
           if r.get("n_seeds_requested", r["n_seeds"]) > r["n_seeds"] else "")
        + "; the interval was chosen on development seeds 0–64, never these"
        f"), {SETTINGS['people']} people, {SETTINGS['n_campaigns']} "
        "campaigns (seed shares leader/official/delegate/member "
        f"{'/'.join(str(x) for x in SETTINGS['campaign_seed_shares'])}), horizon "
        f"{HORIZON_DAYS:g} days, matched by calendar quarter; {r.get('seconds', '?')} s. "
        "Planted delta: the Monte Carlo expectation on each organization "
        f"({N_MC} fresh campaigns; mean MC standard error "
        + " / ".join(str(r.get(f"mean_planted_mc_se_{p}")) for p in present) + "). Presets: "
        "`default`; `ceo` = `unconfounded` with the CEO the only leader, followed by as many "
        "members as the official account, p_transmit_leader 0.15 vs p_transmit_official 0.05; "
        "`null` = `null` with the same CEO-only audiences (0.05 = 0.05); `null_owner` = `null` "
        "with the CEO the only leader and every delegated campaign from her delegate account, "
        "which reaches her own followers (`delegate_audience = owner`): an exact null.", "",
        "| preset | interval | coverage of planted delta (target 92–98 %; Wilson 95 %) "
        "| planted below / above the interval | rejects delta = 0 (Wilson 95 %) "
        "| mean width | mean estimate | mean planted |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in present:
        for m in METHODS:
            suf = f"_{p}" + ("" if m == HEADLINE else f"_{m}")
            lines.append(
                f"| {p} | {m}{' (headline)' if m == HEADLINE else ''} | {r.get('coverage' + suf)}"
                f" ({_ci(r.get('coverage_wilson' + suf))}) | {r.get('misses_low' + suf)} / "
                f"{r.get('misses_high' + suf)} | {r.get('rejects_zero' + suf)} "
                f"({_ci(r.get('rejects_zero_wilson' + suf))}; {role[p]}) | "
                f"{r.get('mean_width' + suf)} | {r.get('mean_estimate_' + p)} | "
                f"{r.get('mean_planted_' + p)} |")
    lines += ["", "Median campaigns compared per arm (leader / delegated): "
              + "; ".join(f"{p} {r.get('median_n_leader_' + p)} / "
                          f"{r.get('median_n_delegated_' + p)}" for p in present)
              + ". Seeds where the data could not tell: "
              + " / ".join(str(r.get("n_too_few_" + p)) for p in present)
              + ". Seeder kinds read through the product agree with sim_truth_campaigns in "
              + " / ".join(str(r.get("seeder_kind_agreement_" + p)) for p in present)
              + f" of campaigns. Failed seeds: {r.get('errors', 0)}."]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=N_SEEDS, help="seeds per preset")
    ap.add_argument("--seed-base", type=int, default=SEED_BASE)
    ap.add_argument("--dev", action="store_true",
                    help=f"the development seeds {DEV_SEEDS.start}-{DEV_SEEDS.stop - 1}")
    ap.add_argument("--budget", type=float, default=BUDGET_S,
                    help="stop starting organizations after this many seconds")
    ap.add_argument("--rows", type=Path, help="write per-seed rows here (JSON Lines)")
    ap.add_argument("--summarize", type=Path, nargs="+", help="only summarize these rows")
    ap.add_argument("--presets", nargs="+", choices=list(PRESETS), help="only these presets")
    ap.add_argument("--spread", type=int, metavar="N_SETS",
                    help="the diagnostic instead: N_SETS campaign sets per organization of "
                         "--seeds development seeds from --seed-base (below 100000)")
    a = ap.parse_args(argv)
    if a.spread:
        if a.seed_base >= 100_000:
            ap.error("--spread is for development seeds: give --seed-base below 100000 "
                     "(the reported runs use 170000+)")
        t0 = time.perf_counter()
        jobs = [(p, a.seed_base + k) for k in range(a.seeds) for p in a.presets or PRESETS]
        frames = []
        for p, sd in jobs:
            frames.append(spread(p, sd, n_sets=a.spread))
            if a.rows:
                frames[-1].to_json(a.rows, orient="records", lines=True, mode="a")
        out = summarize_spread(pd.concat(frames))
        out.update(seeds=[a.seed_base, a.seed_base + a.seeds - 1], n_sets=a.spread,
                   seconds=round(time.perf_counter() - t0, 1))
        print(out, file=sys.stderr)
        emit(out)
        return
    if a.summarize:
        df = pd.DataFrame(read_rows(a.summarize))
        if "error" in df:
            df = df[df["error"].isna()]
        out = summarize(df)
        out.update(n_seeds_requested=out["n_seeds"])
    else:
        base, n = (DEV_SEEDS.start, len(DEV_SEEDS)) if a.dev else (a.seed_base, a.seeds)
        out = run(n, seed_base=base, rows_out=a.rows, budget_s=a.budget, presets=a.presets)
    print(to_markdown(out), file=sys.stderr)
    emit(out)


if __name__ == "__main__":
    main()
