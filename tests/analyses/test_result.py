import json

from bs4 import BeautifulSoup

from socialens.analyses import run_all, summaries


def test_results_serialize_and_render(tiny_ws):
    skipped: dict[str, str] = {}
    results = run_all(tiny_ws, unavailable=skipped)
    assert "enrich" in skipped["coordination"]  # no post features (and no replies) in the tiny org
    blob = json.dumps(summaries(results))
    assert set(json.loads(blob)["analyses"]) == {"directory", "adoption", "activity", "interactions",
                                                  "reach", "contagion", "delegation", "leaders"}
    html = results["directory"].to_html()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("section", id="directory")
    assert soup.find("svg") is not None
    assert results["adoption"]._repr_html_().startswith("<section")


def test_large_charts_are_thinned_and_keep_leaders():
    """Altair refuses to embed more than 5,000 rows (found by the 10^6-post benchmark)."""
    import numpy as np
    import pandas as pd

    from socialens.analyses.activity import _rate_chart
    from socialens.analyses.adoption import _chart
    from socialens.analyses.result import MAX_CHART_POINTS

    n = 20_000
    df = pd.DataFrame({"rank": np.arange(1, n + 1), "person_id": [f"p{i}" for i in range(n)],
                       "name": "x", "title": "t", "leader": np.arange(n) % 997 == 0,
                       "posts_per_week": np.linspace(50, 0.01, n)})
    chart = _rate_chart(df, "posts_per_week", "rates")
    spec = chart.to_dict()  # raises MaxRowsError when too many rows
    data = chart.data
    assert len(data) <= MAX_CHART_POINTS and (data["who"] == "leader").sum() == df["leader"].sum()
    assert "of 20000 people shown" in spec["title"]
    curves = pd.DataFrame({"group": np.repeat(["level 0", "level 2"], n // 2),
                           "at": pd.date_range("2008-01-01", periods=n, freq="h", tz="UTC"),
                           "cumulative_share": np.linspace(0, 1, n), "n_members": n})
    assert len(_chart(curves).data) <= MAX_CHART_POINTS
