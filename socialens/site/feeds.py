"""Subscription files for the directory: Atom feeds, OPML, Bluesky list / starter-pack records and
a Mastodon list import CSV.

Every file is generated from a :class:`~socialens.site.model.Directory`, so it only contains the
people the directory lists. XML is written with :mod:`xml.etree.ElementTree` (which escapes ``<``,
``&`` and quotes) after removing the characters XML 1.0 forbids; links are ``http(s)`` only.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote

from socialens.privacy import is_pseudonym
from socialens.site.model import Directory
from socialens.site.security import safe_url, slug, xml_text

__all__ = [
    "atom_feed",
    "opml",
    "bluesky_records",
    "mastodon_csv",
    "department_feeds",
    "subscription_files",
    "STARTER_PACK_MAX",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Bluesky's limit of people in one starter pack.
STARTER_PACK_MAX = 150
_MASTODON_ADDRESS = re.compile(r"^[A-Za-z0-9_.]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text=None, **attrs) -> ET.Element:
    e = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        e.text = xml_text(text)
    return e


def _join(base: str | None, rel: str) -> str:
    return (base.rstrip("/") + "/" + rel) if base else rel


def atom_feed(d: Directory, posts: list[dict], *, name: str, title: str,
              base_url: str | None = None, self_path: str | None = None) -> bytes:
    """An Atom 1.0 feed of ``posts`` (newest first).

    Entries carry the author's name and handle, the post text as ``type="text"`` content and a
    link to the post when it has an http(s) URL.
    """
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    a = f"{{{ATOM_NS}}}"
    _sub(feed, a + "title", title)
    _sub(feed, a + "id", f"urn:socialens:feed:{quote(name, safe='')}")
    updated = max((p["created_at"] for p in posts if p.get("created_at")), default=None)
    _sub(feed, a + "updated", _atom_time(updated) if updated else _now())
    _sub(feed, a + "generator", "SociaLens")
    if self_path:
        _sub(feed, a + "link", rel="self", href=_join(base_url, self_path))
    if base_url and safe_url(base_url):
        _sub(feed, a + "link", rel="alternate", type="text/html", href=_join(base_url, "index.html"))
    for p in posts:
        who = d.by_id.get(p["person_id"])
        e = _sub(feed, a + "entry")
        _sub(e, a + "id", f"urn:socialens:post:{quote(p['post_id'], safe=':')}")
        author = _sub(e, a + "author")
        _sub(author, a + "name", (who or {}).get("name") or p.get("handle") or "unknown")
        if who:
            _sub(author, a + "uri", _join(base_url, f"people/{who['slug']}.html")
                 if base_url else None)
        text = p.get("text") or ""
        head = " ".join(text.split())
        _sub(e, a + "title", (head[:80] + "…") if len(head) > 80 else (head or p["kind"]),
             type="text")
        ts = _atom_time(p.get("created_at")) or _now()
        _sub(e, a + "updated", ts)
        _sub(e, a + "published", ts)
        if p.get("url"):
            _sub(e, a + "link", rel="alternate", href=p["url"])
        _sub(e, a + "content", text, type="text")
        _sub(e, a + "category", term=p.get("platform") or "unknown")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _atom_time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _posts_of(d: Directory, people: list[dict], n: int = 100) -> list[dict]:
    posts = [x for p in people for x in d.recent_posts.get(p["person_id"], [])]
    posts.sort(key=lambda x: (x.get("created_at") or "", x["post_id"]), reverse=True)
    return posts[:n]


def department_feeds(d: Directory) -> list[tuple[str, str]]:
    """``(department, file stem)`` of each department's feed, e.g. ``("Sales", "department-Sales-…")``."""
    return [(dept, "department-" + slug(dept)) for dept in d.departments]


def native_feed_url(account: dict) -> str | None:
    """The account's own feed, where the platform offers one (Bluesky, Mastodon, blogs)."""
    platform, handle = account.get("platform"), (account.get("handle") or "").lstrip("@")
    native = account["account_id"].split(":", 1)[1] if ":" in account["account_id"] else ""
    if is_pseudonym(handle):  # --pseudonymize: a pseudonym has no feed of its own
        return None
    if platform == "bluesky" and (handle or native):
        return safe_url(f"https://bsky.app/profile/{quote(handle or native, safe=':.')}/rss")
    if platform == "mastodon" and handle:
        user, _, host = handle.partition("@")
        host = host or native.split("/", 1)[0]
        return safe_url(f"https://{host}/@{quote(user, safe='')}.rss") if host else None
    if platform in ("rss", "atom", "blog", "feed"):
        return safe_url(account.get("url"))
    return None


