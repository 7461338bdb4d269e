"""Hostile test data: classic XSS payloads and an organization seeded with them, plus people who
did not opt in (shared by the site tests and the load bench)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

__all__ = ["XSS_PAYLOADS", "POST_TEXTS", "XSS_URLS", "HIDDEN_PEOPLE", "make_org"]

# Classic payloads: script tags, event handlers, javascript: URLs, SVG, attribute breaking,
# JSON-in-script breaking, comments and encodings. Each one, if it ever executed, would set
# window.__xss or open a dialog.
XSS_PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=window.__xss=1>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert(1);\">",
    "<svg onload=window.__xss=1>",
    "<svg/onload=alert(1)>",
    "<svg><script>window.__xss=1</script></svg>",
    "<svg><animate onbegin=window.__xss=1 attributeName=x dur=1s>",
    "<body onload=window.__xss=1>",
    "<iframe src=\"javascript:parent.__xss=1\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "<details open ontoggle=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<select autofocus onfocus=window.__xss=1>",
    "<textarea autofocus onfocus=window.__xss=1>",
    "<video><source onerror=window.__xss=1>",
    "<audio src=x onerror=window.__xss=1>",
    "<marquee onstart=window.__xss=1>",
    "<object data=\"javascript:window.__xss=1\">",
    "<embed src=\"javascript:window.__xss=1\">",
    "<a href=\"javascript:window.__xss=1\">click</a>",
    "<math><mtext></mtext><mglyph><svg><mtext><style><img src=x onerror=window.__xss=1>",
    "\"><script>window.__xss=1</script>",
    "'><script>window.__xss=1</script>",
    "\" onmouseover=\"window.__xss=1",
    "' onfocus='window.__xss=1' autofocus='",
    "\" autofocus onfocus=\"window.__xss=1",
    "\"><img src=x onerror=window.__xss=1>",
    "</title><script>window.__xss=1</script>",
    "</textarea><script>window.__xss=1</script>",
    "</script><script>window.__xss=1</script>",
    "</script><img src=x onerror=window.__xss=1>",
    "\"}]</script><script>window.__xss=1</script>",
    "\u2028\u2029</script><script>window.__xss=1</script>",
    "<!--<script>window.__xss=1</script>-->",
    "<![CDATA[<script>window.__xss=1</script>]]>",
    "]]><script>window.__xss=1</script>",
    "{{constructor.constructor('window.__xss=1')()}}",
    "${window.__xss=1}",
    "{% raw %}{{7*7}}{% endraw %}",
    "javascript:window.__xss=1",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "<div style=\"background:url(javascript:window.__xss=1)\">",
    "<link rel=stylesheet href=javascript:window.__xss=1>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.__xss=1\">",
    "<base href=\"javascript:window.__xss=1//\">",
    "<form action=javascript:window.__xss=1><button>x</button></form>",
    "<isindex action=javascript:window.__xss=1 type=image>",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "&#60;script&#62;window.__xss=1&#60;/script&#62;",
    "%3Cscript%3Ewindow.__xss=1%3C/script%3E",
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "=cmd|' /C calc'!A0",
]
# URLs a post or account might carry: only the http(s) one may become a link
XSS_URLS = ["javascript:window.__xss=1", "JAVASCRIPT:alert(1)", "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)", "//evil.example/x", "https://example.org/\"><script>window.__xss=1</script>",
            "https://example.org/ok?a=1&b=<2>"]

HIDDEN_PEOPLE = [  # opt_in = false: none of this may appear in a default build
    {"person_id": "hid1", "name": "Zebulon Hiddenperson", "handle": "zebhidden42",
     "post": "SECRETPOSTTEXT one from zeb", "account": "twitter:900001", "dept": "Shadowdept"},
    {"person_id": "hid2", "name": "Quintessa Notlisted", "handle": "quintnl77",
     "post": "SECRETPOSTTEXT two from quint", "account": "bluesky:did:plc:hiddenquint",
     "dept": "Sales"},
]


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)



def _post_texts() -> list[str]:
    from socialens.text import decode_entities

    return [decode_entities(p) for p in XSS_PAYLOADS]


#: The payloads as ingest stores them in posts: HTML entities decoded once (the one text layer),
#: so ``&lt;script&gt;`` is the text ``<script>``, which every output must still escape.
POST_TEXTS = _post_texts()

def make_org(folder: Path) -> Path:
    """A canonical folder: a CEO and a COO (leaders), one visible person per XSS payload, two
    people who did not opt in (one of them the most followed of all)."""
    folder.mkdir(parents=True, exist_ok=True)
    people, roles, accounts, snaps, posts = [], [], [], [], []

    def person(pid, name, dept, opt_in, title, level, handle, account_id, followers, texts,
               url="", bio=""):
        people.append({"person_id": pid, "name": name, "department": dept,
                       "opt_in": "true" if opt_in else "false"})
        roles.append({"person_id": pid, "title": title, "level": level,
                      "is_leader": "true" if level == 0 else "false",
                      "start_at": "2000-01-01", "end_at": ""})
        platform = account_id.split(":", 1)[0]
        accounts.append({"account_id": account_id, "person_id": pid, "platform": platform,
                         "handle": handle, "kind": "personal", "created_at": "2008-01-01T00:00:00Z",
                         "display_name": name, "bio": bio, "url": url})
        snaps.append({"account_id": account_id, "observed_at": "2009-01-01T00:00:00Z",
                      "followers": followers, "following": 10, "posts_count": len(texts)})
        for k, (text, purl) in enumerate(texts):
            posts.append({"post_id": f"{account_id}-p{k}", "account_id": account_id,
                          "created_at": f"2008-12-{1 + k % 28:02d}T10:{k % 60:02d}:00Z",
                          "text": text, "url": purl})

    person("ceo", "Tony Chief", "Exec", True, "CEO", 0, "tonychief", "twitter:1", 50000,
           [("Hello from the CEO", "https://example.org/ceo/1")])
    person("coo", "Alfred Ops", "Exec", True, "COO", 0, "alfredops", "mastodon:mastodon.example/1",
           40000, [("Ops update", "")])
    person("blue", "Bea Sky", "Sales", True, "Staff", 2, "bea.bsky.social",
           "bluesky:did:plc:beasky", 1000, [("Hi bluesky", "")])
    for i, payload in enumerate(XSS_PAYLOADS):
        url = XSS_URLS[i % len(XSS_URLS)]
        person(f"x{i:02d}", f"{payload} #{i}", payload if i % 3 == 0 else "Support", True,
               payload if i % 4 == 0 else "Staff", 2, f"h{i}{payload}"[:60],
               f"twitter:{1000 + i}", 500 + i,
               [(payload, url), (f"before {payload} after", XSS_URLS[(i + 1) % len(XSS_URLS)])],
               url=url, bio=payload)
    for k, h in enumerate(HIDDEN_PEOPLE):
        person(h["person_id"], h["name"], h["dept"], False, "CEO" if k == 0 else "Staff",
               0 if k == 0 else 2, h["handle"], h["account"], 999999 - k,
               [(h["post"], f"https://example.org/{h['handle']}")])
    _write_csv(folder / "people.csv", people)
    _write_csv(folder / "roles.csv", roles)
    _write_csv(folder / "accounts.csv", accounts)
    _write_csv(folder / "snapshots.csv", snaps)
    with (folder / "posts.jsonl").open("w", encoding="utf-8") as f:
        for p in posts:
            f.write(json.dumps({k: v for k, v in p.items() if v != ""}) + "\n")
    # the hidden CEO follows the visible CEO; the visible COO follows the CEO
    _write_csv(folder / "edges.csv", [
        {"src": "twitter:900001", "dst": "twitter:1", "kind": "follows", "weight": 1,
         "observed_at": "2009-01-01T00:00:00Z"},
        {"src": "mastodon:mastodon.example/1", "dst": "twitter:1", "kind": "follows",
         "weight": 1, "observed_at": "2009-01-01T00:00:00Z"},
    ])
    return folder
