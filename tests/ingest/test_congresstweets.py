import pytest

from tests.conftest import SHARED_DATA
from tests.ingest.conftest import reasons


def test_daily_file(ws, load):
    r = load("congresstweets_day.json", "congresstweets")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (4, 3, 1)
    rs = " | ".join(reasons(r))
    assert "no UTC offset" in rs and "user_id" not in rs
    # a record without user_id (the early files): the author is known by handle only
    a = ws.sql("SELECT * FROM accounts WHERE account_id = 'twitter:@leezeldin'")
    assert a.handle.tolist() == ["leezeldin"] and '"id_unknown": true' in a["attrs"][0]
    assert ws.sql("SELECT account_id FROM posts WHERE post_id = 'twitter:884473614178889730'"
                  ).account_id[0] == "twitter:@leezeldin"
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    rt = p.loc["twitter:884426551177105409"]
    assert rt.repost_of == "twitter:884425445684465665"
    qt = p.loc["twitter:884571229436432388"]
    assert qt.repost_of is None and '"quoted_handle": "Interior"' in qt["attrs"]
    assert "&amp;" not in qt.text
    e = ws.sql("SELECT kind, value FROM post_entities WHERE post_id = 'twitter:884426551177105409' ORDER BY 1, 2")
    assert e.values.tolist() == [["mention", "jestei"], ["mention", "kristinapet"], ["url", "http://nyti.ms/2u0fb3j"]]
    assert ws.sql("SELECT handle FROM accounts WHERE account_id='twitter:1099199839'").handle[0] == "MartinHeinrich"


@pytest.mark.skipif(not (SHARED_DATA / "congresstweets_fixture").exists(), reason="no shared data")
def test_real_fixture(ws):
    r = ws.ingest(SHARED_DATA / "congresstweets_fixture" / "2017-07-10.excerpt.json")
    f = r.files[0]
    assert f.format == "congresstweets" and (f.n_read, f.n_loaded) == (8, 8)
    assert ws.count("accounts") == 8
    assert ws.sql("SELECT count(*) n FROM posts WHERE repost_of IS NOT NULL").n[0] == 1
