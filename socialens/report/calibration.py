"""How far each first-page answer has been validated on simulated organizations.

Every primary method of the report's first page (:mod:`socialens.report.answer`) was calibrated,
or not yet, through the product (simulate → ingest → enrich → analyze, compared with the planted
values; ``eval/``, EVALUATION.md). :data:`EVIDENCE` holds the measured figures of each — the
number of simulated organizations, the coverage of the interval the first page prints and the
false-positive rate of its test under a true null — and :func:`status` turns them into the badge
the page shows by one declared rule, so that no badge says more than its figures:

* no calibration through simulation → ``not calibrated``;
* fewer than :data:`MIN_SEEDS` organizations in any of its settings → ``preliminary``;
* coverage below the target or false positives above it → ``below target``;
* coverage above the target or false positives below it → ``conservative``;
* otherwise ``calibrated``.

The targets are those of the project (coverage of a 95 % interval 92–98 %, rejection of a true
null at α = 0.05 in 2–8 % of organizations). ``tests/report/test_calibration.py`` checks that
every figure here is the one in its EVALUATION.md section, so an evaluation that is re-run with
other results fails the tests until this table follows it.

>>> status(Evidence("x", seeds=200, coverage=0.95, null_rejection=0.05))
'calibrated'
>>> status(Evidence("x", seeds=87, coverage=0.885, null_rejection=0.055))
'preliminary'
>>> status(Evidence("x", seeds=200, coverage=0.885, null_rejection=0.055))
'below target'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Evidence", "EVIDENCE", "CALIBRATION", "status", "note", "MIN_SEEDS",
           "COVERAGE_TARGET", "NULL_TARGET"]

#: organizations per setting before a calibration counts as settled
MIN_SEEDS = 200
#: coverage of a 95 % interval, and rejection of a true null at 0.05, that count as on target
COVERAGE_TARGET = (0.92, 0.98)
NULL_TARGET = (0.02, 0.08)


@dataclass(frozen=True)
class Evidence:
    """The measured calibration of one first-page method.

    ``section`` is the EVALUATION.md section (its title) where the figures are; ``seeds`` the
    smallest number of organizations of the settings quoted; ``coverage`` the coverage of the
    printed interval (the lowest over the settings quoted; None when the first page prints no
    interval or it was not measured), ``coverage_of`` what was covered; ``null_rejection`` the
    false-positive rate of the test under a true null (the highest over the settings).
    """

    section: str | None
    seeds: int | None = None
    coverage: float | None = None
    null_rejection: float | None = None
    coverage_of: str = "the planted value"
    null_of: str = "under the true null"
    remark: str = ""


def status(e: Evidence) -> str:
    """The badge that the figures of ``e`` support (the rule of the module docstring)."""
    if e.section is None or e.seeds is None or (e.coverage is None and e.null_rejection is None):
        return "not calibrated"
    if e.seeds < MIN_SEEDS:
        return "preliminary"
    lo, hi = COVERAGE_TARGET
    nlo, nhi = NULL_TARGET
    if (e.coverage is not None and e.coverage < lo) or (
            e.null_rejection is not None and e.null_rejection > nhi):
        return "below target"
    if (e.coverage is not None and e.coverage > hi) or (
            e.null_rejection is not None and e.null_rejection < nlo):
        return "conservative"
    return "calibrated"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def note(e: Evidence) -> str:
    """The figures of ``e`` in words (the badge's tooltip and ``summary.json``)."""
    if status(e) == "not calibrated":
        return e.remark or "not calibrated through simulated organizations"
    parts = []
    if e.coverage is not None:
        parts.append(f"the 95 % interval covered {e.coverage_of} in {_pct(e.coverage)}")
    if e.null_rejection is not None:
        parts.append(f"false 'yes' {_pct(e.null_rejection)} {e.null_of}")
    text = "; ".join(parts) + f" ({e.seeds} simulated organizations"
    text += ")" if e.seeds >= MIN_SEEDS else f", not the {MIN_SEEDS} a settled figure needs)"
    if e.remark:
        text += f"; {e.remark}"
    return text + f" (EVALUATION.md, {e.section.split(':')[0]})"


_FOUNDING = ("Founding answers: coverage and false-positive rates on simulated organizations "
             "(directory and adoption)")

#: question -> its measured calibration (figures copied from EVALUATION.md; checked by the tests)
EVIDENCE: dict[str, Evidence] = {
    "first": Evidence(_FOUNDING, seeds=200, null_rejection=0.075,
                      null_of="under the true null (median adoption rank, highest of 3, 5 and 9 "
                              "leaders)"),
    "most_followed": Evidence(_FOUNDING, seeds=200, null_rejection=0.055,
                              null_of="under the true null (median follower rank, highest of "
                                      "3, 5 and 9 leaders)"),
    "most_active": Evidence("Activity: the leaders-vs-others rate ratio (calibration)", seeds=200,
                            coverage=0.940, null_rejection=0.055,
                            coverage_of="the planted rate ratio (lowest of 3, 5 and 9 leaders)"),
    "tone": Evidence("Tone alignment calibration: leaders' pull on members' tone on a topic",
                     seeds=200, coverage=0.960, null_rejection=0.035,
                     coverage_of="the planted leader coefficient α_L",
                     null_of="for leader − peer under the null"),
    "sharing": Evidence("Personal-sharing shift calibration: members' personal share after "
                        "leaders' vs peers' first personal posts", seeds=393, coverage=0.964,
                        null_rejection=0.025,
                        coverage_of="the planted leader − peer shift (score scale)",
                        remark="the classifier halves true changes"),
    "hashtags": Evidence(None, remark="exact test against a random first user, but description, "
                         "not an influence test: not calibrated through simulation as evidence "
                         "that members follow (the influence tests are: report "
                         "--influence-tests, EVALUATION.md, Influence tests)"),
    "delegation": Evidence("Model or delegate: delegation comparison calibration on simulated "
                           "organizations", seeds=200, coverage=0.955, null_rejection=0.015,
                           coverage_of=("the planted difference (the lowest over the default and CEO "
                                        "presets)"),
                           null_of="under the exact null (null_owner)"),
}

#: question -> ``{"status", "note"}`` as the first page and ``summary.json`` show it
CALIBRATION: dict[str, dict[str, str]] = {
    q: {"status": status(e), "note": note(e)} for q, e in EVIDENCE.items()}
