"""``socialens demo``: the bundled US Congress dataset → workspace → analyses → report.

The demo answers the founding question on real data: in the 2017 Congress, were the party leaders
the most followed and the first on Twitter (2017 snapshot of 1,000+ accounts), and in the Senate of
2012–2015, were they the most active posters (17,586 tweets), who started the hashtags, and what
tone did leaders and members take? The posts are enriched (tone, style markers,
personal/professional) before the analyses run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from socialens.errors import SocialensError

__all__ = ["run_demo", "DEMO_PARAMS", "dataset_dir"]

#: The parameters of each analysis in the demo (all recorded in the Result params).
DEMO_PARAMS: dict[str, dict] = {
    # the latest snapshot is the 2017 list-members one; roles are read at that time. Each member
    # is represented by the account(s) listed for them in congress-legislators (their official
    # account), not their campaign accounts; see docs/methods.md (demo) for the alternatives.
    # Press offices (e.g. @McConnellPress, kind = delegate in the bundled data) are not personal
    # accounts, so a member whose only listed account is one is unranked (followers unknown).
    "directory": {"leaders": "is_leader", "platform": "twitter",
                  "account_filter": "official_listing=true"},
    "adoption": {"leaders": "is_leader", "platform": "twitter",
                 "account_filter": "official_listing=true"},
    # Senate tweets 2012-08 → 2015-07; roles read at the end of the window
    "activity": {"leaders": "is_leader", "platform": "twitter",
                 "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
    # replies and mentions among the senators in the same window
    "interactions": {"leaders": "is_leader",
                     "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
    # the 2022 Congress interaction network (Fink et al., 2022-02-09 -> 2022-06-09) with roles
    # read on the 2022 roster date (the builder stores Fink's influence edges turned round, in
    # SociaLens's direction: src paid attention to dst)
    "reach": {"leaders": "is_leader", "kinds": ("interaction",), "as_of": "2022-05-26T00:00:00Z",
              "window_start": "2022-02-09T00:00:00Z", "window_end": "2022-06-10T00:00:00Z"},
    # who used the Senate's top hashtags first, and who followed (the same window)
    "contagion": {"leaders": "is_leader",
                  "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
    # tone profiles and tone alignment on the Senate's top hashtags (needs the enrichment step)
    "tone": {"leaders": "is_leader",
             "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
    # members' personal share around their leaders' and peers' first personal posts (the same
    # window; needs the enrichment step's personal_score); defaults otherwise
    "sharing": {"leaders": "is_leader",
                "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
    # model or delegate: hashtags first used by a leader's own account vs an official/delegate
    # account (the press offices, kind = delegate). 30-day horizon, not the default 90: the
    # collection keeps each account's last 200 tweets (a quarter of the accounts span < 52 days,
    # the median 85), so with 90 days only hashtags started before mid-April 2015 are followed up
    "delegation": {"leaders": "is_leader", "horizon_days": 30,
                   "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
    # a report card per party leader (the leader flag at the end of the Senate window), composed
    # of the results above; the exposure ratio on the Senate's top hashtags
    "leaders": {"leaders": "is_leader",
                "window_start": "2012-08-01T00:00:00Z", "window_end": "2015-07-18T00:00:00Z"},
}


def dataset_dir() -> Path:
    """The bundled canonical folder of the US Congress demo."""
    from socialens.datasets import US_CONGRESS_DIR

    if not (US_CONGRESS_DIR / "people.csv.gz").exists():
        raise SocialensError(
            f"the bundled demo data is missing from {US_CONGRESS_DIR}; reinstall SociaLens or "
            "rebuild it with `python scripts/build_demo_dataset.py`"
        )
    return US_CONGRESS_DIR


def run_demo(out_dir: str | Path, *, on_step: Callable[[str], None] | None = None) -> dict:
    """Build ``out_dir/workspace.duckdb`` from the bundled data (fresh each time), run the
    analyses, write ``report.html`` and ``summary.json``, and publish the directory site into
    ``out_dir/site/``.

    Returns a dict with the paths, the results and ``answer`` (the founding question in words).
    """
    import socialens
    from socialens.analyses import REGISTRY
    from socialens.privacy import public_only
    from socialens.report import founding_answer, write_report

    step = on_step or (lambda msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ws_path = out / "workspace.duckdb"
    for p in (ws_path, ws_path.with_name(ws_path.name + ".wal")):
        if p.exists():
            p.unlink()
    data = dataset_dir()
    with socialens.open(ws_path) as ws:
        step("ingesting the bundled US Congress dataset")
        ingest = ws.ingest(data)
        if ingest.totals["quarantined"]:
            step(f"{ingest.totals['quarantined']} records quarantined")
        step("enriching the posts (tone, style markers, personal/professional)")
        from socialens.enrich import enrich

        enrich(ws)
        results = {}
        with public_only(ws):  # the report is published output
            for name, params in DEMO_PARAMS.items():
                step(f"analysis: {name}")
                fn = REGISTRY[name]
                reuse = getattr(fn, "from_results", None)  # leaders: cards from the results above
                results[name] = (reuse(ws, dict(results), **params) if reuse is not None
                                 else fn(ws, **params))
        step("writing the report")
        sources = (data / "SOURCES.md").read_text(encoding="utf-8") if (data / "SOURCES.md").exists() else None
        paths = write_report(ws, out, results=results, sources=sources,
                             title="SociaLens demo: the US Congress on Twitter")
        step("publishing the directory site")
        from socialens.site.build import publish

        site = publish(ws, out / "site", title="US Congress on Twitter: the directory",
                       **DEMO_PARAMS["directory"])
    return {
        "site": out / "site" / "index.html",
        "published": site,
        "workspace": ws_path,
        "html": paths["html"],
        "json": paths["json"],
        "results": results,
        "ingest": ingest,
        "answer": founding_answer(results),
    }
