"""Escaping and URL allow-listing for everything the site and the web app show.

All names, bios, handles and post texts are untrusted. HTML is escaped by Jinja2's autoescape;
these helpers cover the other contexts: links (only ``http``/``https``), JSON embedded in a page
(``<script type="application/json">``), XML (Atom, OPML) and file names derived from ids.

>>> safe_url("javascript:alert(1)") is None
True
>>> safe_url(" https://example.org/a b ")
'https://example.org/a%20b'
>>> json_for_script({"t": "</script><b>&"})
'{"t":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
>>> slug("../../etc/passwd")
'etc-passwd-...'
>>> parse_host("127.0.0.1:80@evil.example") is None
True
>>> parse_host("[0:0::1]:8000")
('[::1]', 8000)
>>> strip_query_param("q=ann&token=s3cret&limit=5", "token")
'q=ann&limit=5'
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

__all__ = ["safe_url", "json_for_script", "xml_text", "slug", "parse_host", "strip_query_param",
           "LINK_REL", "CSP"]

#: ``rel`` of every link that leaves the site.
LINK_REL = "noopener nofollow noreferrer"

#: Content-Security-Policy of every page: scripts and styles only from the site's own files, no
#: inline script, no plugins, no framing, no form posts. Data for the page is read from a
#: ``<script type="application/json">`` block, which is not executed.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

_SAFE_SCHEMES = {"http", "https"}
# characters that may not appear in XML 1.0 documents (and C1 controls, which feed readers reject)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def safe_url(value: Any) -> str | None:
    """``value`` as an absolute ``http(s)`` URL with unsafe characters percent-encoded, or None.

    ``javascript:``, ``data:``, ``vbscript:``, relative and protocol-relative URLs, URLs with
    credentials, control characters or no host all give None.
    """
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s or len(s) > 2048 or any(ord(c) < 32 or c == "\x7f" for c in s):
        return None
    try:
        parts = urlsplit(s)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname or "@" in parts.netloc:
        return None
    if not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d{1,5})?", parts.netloc):
        return None
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="=&%:@!$'()*+,;/?-._~")
    frag = quote(parts.fragment, safe="=&%:@!$'()*+,;/?-._~")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, frag))


def json_for_script(data: Any) -> str:
    """JSON text that is safe inside ``<script type="application/json">``: ``<``, ``>``, ``&``
    and U+2028/U+2029 are written as ``\\uXXXX`` escapes, so nothing in the data can close the
    element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str,
                      allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def xml_text(value: Any) -> str:
    """``value`` as a string with the characters XML 1.0 forbids removed (escaping of ``<``,
    ``&`` and quotes is left to the XML serializer)."""
    if value is None:
        return ""
    return _XML_BAD.sub("", str(value))


def slug(identifier: Any) -> str:
    """A file-name-safe, collision-free name for an id: ``[A-Za-z0-9_-]`` only, never ``.`` or
    ``/``, plus a short hash of the original so that different ids never share a file."""
    s = str(identifier)
    base = re.sub(r"[^A-Za-z0-9_]+", "-", s).strip("-")[:60] or "x"
    return f"{base}-{hashlib.sha1(s.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?:(?P<name>{_LABEL}(?:\.{_LABEL})*)|\[(?P<v6>[0-9A-Fa-f:.]{{2,45}})\])"
                   r"(?::(?P<port>[0-9]{1,5}))?")


def parse_host(value: Any) -> tuple[str, int | None] | None:
    """The host and port of an HTTP ``Host`` header, or None when it is anything else.

    Accepted: a host name or IPv4 address (letters, digits, ``-``, ``_`` in dot-separated labels),
    or an IPv6 literal in brackets, then optionally ``:port`` (1-65535). Everything else — user
    info (``a@b``), paths, spaces, an unbracketed IPv6 address, a zone id, an empty value — gives
    None. The host is returned in lower case; an IPv6 literal in brackets and compressed
    (``[0:0::1]`` → ``[::1]``), so that equal addresses compare equal.
    """
    if not isinstance(value, str) or len(value) > 300:
        return None
    m = _HOST.fullmatch(value)
    if m is None:
        return None
    port = None
    if m["port"] is not None:
        port = int(m["port"])
        if not 1 <= port <= 65535:
            return None
    if m["v6"] is not None:
        try:
            return f"[{ipaddress.IPv6Address(m['v6']).compressed}]", port
        except ValueError:
            return None
    return m["name"].lower(), port


def strip_query_param(query: str, name: str) -> str:
    """``query`` (a URL query string) without any parameter called ``name`` (compared as
    :func:`urllib.parse.parse_qs` decodes names, ignoring case), the other parameters as given."""
    kept = [part for part in query.split("&")
            if part and unquote_plus(part.split("=", 1)[0]).lower() != name.lower()]
    return "&".join(kept)
