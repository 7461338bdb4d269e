"""The first page's calibration badges follow from measured figures by one rule, and the figures
are the ones EVALUATION.md reports (a re-run evaluation with other results fails here until
``socialens/report/calibration.py`` follows it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialens.report.answer import QUESTIONS
from socialens.report.calibration import CALIBRATION, EVIDENCE, Evidence, note, status

EVALUATION = Path(__file__).resolve().parents[2] / "EVALUATION.md"


def _sections() -> dict[str, str]:
    text = EVALUATION.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    return {p.splitlines()[0].strip(): p for p in parts}


def _appears(x: float, text: str) -> bool:
    """``x`` (a rate) written as a percentage with one decimal (``88.5 %``, ``100 %``) or as a
    fraction with at least its three decimals (``0.8851``)."""
    pct = f"{100 * x:.1f}"
    forms = [rf"{re.escape(pct)}\s?%", rf"{re.escape(f'{x:.3f}')}\d*\b"]
    if pct.endswith(".0"):
        forms.append(rf"\b{re.escape(pct[:-2])}\s?%")
    return any(re.search(f, text) for f in forms)


def test_every_question_has_its_evidence():
    assert set(EVIDENCE) == set(QUESTIONS) == set(CALIBRATION)


@pytest.mark.parametrize("q", [q for q, e in EVIDENCE.items() if e.section])
def test_the_figures_are_the_ones_evaluation_md_reports(q):
    e = EVIDENCE[q]
    sections = _sections()
    assert e.section in sections, f"EVALUATION.md has no section {e.section!r}"
    body = sections[e.section]
    assert re.search(rf"\b{e.seeds}\b", body), f"{q}: {e.seeds} seeds not in its section"
    for x in (e.coverage, e.null_rejection):
        if x is not None:
            assert _appears(x, body), f"{q}: {x} not in its section"


def test_the_rule():
    ok = dict(section="s", seeds=200, coverage=0.95, null_rejection=0.05)
    assert status(Evidence(**ok)) == "calibrated"
    assert status(Evidence(**{**ok, "coverage": 0.92})) == "calibrated"  # the bounds are in
    assert status(Evidence(**{**ok, "null_rejection": 0.08})) == "calibrated"
    assert status(Evidence(**{**ok, "coverage": 0.915})) == "below target"
    assert status(Evidence(**{**ok, "null_rejection": 0.085})) == "below target"
    assert status(Evidence(**{**ok, "coverage": 0.99})) == "conservative"
    assert status(Evidence(**{**ok, "null_rejection": 0.01})) == "conservative"
    assert status(Evidence(**{**ok, "coverage": 0.80, "null_rejection": 0.01})) == "below target"
    assert status(Evidence(**{**ok, "seeds": 199})) == "preliminary"
    assert status(Evidence(**{**ok, "coverage": None})) == "calibrated"  # a test without interval
    assert status(Evidence(**{**ok, "coverage": None, "null_rejection": None})) == "not calibrated"
    assert status(Evidence(None, remark="why")) == "not calibrated"


def test_the_note_says_the_figures():
    e = Evidence("Tone: x", seeds=104, coverage=0.952, null_rejection=0.058,
                 coverage_of="α_L", null_of="under the null")
    assert note(e) == ("the 95 % interval covered α_L in 95.2 %; false 'yes' 5.8 % under the null "
                       "(104 simulated organizations, not the 200 a settled figure needs) "
                       "(EVALUATION.md, Tone)")
    assert note(Evidence(None, remark="description only")) == "description only"
    assert CALIBRATION == {q: {"status": status(e), "note": note(e)} for q, e in EVIDENCE.items()}
