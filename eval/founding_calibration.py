"""Calibration of the founding answers on simulated organizations (``make eval``).

Through the product: ``socialens.simulate`` (which ingests into a workspace) → the analysis
functions → the reported intervals and p-values compared with the planted values. One JSON object
on the last line: ``n_seeds``, each interval's ``coverage``, each test's ``rejection_rate`` under
the true null and its ``power`` at a planted moderate effect.

This module is a thin runner. The work is in the calibration modules, each of which exposes

    run(seeds: int, leader_counts: tuple[int, ...], quick: bool) -> dict

returning ``{"coverage": {name: {str(n_leaders): share}}, "rejection_rate": {name: {...}},
"power": {name: {...}}, "settings": {...}, "seconds": float}`` (any key may be missing; names are
unique across modules, e.g. ``activity_rate_ratio_ci``). ``seeds`` is the number of simulated
organizations per setting (setting = null or planted × leader count), ``quick`` asks for small
organizations and no figures (the test version). Calibration modules define no ``to_markdown``, so
that ``python -m eval`` runs them only through this runner:

* ``eval.calibration_ranks`` — directory (most followed) and adoption (first): the leaders' median
  ranks, the Hodges–Lehmann intervals, the distribution-free interval of the leaders' median, the
  top-k tests and the Holm verdicts.
* ``eval.calibration_activity`` — activity (most active), when that module exists.

Seeds are fresh: each module's reported seeds start at its own ``SEED0`` (``SEED0`` here is
only a default for modules that have none), never used while the methods were written.
"""

from __future__ import annotations

import importlib
import json
import sys
import time

__all__ = ["run", "to_markdown", "TITLE", "MODULES", "SEED0", "merge"]

TITLE = "Founding answers: coverage and false-positive rates on simulated organizations"
#: the calibration modules merged into one result, in order
MODULES = ("eval.calibration_ranks", "eval.calibration_activity")
#: first seed of the reported runs
SEED0 = 100_000
TARGET_COVERAGE = (0.92, 0.98)
TARGET_REJECTION = (0.02, 0.08)


_WORLDS = {"null": "true null", "effect": "planted effect"}


def _flatten(block: dict) -> dict:
    """``{name: {world: {n: x}}}`` -> ``{"name (world)": {n: x}}``; ``{name: {n: x}}`` as is."""
    out = {}
    for name, by in block.items():
        if by and all(isinstance(v, dict) for v in by.values()):
            for world, inner in by.items():
                out[f"{name} ({_WORLDS.get(world, world)})"] = inner
        else:
            out[name] = by
    return out


def merge(parts: list[tuple[str, dict]]) -> dict:
    """Merge the calibration modules' dicts (``coverage``, ``rejection_rate``, ``power`` ...)."""
    out: dict = {"coverage": {}, "rejection_rate": {}, "power": {}, "settings": {},
                 "seconds": {}, "notes": {}}
    for name, part in parts:
        for key in ("coverage", "rejection_rate", "power"):
            out[key].update(_flatten(part.get(key, {})))
        out["notes"].update(part.get("notes", {}))
        out["settings"][name] = part.get("settings", {})
        out["seconds"][name] = part.get("seconds")
    return out


def run(seeds: int = 200, leader_counts: tuple[int, ...] = (3, 5, 9), quick: bool = False,
        modules: tuple[str, ...] = MODULES) -> dict:
    """Run every calibration module that exists (of ``modules``) and merge their results."""
    parts = []
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
            continue
        t0 = time.perf_counter()
        part = mod.run(seeds=seeds, leader_counts=tuple(leader_counts), quick=quick)
        part.setdefault("seconds", round(time.perf_counter() - t0, 1))
        parts.append((modname.rsplit(".", 1)[1], part))
    out = merge(parts)
    out["n_seeds"] = seeds
    out["leader_counts"] = list(leader_counts)
    out["targets"] = {"coverage": list(TARGET_COVERAGE), "rejection_rate": list(TARGET_REJECTION)}
    return out


def _fmt(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _table(block: dict, counts: list[str], target: tuple[float, float] | None) -> list[str]:
    rows = ["| | " + " | ".join(f"{c} leaders" for c in counts) + " |",
            "|---|" + "---:|" * len(counts)]
    for name, by_n in block.items():
        cells = []
        for c in counts:
            v = by_n.get(c)
            flag = ""
            if target and v is not None and not target[0] <= v <= target[1]:
                flag = " ⚠"
            cells.append(_fmt(v) + flag)
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return rows


def to_markdown(result: dict) -> str:
    counts = [str(c) for c in result["leader_counts"]]
    lines = [f"{result['n_seeds']} simulated organizations per setting and leader count "
             "(fresh seeds, listed in each module's settings note); every organization goes through `socialens.simulate` → "
             "ingest → `socialens.analyses`. Settings and planted values: "
             "`eval/calibration_*.py`; methods: docs/methods.md. ⚠ = outside the target.", ""]
    if result["coverage"]:
        lines += [f"**Coverage** of the reported intervals (target "
                  f"{_fmt(TARGET_COVERAGE[0])}–{_fmt(TARGET_COVERAGE[1])} for a 95 % interval; "
                  "an interval with another stated coverage is named so):", ""]
        lines += _table(result["coverage"], counts, TARGET_COVERAGE) + [""]
    if result["rejection_rate"]:
        lines += [f"**Rejection rate at p < 0.05 under the true null** (target "
                  f"{_fmt(TARGET_REJECTION[0])}–{_fmt(TARGET_REJECTION[1])}):", ""]
        lines += _table(result["rejection_rate"], counts, TARGET_REJECTION) + [""]
    if result["power"]:
        lines += ["**Power at the planted moderate effect** (rejection rate at p < 0.05):", ""]
        lines += _table(result["power"], counts, None) + [""]
    for name, text in result.get("notes", {}).items():
        lines.append(f"* `{name}`: {text}")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=TITLE)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--leaders", default="3,5,9")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--modules", default=",".join(m.rsplit(".", 1)[1] for m in MODULES),
                    help="calibration modules to run (default: all that exist)")
    a = ap.parse_args(argv)
    mods = tuple(f"eval.{m.strip()}" for m in a.modules.split(",") if m.strip())
    res = run(a.seeds, tuple(int(x) for x in a.leaders.split(",")), a.quick, mods)
    print(to_markdown(res), file=sys.stderr)
    print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
