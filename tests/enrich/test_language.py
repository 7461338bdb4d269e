"""Language identification: offline, flags confident non-English, defaults short posts to English."""

from socialens.enrich.language import detect_languages, normalize_tag


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
