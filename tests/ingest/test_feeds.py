from tests.ingest.conftest import reasons


def test_rss(ws, load):
    r = load("blog_rss.xml", "feeds")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (2, 1, 1)
    assert "published" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").iloc[0]
    assert p.post_id == "blog:https://ada.example/2023/why"
    assert p.account_id == "blog:https://ada.example/feed.xml"
    assert p.text == "Why we share & learn\n\nWe share openly. See our values."
    assert str(p.created_at) == "2023-01-10 12:00:00+00:00"
    e = ws.sql("SELECT kind, value FROM post_entities ORDER BY 1").values.tolist()
    assert e == [["hashtag", "culture"], ["url", "https://acme.example/values"]]
    assert ws.sql("SELECT display_name FROM accounts").display_name[0] == "Ada's blog"


def test_atom(ws, load):
    r = load("blog_atom.xml", "feeds")
    assert r.files[0].n_loaded == 1
    p = ws.sql("SELECT * FROM posts").iloc[0]
    assert p.account_id == "blog:https://bo.example/atom.xml"
    assert str(p.created_at) == "2023-02-01 08:00:00+00:00"
    assert p.text == "Hello\n\nFirst post ✨"


def test_roster_feed_lands_on_person(ws):
    from tests.ingest.conftest import PLATFORM_FIXTURES

    ws.ingest(PLATFORM_FIXTURES / "roster.csv")
    ws.ingest(PLATFORM_FIXTURES / "blog_rss.xml")
    got = ws.sql("SELECT a.person_id FROM posts p JOIN accounts a USING (account_id)")
    assert got.person_id.tolist() == ["p1"]