def opml(d: Directory, *, base_url: str | None = None) -> bytes:
    """OPML 2.0 with one outline per account, grouped by department. ``xmlUrl`` is the account's
    own feed where the platform has one, else the site's Atom feed of the person."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    _sub(head, "title", d.title)
    _sub(head, "dateCreated", datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"))
    body = ET.SubElement(root, "body")
    groups: dict[str, list[dict]] = {}
    for p in d.people:
        groups.setdefault(p["department"] or "(no department)", []).append(p)
    for dept in sorted(groups):
        g = _sub(body, "outline", text=dept, title=dept)
        for p in groups[dept]:
            for acc in d.accounts.get(p["person_id"], []):
                label = f"{p['name']} (@{acc['handle'] or acc['account_id']}, {acc['platform']})"
                _sub(g, "outline", type="rss", text=label, title=label,
                     xmlUrl=native_feed_url(acc) or _join(base_url, f"feeds/people/{p['slug']}.atom"),
                     htmlUrl=acc.get("url"))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _graphemes(s: str, n: int) -> str:
    s = " ".join((s or "").split())
    return s if len(s) <= n else s[: n - 1] + "…"


def bluesky_records(d: Directory, *, name: str | None = None,
                    max_per_pack: int = STARTER_PACK_MAX) -> dict:
    """Records to create a Bluesky list and starter pack(s) of everyone listed with a Bluesky
    account (a DID), at most ``max_per_pack`` per pack (split into numbered packs when larger).

    The records use the AT Protocol lexicons ``app.bsky.graph.list`` (a reference list),
    ``app.bsky.graph.listitem`` and ``app.bsky.graph.starterpack``. The creator's repository is
    not known here: URIs contain the placeholder ``{repo}``; replace it with your DID, then create
    the records with ``com.atproto.repo.createRecord`` (or ``applyWrites``) using the given
    ``rkey``s.
    """
    name = name or d.title
    created = _now()
    dids = []
    skipped = 0
    for p in d.people:
        for acc in d.accounts.get(p["person_id"], []):
            if acc["platform"] != "bluesky":
                continue
            native = acc["account_id"].split(":", 1)[1]
            if re.fullmatch(r"did:(plc|web):[A-Za-z0-9._:%-]{1,200}", native):
                dids.append((native, p))
            else:
                skipped += 1
    packs = [dids[i:i + max_per_pack] for i in range(0, len(dids), max_per_pack)] or []
    out = {"repo_placeholder": "{repo}", "max_per_pack": max_per_pack,
           "n_accounts": len(dids), "n_skipped_without_did": skipped, "packs": []}
    for k, members in enumerate(packs, start=1):
        suffix = f" ({k}/{len(packs)})" if len(packs) > 1 else ""
        list_rkey, pack_rkey = f"socialens-list-{k}", f"socialens-pack-{k}"
        list_uri = f"at://{{repo}}/app.bsky.graph.list/{list_rkey}"
        out["packs"].append({
            "list": {"collection": "app.bsky.graph.list", "rkey": list_rkey, "record": {
                "$type": "app.bsky.graph.list",
                "purpose": "app.bsky.graph.defs#referencelist",
                "name": _graphemes(name, 64 - len(suffix)) + suffix,
                "description": _graphemes(f"{len(members)} people from {name}", 300),
                "createdAt": created}},
            "listitems": [{"collection": "app.bsky.graph.listitem", "record": {
                "$type": "app.bsky.graph.listitem", "subject": did, "list": list_uri,
                "createdAt": created}} for did, _ in members],
            "starterpack": {"collection": "app.bsky.graph.starterpack", "rkey": pack_rkey,
                            "record": {
                                "$type": "app.bsky.graph.starterpack",
                                "name": _graphemes(name, 50 - len(suffix)) + suffix,
                                "list": list_uri, "createdAt": created}},
        })
    return out


def _csv_cell(s: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    s = " ".join(str(s).split())
    return "'" + s if s[:1] in ("=", "+", "-", "@") else s


def mastodon_address(account: dict) -> str | None:
    """``user@host`` of a Mastodon account, or None when it cannot be formed safely."""
    handle = (account.get("handle") or "").lstrip("@")
    native = account["account_id"].split(":", 1)[1] if ":" in account["account_id"] else ""
    if "@" not in handle:
        host = native.split("/", 1)[0]
        handle = f"{handle}@{host}" if handle and host else ""
    return handle if _MASTODON_ADDRESS.match(handle) else None


def mastodon_csv(d: Directory, *, name: str | None = None) -> str:
    """Mastodon's list import format (Preferences › Import and export › Import, type *Lists*):
    rows ``list name,account address`` without header. One list with everyone, one with the
    leaders."""
    name = _csv_cell(_graphemes(name or d.title, 60))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for list_name, people in ((name, d.people), (f"{name} — leaders", d.leaders)):
        for p in people:
            for acc in d.accounts.get(p["person_id"], []):
                if acc["platform"] == "mastodon" and (addr := mastodon_address(acc)):
                    w.writerow([list_name, addr])
    return buf.getvalue()


def subscription_files(d: Directory, *, base_url: str | None = None) -> dict[str, bytes]:
    """Every subscription file of the site: ``{relative path: content}``."""
    files: dict[str, bytes] = {
        "feeds/all.atom": atom_feed(d, d.feed, name="all", title=f"{d.title}: everyone",
                                    base_url=base_url, self_path="feeds/all.atom"),
        "feeds/leaders.atom": atom_feed(d, _posts_of(d, d.leaders), name="leaders",
                                        title=f"{d.title}: leaders", base_url=base_url,
                                        self_path="feeds/leaders.atom"),
    }
    for dept, stem in department_feeds(d):
        people = [p for p in d.people if p["department"] == dept]
        files[f"feeds/{stem}.atom"] = atom_feed(
            d, _posts_of(d, people), name=stem, title=f"{d.title}: {dept}", base_url=base_url,
            self_path=f"feeds/{stem}.atom")
    for p in d.people:
        path = f"feeds/people/{p['slug']}.atom"
        files[path] = atom_feed(d, d.recent_posts.get(p["person_id"], []), name=p["slug"],
                                title=p["name"], base_url=base_url, self_path=path)
    files["subscriptions.opml"] = opml(d, base_url=base_url)
    files["exports/bluesky-starter-packs.json"] = (
        json.dumps(bluesky_records(d), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files["exports/mastodon-lists.csv"] = mastodon_csv(d).encode("utf-8")
    return files
