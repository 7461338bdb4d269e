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


def test_run_jobs_and_complete_seeds(tmp_path):
    """The calibrations' seed runner: rows appended as they come, a budget stops new jobs, failed
    rows are counted and seeds missing a preset are dropped."""
    from eval.common import complete_seeds, run_jobs

    def job(j):
        seed, preset = j
        return {"seed": seed, "preset": preset,
                "error": "boom" if (seed, preset) == (2, "b") else None}

    jobs = [(s, p) for s in range(4) for p in ("a", "b")]
    out = tmp_path / "rows.jsonl"
    out.write_text("stale\n")
    rows = run_jobs(job, jobs, rows_out=out)
    assert len(rows) == 8 and len(out.read_text().splitlines()) == 8
    df, errors = complete_seeds(rows, 2)
    assert errors == 1 and sorted(df.seed.unique()) == [0, 1, 3]
    assert run_jobs(job, jobs, budget_s=-1) == []


def test_read_rows_keeps_the_last_row_of_each_seed_and_preset(tmp_path):
    import json

    from eval.common import read_rows

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("\n".join(json.dumps(r) for r in [
        {"seed": 1, "preset": "null", "x": 1}, {"seed": 2, "preset": "null", "x": 2}]) + "\n\n")
    b.write_text(json.dumps({"seed": 1, "preset": "null", "x": 3}) + "\n"
                 + json.dumps({"seed": 1, "preset": "ceo", "x": 4}) + "\n")
    assert read_rows([a, b]) == [{"seed": 2, "preset": "null", "x": 2},
                                 {"seed": 1, "preset": "null", "x": 3},
                                 {"seed": 1, "preset": "ceo", "x": 4}]
