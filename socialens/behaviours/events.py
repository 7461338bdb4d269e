"""``first_use(person, behaviour, at)`` events, as one ibis expression over the workspace tables.

A **person** is the owner of personal accounts (``accounts.kind = 'personal'``, ``person_id``
set): posts of official and delegate accounts are not any person's behaviour. Only **record** posts
count (``posts.collected_as`` is not ``embedded``): an embedded copy of somebody else's post (the
original of a repost, a quoted post) says nothing about when its author started a behaviour,
since it was collected only because somebody else pointed at it. Reposts count as their reposter's
use of what the repost carries (their hashtags are the original's, as ingest stores them).

Everything here builds lazy ibis expressions (no SQL strings, no ASOF joins), so the same code runs
on DuckDB and on Spark. Only ``top-hashtags:N`` executes a small query: the list of the N tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from socialens.behaviours.spec import Behaviour, BehaviourError, TopHashtags, parse_specs

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from socialens.workspace import Workspace

__all__ = ["first_use", "person_accounts", "record_posts", "resolve_specs", "first_use_posts",
           "behaviour_posts"]


def person_accounts(ws: Workspace) -> ir.Table:
    """``account_id, person_id, created_at`` of every personal account of a person."""
    a = ws.table("accounts")
    a = a.filter(a.person_id.notnull(), a.kind == "personal")
    return a.select("account_id", "person_id", "created_at")


def record_posts(ws: Workspace) -> ir.Table:
    """Record posts of persons: ``post_id, person_id, created_at, text``."""
    p = ws.table("posts")
    p = p.filter(p.collected_as.isnull() | (p.collected_as != "embedded"))
    acc = person_accounts(ws).select("account_id", "person_id")
    j = p.join(acc, p.account_id == acc.account_id)
    return j.select(post_id=j.post_id, person_id=j.person_id, created_at=j.created_at,
                    text=j.text)


def _features(ws: Workspace, b: Behaviour) -> ir.Table:
    from socialens.enrich.runner import FEATURE_VERSION

    if "post_features" not in ws.table_names():  # pragma: no cover - every workspace has it
        raise BehaviourError(f"behaviour {b.name!r} needs post features; run `socialens enrich`")
    f = ws.table("post_features")
    f = f.filter(f.feature_version == FEATURE_VERSION)
    if f.count().execute() == 0:
        raise BehaviourError(
            f"behaviour {b.name!r} reads the enrichment features (tone, sharing label), and this "
            f"workspace has none of feature version {FEATURE_VERSION}; run `socialens enrich -w "
            "<workspace>` first")
    return f.mutate(f_post_id=f.post_id).drop("post_id", "feature_version")


def _hashtag_uses(ws: Workspace, tags: ir.Table | list[str]) -> ir.Table:
    """``person_id, behaviour, at, post_id`` for every use of the given hashtags."""
    import ibis

    rp = record_posts(ws)
    e = ws.table("post_entities")
    e = e.filter(e.kind == "hashtag")
    if isinstance(tags, list):
        e = e.filter(e.value.isin(tags))
    else:
        e = e.semi_join(tags, e.value == tags.tag)
    j = rp.join(e, rp.post_id == e.post_id)
    return j.select(person_id=j.person_id, behaviour=ibis.literal("hashtag:#") + j.value,
                    at=j.created_at, post_id=rp.post_id)


def _top_tags(ws: Workspace, n: int, window_start, window_end) -> ir.Table:
    """The ``n`` hashtags with the most persons using them for the first time in the window."""
    all_tags = ws.table("post_entities")
    all_tags = all_tags.filter(all_tags.kind == "hashtag").select(tag="value").distinct()
    uses = _first(_hashtag_uses(ws, all_tags), window_start, window_end)
    counts = uses.group_by("behaviour").aggregate(n=uses.person_id.nunique())
    top = counts.order_by([counts.n.desc(), counts.behaviour]).limit(n)
    return top.select(tag=top.behaviour.substr(len("hashtag:#")))


def _uses(ws: Workspace, b: Behaviour) -> ir.Table:
    """All ``person_id, behaviour, at, post_id`` events of one behaviour (not yet the first)."""
    import ibis

    name = ibis.literal(b.name)
    if b.kind == "hashtag":
        return _hashtag_uses(ws, [b.value])
    if b.kind == "platform":
        acc = person_accounts(ws)
        created = acc.filter(acc.created_at.notnull()).group_by("person_id").aggregate(
            at=acc.created_at.min())
        rp = record_posts(ws)
        first_post = rp.group_by("person_id").aggregate(at=rp.created_at.min())
        # a person with an account creation time is dated by it, else by their first record post
        no_created = first_post.anti_join(created, "person_id")
        null_post = ibis.null().cast("string")
        return created.select("person_id", behaviour=name, at="at", post_id=null_post).union(
            no_created.select("person_id", behaviour=name, at="at", post_id=null_post))
    rp = record_posts(ws)
    if b.kind == "topic":
        hit = rp.filter(rp.text.notnull() & rp.text.re_search(b.value))
        return hit.select("person_id", behaviour=name, at="created_at", post_id="post_id")
    f = _features(ws, b)
    j = rp.join(f, rp.post_id == f.f_post_id)
    if b.kind == "personal":
        j = j.filter(j.sharing_label.isin(list(b.labels)))
    elif b.kind == "tone":
        j = j.filter(j.tone_compound <= b.threshold if b.value == "negative"
                     else j.tone_compound >= b.threshold)
    else:
        try:
            j = j.filter(b.predicate)
        except Exception as exc:  # noqa: BLE001 - a user expression; say what went wrong
            raise BehaviourError(
                f"behaviour {b.name!r}: the predicate cannot be applied to posts joined with "
                f"their features ({type(exc).__name__}: {exc}); columns: "
                f"{', '.join(j.columns)}") from None
    return j.select("person_id", behaviour=name, at="created_at", post_id="post_id")


def _first(uses: ir.Table, window_start, window_end) -> ir.Table:
    """The earliest use per (person, behaviour), kept when it falls in ``[start, end)``."""
    import ibis

    w = ibis.window(group_by=[uses.person_id, uses.behaviour],
                    order_by=[uses.at, uses.post_id])
    first = uses.mutate(_rn=ibis.row_number().over(w)).filter(lambda t: t._rn == 0).drop("_rn")
    if window_start is not None:
        first = first.filter(first.at >= window_start)
    if window_end is not None:
        first = first.filter(first.at < window_end)
    return first


def resolve_specs(ws: Workspace, specs: Any, *, window_start=None, window_end=None
                  ) -> tuple[list[Behaviour], list[TopHashtags], Any]:
    """Parse ``specs``; returns ``(behaviours, selectors, top_tags)`` where ``top_tags`` is the
    ibis table of the tags ``top-hashtags:N`` selects (the largest N), or None."""
    from socialens.analyses.common import to_time

    parsed = parse_specs(specs)
    behaviours = [b for b in parsed if isinstance(b, Behaviour)]
    selectors = [b for b in parsed if isinstance(b, TopHashtags)]
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    top = _top_tags(ws, max(s.n for s in selectors), t0, t1) if selectors else None
    return behaviours, selectors, top


def _all_uses(ws: Workspace, behaviours, top) -> ir.Table:
    """Every use of the resolved behaviours (the top hashtags ``top`` included), distinct."""
    parts = []
    if top is not None:
        parts.append(_hashtag_uses(ws, top))
    explicit_tags = [b.value for b in behaviours if b.kind == "hashtag"]
    if explicit_tags:
        parts.append(_hashtag_uses(ws, explicit_tags))
    parts.extend(_uses(ws, b) for b in behaviours if b.kind != "hashtag")
    uses = parts[0]
    for p in parts[1:]:
        uses = uses.union(p, distinct=False)
    return uses.distinct()


def first_use_posts(ws: Workspace, specs: Any, *, window_start=None, window_end=None
                    ) -> ir.Table:
    """As :func:`first_use`, with the ``post_id`` of the first use (NULL for ``platform`` when
    dated by the account's creation)."""
    from socialens.analyses.common import to_time

    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    behaviours, _, top = resolve_specs(ws, specs, window_start=t0, window_end=t1)
    first = _first(_all_uses(ws, behaviours, top), t0, t1)
    return first.select(person_id=first.person_id.cast("string"),
                        behaviour=first.behaviour.cast("string"), at=first.at,
                        post_id=first.post_id)


def behaviour_posts(ws: Workspace, specs: Any, *, window_start=None, window_end=None
                    ) -> ir.Table:
    """Every record post that shows each behaviour, not only the first: ``person_id, behaviour,
    at, post_id`` (a lazy ibis table; ``at`` in ``[window_start, window_end)``).

    ``top-hashtags:N`` selects the tags by their first users in the window, as in
    :func:`first_use`. ``platform`` is not shown by posts and raises :class:`BehaviourError`.
    """
    from socialens.analyses.common import to_time

    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    behaviours, _, top = resolve_specs(ws, specs, window_start=t0, window_end=t1)
    if any(b.kind == "platform" for b in behaviours):
        raise BehaviourError("'platform' (joining) is not a behaviour posts show; give hashtags "
                             "or topics, e.g. hashtag:#Tag or 'topic:tax=tax cut,tax reform'")
    uses = _all_uses(ws, behaviours, top)
    if t0 is not None:
        uses = uses.filter(uses.at >= t0)
    if t1 is not None:
        uses = uses.filter(uses.at < t1)
    return uses.select(person_id=uses.person_id.cast("string"),
                       behaviour=uses.behaviour.cast("string"), at=uses.at,
                       post_id=uses.post_id)


def first_use(ws: Workspace, specs: str | Behaviour | Iterable[Any] | None, *,
              window_start=None, window_end=None) -> ir.Table:
    """The first time each person showed each behaviour: a lazy ibis table.

    Parameters
    ----------
    ws : Workspace
    specs : str, Behaviour, or a list of them
        Behaviour specs (``"hashtag:#ABetterDeal"``, ``"top-hashtags:50"``, ``"platform"``,
        ``"topic:tax=tax cut,tax reform"``, ``"personal"``, ``"tone:negative"``; see
        :mod:`socialens.behaviours.spec`) or :class:`Behaviour` objects; None means
        ``top-hashtags:20``.
    window_start, window_end : time, optional
        Keep first uses at ``window_start <= at < window_end``. The first use is computed over all
        the data: a person who showed the behaviour before ``window_start`` has no row (they did not
        *start* it in the window), so treat them as already adopted, not as non-adopters, when
        this matters. ``top-hashtags:N`` ranks tags by their first users in the window.

    Returns
    -------
    ibis table
        ``person_id: string, behaviour: string, at: timestamp`` — one row per person and behaviour
        they showed (``behaviour`` is the spec's name: ``hashtag:#abetterdeal``, ``platform``,
        ``topic:tax``, ``personal``, ``tone:negative``). Nothing is executed except, for
        ``top-hashtags:N``, the choice of the N tags is part of the expression.

    Raises
    ------
    BehaviourError
        A spec is not understood, or a feature behaviour is asked on a workspace without features.

    Examples
    --------
    >>> import socialens, tempfile, json
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "people.csv").write_text("person_id,name\\nann,Ann\\nbob,Bob\\n")
    >>> _ = (d / "accounts.csv").write_text("account_id,person_id\\nx:1,ann\\nx:2,bob\\n")
    >>> rows = [{"post_id": f"x:{i}", "account_id": a, "created_at": f"2020-01-0{i}T00:00:00Z",
    ...          "text": t} for i, (a, t) in enumerate([("x:1", "Go #Team"), ("x:2", "yes #team"),
    ...                                                 ("x:2", "#team again")], start=1)]
    >>> _ = (d / "posts.jsonl").write_text("\\n".join(map(json.dumps, rows)))
    >>> ws = socialens.open(d / "org.duckdb")
    >>> _ = ws.ingest(d)
    >>> first_use(ws, "hashtag:#TEAM").order_by("at").execute().values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['ann', 'hashtag:#team', Timestamp('2020-01-01 00:00:00+0000', tz='UTC')],
     ['bob', 'hashtag:#team', Timestamp('2020-01-02 00:00:00+0000', tz='UTC')]]
    >>> ws.close()
    """
    return first_use_posts(ws, specs, window_start=window_start,
                           window_end=window_end).drop("post_id")
