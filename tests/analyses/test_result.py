import json

from bs4 import BeautifulSoup

from socialens.analyses import run_all, summaries


def test_results_serialize_and_render(tiny_ws):
    results = run_all(tiny_ws)
    blob = json.dumps(summaries(results))
    assert set(json.loads(blob)["analyses"]) == {"directory", "adoption", "activity"}
    html = results["directory"].to_html()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("section", id="directory")
    assert soup.find("svg") is not None
    assert results["adoption"]._repr_html_().startswith("<section")
