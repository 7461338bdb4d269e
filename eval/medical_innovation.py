"""Medical Innovation (Coleman, Katz & Menzel 1966): known answers, then leader vs peer exposure.

125 doctors in four Illinois cities, adoption month of tetracycline (``toa`` 1..17, 18 = not
adopted), up to three advisor / discussion / friend nominations each (netdiffuseR's
``medInnovations``). A small reader turns the file into the tables the influence tests take:
people (``city:id``), adoption events (month ``toa`` as the period), exposure ties (a doctor is
exposed to everyone they nominated, in the same city; nominations of non-respondents dropped, as
netdiffuseR does). Leaders: the doctors most often named as advisor (``net1``), the top decile.

Known answers (netdiffuseR): saturation per city 0.81–0.89; time to 50 % adoption about 6 months.
Then the time-varying Cox model of adoption on leader and peer exposure (contacts adopted in an
earlier month), without and with the marketing-effort control ``detail`` (Van den Bulte & Lilien
2001), plus the shuffle and edge-reversal tests.

Run alone: ``python -m eval.medical_innovation`` (metrics as JSON on the last line).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eval.common import emit, require
from socialens.behaviours.influence import AdoptionPanel, EdgeReversalTest, ExposureCox, ShuffleTest

TITLE = "Medical Innovation (Coleman, Katz & Menzel 1966): diffusion and leader vs peer exposure"
MONTH = pd.Timedelta(days=30)
T0 = pd.Timestamp("1954-11-01", tz="UTC")  # month 1 begins here (the study's first month)


def load() -> pd.DataFrame:
    d = pd.read_csv(require("medical_innovation", "medInnovations.csv.gz"))
    d["person_id"] = d.city.astype(int).astype(str) + ":" + d.id.astype(int).astype(str)
    return d


def tables(d: pd.DataFrame):
    ids = set(d.person_id)
    rows = []
    for _, r in d.iterrows():
        for c in [c for c in d.columns if c.startswith("net")]:
            v = r[c]
            if pd.notna(v):
                j = f"{int(r.city)}:{int(v)}"
                if j in ids and j != r.person_id:
                    rows.append((r.person_id, j, c[:4]))
    ties = pd.DataFrame(rows, columns=["person_id", "source_person_id", "net"])
    adv = ties[ties.net == "net1"].source_person_id.value_counts()
    cut = adv.quantile(0.9)
    leaders = set(adv[adv >= cut].index)
    adopt = d[d.toa < 18][["person_id"]].assign(
        at=T0 + (d.toa[d.toa < 18] - 1).astype(int) * MONTH + pd.Timedelta(days=1))
    ties = ties.drop_duplicates(["person_id", "source_person_id"]).assign(start_at=pd.NaT)
    return adopt, ties[["person_id", "source_person_id", "start_at"]], leaders, adv


def known_answers(d: pd.DataFrame) -> dict:
    out = {}
    for city, g in d.groupby("city"):
        share = float((g.toa < 18).mean())
        months = np.arange(1, 18)
        cum = np.array([(g.toa <= m).mean() for m in months])
        t50 = int(months[np.argmax(cum >= 0.5 * share)])  # of the city's eventual adopters
        out[int(city)] = {"saturation": round(share, 3), "time_to_50pct_months": t50}
    return out


def run(n_permutations: int = 499) -> dict:
    d = load()
    adopt, ties, leaders, adv = tables(d)
    res = {"cities": known_answers(d), "n_doctors": len(d), "n_ties": len(ties),
           "n_leaders": len(leaders), "leader_min_advisor_nominations": int(adv[list(leaders)].min())}
    members = d[~d.person_id.isin(leaders)]
    for name, pop, controls in [
            ("no_controls", members[["person_id", "city"]], ["city"]),
            ("detail", members.dropna(subset=["detail"])[["person_id", "city", "detail"]],
             ["city", "detail"])]:
        panel = AdoptionPanel.from_tables(adopt, ties, population=pop, leaders=leaders, start=T0,
                                          end=T0 + 17 * MONTH, period=MONTH, lag=1,
                                          controls=controls)
        cox = ExposureCox("indicator", controls=controls).fit(panel)
        s = cox.summary_.set_index("covariate")
        res[f"cox_{name}"] = {
            "n_people": cox.n_people_, "n_events": cox.n_events_,
            **{f"hr_{k}": [round(float(s.loc[f"{k}_exposure", c]), 3)
                           for c in ("hazard_ratio", "ci_low", "ci_high")]
               for k in ("leader", "peer") if f"{k}_exposure" in s.index},
            **({"hr_detail": [round(float(s.loc["detail", c]), 3)
                              for c in ("hazard_ratio", "ci_low", "ci_high")]}
               if "detail" in s.index else {})}
        if name == "no_controls":
            sh = ShuffleTest(n_permutations, seed=1966).fit(panel)
            sh_city = ShuffleTest(n_permutations, strata="city", seed=1966).fit(panel)
            er = EdgeReversalTest(n_permutations, seed=1966).fit(panel)
            res["shuffle_p"] = {k: round(v, 4) for k, v in sh.p_values_.items()}
            res["shuffle_within_city_p"] = {k: round(v, 4) for k, v in sh_city.p_values_.items()}
            res["edge_reversal_p"] = {k: round(v, 4) for k, v in er.p_values_.items()}
            res["alpha"] = {k: round(v, 3) for k, v in sh.alpha_.items()}
    return res


def to_markdown(r: dict) -> str:
    lines = ["| city | saturation (documented 0.81–0.89) | months to 50 % of adopters (documented 6/6/7/7) |",
             "|---|---|---|"]
    for c, v in r["cities"].items():
        lines.append(f"| {c} | {v['saturation']} | {v['time_to_50pct_months']} |")
    lines += ["", f"{r['n_doctors']} doctors, {r['n_ties']} nomination ties (advisor, discussion, "
              f"friend; a doctor is exposed to those they named), {r['n_leaders']} leaders (named "
              f"as advisor ≥ {r['leader_min_advisor_nominations']} times, the top decile).", "",
              "| Cox model (monthly, exposure = contact adopted in an earlier month) | people | "
              "adoptions | HR leader exposure (95 % CI) | HR peer exposure (95 % CI) | HR detail |",
              "|---|---|---|---|---|---|"]
    for name in ("no_controls", "detail"):
        c = r[f"cox_{name}"]
        f = lambda v: f"{v[0]} ({v[1]}–{v[2]})" if v else "—"  # noqa: E731
        lines.append(f"| {'city only' if name == 'no_controls' else 'city + detail'} | "
                     f"{c['n_people']} | {c['n_events']} | {f(c.get('hr_leader'))} | "
                     f"{f(c.get('hr_peer'))} | {f(c.get('hr_detail'))} |")
    lines += ["", f"Shuffle test p (leader / peer / all): {r['shuffle_p']}; within city: "
              f"{r['shuffle_within_city_p']}; edge reversal: {r['edge_reversal_p']}; α: {r['alpha']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(to_markdown(result))
    emit(result)
