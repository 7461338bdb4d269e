from tests.ingest.conftest import reasons


def test_csv(ws, load):
    r = load("fourcat_export.csv", "fourcat")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (4, 3, 1)
    assert "id is missing" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    a = p.loc["twitter:1600000000000000001"]
    assert a.account_id == "twitter:1001" and str(a.created_at) == "2023-01-01 12:00:00+00:00"
    assert '"extra_col": "x1"' in a["attrs"]
    b = p.loc["twitter:1600000000000000002"]
    assert b.account_id == "twitter:bo" and '"thread_id"' in b["attrs"]
    assert p.loc["4cat:p3"].account_id == "4cat:carol"
    e = ws.sql("SELECT kind, value FROM post_entities ORDER BY 1").values.tolist()
    assert e == [["hashtag", "world"], ["mention", "bo"]]


def test_ndjson(ws, load):
    r = load("fourcat_export.ndjson", "fourcat")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (2, 1, 1)
    assert "timestamp" in reasons(r)[0]
    assert ws.sql("SELECT account_id FROM posts").account_id[0] == "bluesky:did:plc:ceo111"
