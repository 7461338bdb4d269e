"""Language identification: offline, flags confident non-English, defaults short posts to English."""

import csv
import gzip
from pathlib import Path

from socialens.enrich import language
from socialens.enrich.language import _classify_many, detect_languages, identifier, normalize_tag


def test_spanish_is_flagged_english_is_not():
    r = detect_languages([
        "El eliminar a #Cuba de la lista de estados patrocinadores del terrorismo seria otro gran paso",
        "Glad to join my colleagues for a hearing on the highway bill this morning.",
    ])
    assert r["lang"] == ["es", "en"]
    assert r["is_english"] == [False, True]
    assert r["lang_confidence"][0] > 0.5


def test_short_or_empty_posts_count_as_english():
    r = detect_languages(["lol", "", None, "🎉🎉🎉 http://t.co/x @someone"])
    assert r["is_english"] == [True] * 4
    assert r["lang"] == [None] * 4


def test_source_tag_wins():
    r = detect_languages(["Gracias a todos los emprendedores y las empresas pequeñas"], ["en-US"])
    assert r["lang"] == ["en"] and r["is_english"] == [True] and r["lang_confidence"] == [None]
    assert normalize_tag("und") is None


def test_pidgin_label_counts_as_english():
    # py3langid calls many short informal English tweets Nigerian Pidgin (pcm)
    r = detect_languages(["Come ON, Electoral College, fix this on December 19th - go rogue!"])
    assert r["is_english"] == [True]


def test_batched_identifier_is_bit_identical_to_py3langid(monkeypatch):
    path = Path(__file__).parent / "data" / "convokit_excerpt.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    texts += ["", "🎉🎉🎉", "ÉTÉ À PARIS", "a", "Grüße aus München! " * 400, "x\ud800y"]
    monkeypatch.setattr(language, "_CHUNK_BYTES", 3000)  # several chunks, one text per chunk
    ident = identifier()
    assert _classify_many(texts) == [ident.classify(t) for t in texts]


def test_stacked_products_are_bit_identical_to_py3langid(monkeypatch):
    # small gathers: every group of texts with the same number of features split into pieces
    path = Path(__file__).parent / "data" / "convokit_excerpt.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    monkeypatch.setattr(language, "_GATHER_BYTES", 20000)
    ident = identifier()
    assert _classify_many(texts) == [ident.classify(t) for t in texts]
