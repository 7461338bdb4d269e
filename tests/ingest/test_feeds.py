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


def _rss(feed_url: str, guid: str, title: str) -> str:
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
            f'<channel><title>{title}</title><link>https://{title}.example/</link>'
            f'<atom:link href="{feed_url}" rel="self"/>'
            f'<item><title>{title} post</title><guid isPermaLink="false">{guid}</guid>'
            f'<pubDate>Fri, 05 Sep 2026 11:03:00 GMT</pubDate></item></channel></rss>')


def test_non_uri_guids_are_scoped_by_feed(ws, tmp_path):
    # two blogs whose guids are both "1": two posts, each on its own feed
    for name in ("ada", "bo"):
        (tmp_path / f"{name}.xml").write_text(_rss(f"https://{name}.example/feed.xml", "1", name))
    r = ws.ingest(tmp_path / "ada.xml", tmp_path / "bo.xml")
    assert [f.n_loaded for f in r.files] == [1, 1]
    got = ws.sql("SELECT post_id, account_id FROM posts ORDER BY 1").values.tolist()
    assert got == [["blog:https://ada.example/feed.xml#1", "blog:https://ada.example/feed.xml"],
                   ["blog:https://bo.example/feed.xml#1", "blog:https://bo.example/feed.xml"]]


def test_relative_self_link(ws, tmp_path):
    # resolved against the site link when that is absolute
    (tmp_path / "a.xml").write_text(_rss("feed.xml", "https://ada.example/p/1", "ada"))
    ws.ingest(tmp_path / "a.xml")
    assert ws.sql("SELECT account_id FROM posts").account_id[0] == "blog:https://ada.example/feed.xml"
    # with nothing absolute the feed cannot be named: quarantined with the reason, not blog:feed.xml
    (tmp_path / "b.xml").write_text(_rss("feed.xml", "x1", "bo").replace("https://bo.example/", "./"))
    r = ws.ingest(tmp_path / "b.xml")
    assert (r.files[0].n_loaded, r.files[0].n_quarantined) == (0, 1)
    assert "relative links ('./', 'feed.xml')" in reasons(r)[0]
