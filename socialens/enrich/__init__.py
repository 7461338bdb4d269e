"""Enrichment: per-post features computed as pure functions over Arrow record batches.

One module per concept: :mod:`~socialens.enrich.tone` (VADER), :mod:`~socialens.enrich.markers`
(the 8 function-word categories of linguistic coordination), :mod:`~socialens.enrich.sharing`
(personal vs professional), :mod:`~socialens.enrich.entities` (hashtags, mentions, URLs, domains,
media), :mod:`~socialens.enrich.language` (offline language identification) and
:mod:`~socialens.enrich.runner` (the incremental batch runner that writes ``post_features``).
Methods, thresholds and validation are in ``docs/methods.md`` (section *Enrichment*).

>>> import socialens, tempfile, os
>>> ws = socialens.open(os.path.join(tempfile.mkdtemp(), "w.duckdb"))
>>> socialens.enrich.enrich(ws).as_dict()["enriched"]
0
>>> ws.close()
"""

from __future__ import annotations

from socialens.enrich.runner import (
    FEATURE_VERSION,
    EnrichResult,
    enrich,
    enrich_batch,
    feature_version,
)

__all__ = ["FEATURE_VERSION", "EnrichResult", "enrich", "enrich_batch", "feature_version"]
