"""The incremental enrichment runner: posts -> ``post_features`` (+ ``post_entities``).

:func:`enrich_batch` is the pure per-batch function (an Arrow record batch of posts in, an Arrow
record batch of features and one of entities out). It has no connection and no state, so the same
function can run under Spark's ``mapInArrow`` or a pandas UDF. :func:`enrich` streams the posts of a
workspace that have no features at the current ``feature_version`` through it, batch by batch, and
writes each batch in its own transaction: memory stays bounded by ``batch_size``, an interrupted run
keeps what it finished, and running again only does what is left (a ``FEATURE_VERSION`` bump
recomputes everything; rows of older versions are kept).
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from socialens.enrich.entities import extract_entities
from socialens.enrich.language import detect_languages
from socialens.enrich.markers import MARKER_COLUMNS, MODES, marker_counts
from socialens.enrich.sharing import METHODS, classify_sharing
from socialens.enrich.tone import tone_scores
from socialens.enrich.views import read_texts
from socialens.errors import EnrichError

__all__ = [
    "FEATURE_VERSION",
    "FEATURE_SCHEMA",
    "ENTITY_SCHEMA",
    "EnrichResult",
    "feature_version",
    "enrich_batch",
    "enrich",
]

#: Bump when any feature's definition changes; enrichment then recomputes every post.
#: ``2``: the text layer (:mod:`socialens.text`): one tokenizer and apostrophe rule, twitter-text
#: mentions and hashtags, Twitter's short links end at their alphanumeric id.
#: ``3``: the sharing model is a character n-gram regression with a calibrated ``personal_score``
#: (:mod:`socialens.enrich.sharing`); every ``personal_score`` and some ``sharing_label`` change.
FEATURE_VERSION = "3"

FEATURE_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("feature_version", pa.string()),
        ("markers_mode", pa.string()),
        ("lang", pa.string()),
        ("lang_confidence", pa.float64()),
        ("is_english", pa.bool_()),
        ("tone_compound", pa.float64()),
        ("tone_pos", pa.float64()),
        ("tone_neu", pa.float64()),
        ("tone_neg", pa.float64()),
        ("tone_label", pa.string()),
        *[(col, pa.int32()) for col in MARKER_COLUMNS.values()],
        ("n_tokens", pa.int32()),
        ("personal_score", pa.float64()),
        ("sharing_label", pa.string()),
        ("has_media", pa.bool_()),
        ("computed_at", pa.timestamp("us", tz="UTC")),
    ]
)
ENTITY_SCHEMA = pa.schema([("post_id", pa.string()), ("kind", pa.string()), ("value", pa.string())])


def feature_version(markers_mode: str = "default") -> str:
    """The ``feature_version`` written for a markers mode: ``"2"`` or ``"2+convokit"``."""
    if markers_mode not in MODES:
        raise EnrichError(f"unknown markers mode {markers_mode!r}; use one of {', '.join(MODES)}")
    return FEATURE_VERSION if markers_mode == "default" else f"{FEATURE_VERSION}+{markers_mode}"


def _column(batch: pa.RecordBatch, name: str, default=None) -> list:
    if name in batch.schema.names:
        return batch.column(name).to_pylist()
    return [default] * batch.num_rows


def enrich_batch(
    batch: pa.RecordBatch,
    *,
    markers_mode: str = "default",
    sharing_method: str = "model",
    handles: Mapping[tuple[str, str], str] | None = None,
    computed_at: datetime | None = None,
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """Features and entities of a batch of posts (a pure function).

    Parameters
    ----------
    batch : pyarrow.RecordBatch
        Columns ``post_id`` and ``text``; optional ``lang`` (the source's tag), ``known_urls`` and
        ``known_mentions`` (lists of the entities already stored).
    markers_mode : {"default", "convokit"}
    sharing_method : {"model", "baseline"}
    handles : mapping, optional
        ``{(platform, handle_lower): account_id}`` to resolve mentions.
    computed_at : datetime, optional
        Time stamp of the run (default: now, UTC).

    Returns
    -------
    (features, entities) : tuple of pyarrow.RecordBatch
        ``features`` has :data:`FEATURE_SCHEMA`, one row per input row in input order;
        ``entities`` has :data:`ENTITY_SCHEMA`.

    Examples
    --------
    >>> b = pa.RecordBatch.from_pydict({"post_id": ["twitter:1"], "text": ["Go #Ducks! :)"]})
    >>> f, e = enrich_batch(b)
    >>> f.column("tone_label").to_pylist(), e.column("value").to_pylist()
    (['positive'], ['ducks'])
    """
    version = feature_version(markers_mode)
    if sharing_method not in METHODS:
        raise EnrichError(f"unknown sharing method {sharing_method!r}; use one of {METHODS}")
    computed_at = computed_at or datetime.now(UTC)
    post_ids = _column(batch, "post_id")
    texts = _column(batch, "text")
    n = len(post_ids)
    platforms = [p.split(":", 1)[0] if p else "" for p in post_ids]

    # each text read once for every feature: its readable view (decoded, URLs removed), that view
    # with mentions and hashtags replaced (language identification, markers), with mentions as
    # @user (tone) and its URLs, hashtags and mentions (entities)
    tv = read_texts(texts, platforms)
    views = tv.readable
    lang = detect_languages(texts, _column(batch, "lang"), readable_texts=views,
                            stripped_texts=tv.stripped)
    english = lang["is_english"]
    if all(english):
        scored, scored_views, scored_prepared = texts, views, tv.neutral
    else:
        scored = [t if e else None for t, e in zip(texts, english, strict=True)]
        scored_views = [v if e else None for v, e in zip(views, english, strict=True)]
        scored_prepared = [v if e else None for v, e in zip(tv.neutral, english, strict=True)]
    tone = tone_scores(scored, prepared_texts=scored_prepared)
    sharing = classify_sharing(scored, sharing_method, readable_texts=scored_views)
    markers = marker_counts(texts, markers_mode, readable_texts=views, stripped_texts=tv.stripped)
    ents = extract_entities(
        texts, platforms=platforms, handles=handles,
        known_urls=_column(batch, "known_urls"), known_mentions=_column(batch, "known_mentions"),
        scans=(tv.urls, tv.hashtags, tv.mentions),
    )
    cols = {
        "post_id": post_ids,
        "feature_version": [version] * n,
        "markers_mode": [markers_mode] * n,
        **lang,
        **tone,
        **markers,
        **sharing,
        "has_media": ents.has_media,
        "computed_at": [computed_at] * n,
    }
    features = pa.RecordBatch.from_pydict(
        {f.name: cols[f.name] for f in FEATURE_SCHEMA}, schema=FEATURE_SCHEMA
    )
    rows = sorted((pid, k, v) for pid, es in zip(post_ids, ents.rows, strict=True) for k, v in es)
    entities = pa.RecordBatch.from_pydict(
        {
            "post_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        },
        schema=ENTITY_SCHEMA,
    )
    return features, entities


@dataclass
class EnrichResult:
    """What one :func:`enrich` call did."""

    feature_version: str
    markers_mode: str
    enriched: int = 0
    skipped_already_done: int = 0
    entities_added: int = 0
    non_english: int = 0
    by_tone_label: Counter = field(default_factory=Counter)
    by_sharing_label: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "feature_version": self.feature_version,
            "markers_mode": self.markers_mode,
            "enriched": self.enriched,
            "skipped_already_done": self.skipped_already_done,
            "entities_added": self.entities_added,
            "non_english": self.non_english,
            "by_tone_label": dict(sorted(self.by_tone_label.items())),
            "by_sharing_label": dict(sorted(self.by_sharing_label.items())),
        }


_TODO = """
    FROM posts p
    WHERE NOT EXISTS (SELECT 1 FROM post_features f
                      WHERE f.post_id = p.post_id AND f.feature_version = $version)
"""
_SELECT = """
    SELECT p.post_id, p.text, p.lang, e.known_urls, e.known_mentions, e.n_known
    FROM posts p
    LEFT JOIN (
        SELECT post_id,
               list(value) FILTER (WHERE kind = 'url') AS known_urls,
               list(value) FILTER (WHERE kind = 'mention') AS known_mentions,
               count(*) AS n_known
        FROM post_entities GROUP BY post_id
    ) e USING (post_id)
    WHERE NOT EXISTS (SELECT 1 FROM post_features f
                      WHERE f.post_id = p.post_id AND f.feature_version = $version)
"""
_FEATURE_COLS = ", ".join(f.name for f in FEATURE_SCHEMA)


def enrich(
    ws,
    *,
    batch_size: int = 5000,
    markers_mode: str = "default",
    sharing_method: str = "model",
    on_progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> EnrichResult:
    """Compute ``post_features`` for every post not yet enriched at the current version.

    Parameters
    ----------
    ws : Workspace
    batch_size : int
        Posts per Arrow batch and per transaction (memory is bounded by it).
    markers_mode : {"default", "convokit"}
        How style markers are read (see :mod:`socialens.enrich.markers`). The convokit mode is
        stored under its own ``feature_version`` (``"2+convokit"``), beside the default one.
    sharing_method : {"model", "baseline"}
        Personal/professional classifier (see :mod:`socialens.enrich.sharing`).
    on_progress : callable, optional
        ``on_progress(done, total)`` after each batch.
    workers : int
        Processes computing batches in parallel (0 = one per CPU). Features are pure functions of
        the text, so the result is identical whatever the number; batches are still written in
        order, one transaction each, by this process. Worker processes are *spawned*, so a script
        that calls this with ``workers != 1`` needs the usual ``if __name__ == "__main__":`` guard
        (the CLI and notebooks need nothing).

    Returns
    -------
    EnrichResult

    Examples
    --------
    >>> import socialens, tempfile, os
    >>> ws = socialens.open(os.path.join(tempfile.mkdtemp(), "w.duckdb"))
    >>> enrich(ws).enriched
    0
    >>> ws.close()
    """
    if ws.read_only:
        raise EnrichError(f"{ws.path} is open read-only; open it writable to enrich")
    if batch_size < 1:
        raise EnrichError(f"batch_size must be at least 1, not {batch_size}")
    if workers < 0:
        raise EnrichError(f"workers must be 0 (one per CPU) or more, not {workers}")
    workers = workers or os.cpu_count() or 1
    if sharing_method not in METHODS:
        raise EnrichError(
            f"unknown sharing method {sharing_method!r}; use one of {', '.join(METHODS)}"
        )
    version = feature_version(markers_mode)
    con = ws.con
    params = {"version": version}
    total_posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    todo = con.execute("SELECT count(*)" + _TODO, params).fetchone()[0]
    result = EnrichResult(version, markers_mode, skipped_already_done=total_posts - todo)
    if todo == 0:
        return result
    handles = {
        (platform, handle.lower()): account_id
        for account_id, platform, handle in con.execute(
            "SELECT account_id, platform, handle FROM accounts WHERE handle IS NOT NULL"
        ).fetchall()
    }
    run_tag = f"enrich:{version}"
    computed_at = datetime.now(UTC)
    reader_con = con.cursor()
    # whether each batch has a post with stored entities, in the order the batches are computed
    known: deque[bool] = deque()

    def batches() -> Iterator[pa.RecordBatch]:
        for b in reader:
            if b.num_rows:
                known.append(b.column("n_known").null_count < b.num_rows)
                yield b.drop_columns(["n_known"])

    try:
        reader = reader_con.execute(_SELECT, params).to_arrow_reader(batch_size)
        kwargs = {"markers_mode": markers_mode, "sharing_method": sharing_method,
                  "handles": handles, "computed_at": computed_at}
        for features, entities in _computed(batches(), kwargs, workers):
            # a batch whose posts have no stored entities is appended; otherwise the rows already
            # stored (from ingest, or from a run at another feature version) are skipped
            insert = "INSERT OR IGNORE INTO" if known.popleft() else "INSERT INTO"
            with ws.transaction() as tx:
                tx.register("_features_arrow", features)
                tx.register("_entities_arrow", entities)
                try:
                    tx.execute(
                        f"INSERT INTO post_features ({_FEATURE_COLS}) "
                        f"SELECT {_FEATURE_COLS} FROM _features_arrow"
                    )
                    added = tx.execute(
                        f"{insert} post_entities SELECT post_id, kind, value, ? "
                        "FROM _entities_arrow",
                        [run_tag],
                    ).fetchone()[0]  # the rows inserted (those ignored are not counted)
                finally:
                    tx.unregister("_features_arrow")
                    tx.unregister("_entities_arrow")
            result.enriched += features.num_rows
            result.entities_added += added
            result.non_english += features.num_rows - (
                pc.sum(features.column("is_english")).as_py() or 0)
            for name, counter in (("tone_label", result.by_tone_label),
                                  ("sharing_label", result.by_sharing_label)):
                for vc in pc.value_counts(features.column(name)).to_pylist():
                    if vc["values"] is not None:
                        counter[vc["values"]] += vc["counts"]
            if on_progress is not None:
                on_progress(result.enriched, todo)
    finally:
        reader_con.close()
    return result


def _computed(batches: Iterator[pa.RecordBatch], kwargs: dict, workers: int) -> Iterator:
    """``enrich_batch`` over ``batches``, in order; in a process pool when ``workers > 1``, with at
    most ``2 * workers`` batches in flight so memory stays bounded.

    Each worker receives ``kwargs`` (the ``handles`` dict included) once, from the pool's
    initializer, and loads the models there (language tables, sharing model, VADER lexicon) before
    its first batch; a batch then travels alone.
    """
    if workers <= 1:
        for batch in batches:
            yield enrich_batch(batch, **kwargs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the parent holds a DuckDB connection and its threads
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(kwargs, os.getpid())) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(_worker_batch, batch))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_WORKER_KWARGS: dict = {}


def load_models() -> None:
    """Load every model enrichment uses (once per process; later calls return at once)."""
    from socialens.enrich.language import _automaton
    from socialens.enrich.sharing import shipped_model
    from socialens.enrich.vader_fast import fast_vader

    _automaton()
    shipped_model()
    fast_vader()


def _init_worker(kwargs: dict, parent: int | None = None) -> None:
    """Pool initializer: keep the run's arguments and load the models, once per worker; and end
    the worker when ``parent`` (the enrich process) is gone."""
    if parent is not None:
        _exit_with_parent(parent)
    _WORKER_KWARGS.clear()
    _WORKER_KWARGS.update(kwargs)
    load_models()


def _exit_with_parent(parent: int, every: float = 0.2) -> None:
    """End this worker once its parent process has died. A pool's workers wait for batches
    forever when the parent is killed (``kill -9``: no executor shutdown, and the call queue's
    pipe stays open in the workers themselves), each holding its models (~450 MB); found by
    ``tests/test_kill_points.py``. A daemon thread polls the parent id (POSIX: an orphan's
    parent becomes another process)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="socialens-exit-with-parent", daemon=True).start()


def _worker_batch(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    return enrich_batch(batch, **_WORKER_KWARGS)
