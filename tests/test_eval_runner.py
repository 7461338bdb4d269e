"""`make eval` (eval/__main__.py) rewrites the sections it ran and keeps every other section."""

from __future__ import annotations

import types

import eval.__main__ as runner

OLD = """# Evaluation

old preamble

## Tone

old tone numbers

## Hand-written calibration

| a | b |
|---|---|
| 1 | 2 |

## Sharing

old sharing
"""


def _module(title, value):
    return types.SimpleNamespace(TITLE=title, run=lambda: {"v": value},
                                 to_markdown=lambda r: f"new {r['v']}")


def test_sections_round_trip():
    pre, sections = runner._sections(OLD)
    assert pre == ["# Evaluation", "", "old preamble", ""]
    assert [t for t, _ in sections] == ["Tone", "Hand-written calibration", "Sharing"]
    assert sections[1][1].splitlines()[-1] == "| 1 | 2 |"


def test_run_replaces_its_section_and_keeps_the_rest(tmp_path, monkeypatch):
    (tmp_path / "EVALUATION.md").write_text(OLD)
    mods = [("sharing", _module("Sharing", 7)), ("reach", _module("Reach", 3))]
    monkeypatch.setattr(runner, "REPO", tmp_path)
    monkeypatch.setattr(runner, "modules", lambda: iter(mods))
    assert runner.main(["sharing"]) == 0
    text = (tmp_path / "EVALUATION.md").read_text()
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["## Tone", "## Hand-written calibration", "## Sharing"]
    assert "new 7" in text and "old sharing" not in text
    assert "old tone numbers" in text and "| 1 | 2 |" in text
    assert runner.main([]) == 0                      # all: Reach is appended at the end
    text = (tmp_path / "EVALUATION.md").read_text()
    assert text.rstrip().endswith("## Reach\n\n`python -m eval.reach` (0.0 s)\n\nnew 3")
    assert runner.main(["nope"]) == 2
