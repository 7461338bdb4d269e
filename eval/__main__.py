"""Run every evaluation and rewrite its section of EVALUATION.md (``make eval``).

An evaluation is a module ``eval/<name>.py`` with ``TITLE``, ``run() -> dict`` (or
``evaluate() -> dict`` when the full evaluation is more than ``run()``'s defaults, e.g. a null and
a power run) and ``to_markdown(result) -> str``; each also runs alone as ``python -m
eval.<name>`` and prints its metrics as one JSON object on its last line.

``python -m eval [name ...]`` runs only the named evaluations. Sections of EVALUATION.md that no
evaluation run wrote (hand-written analyses of a calibration run, evaluations not selected) are
kept as they are, in their place; a run section replaces the section with its title, or is
appended.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from eval.common import REPO, DataMissing, data_dir


def modules():
    pkg = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(pkg)]), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        mod = importlib.import_module(f"eval.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "to_markdown"):
            yield info.name, mod


def _sections(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """EVALUATION.md as (preamble lines, [(title, section text)]) split at ``## `` headings."""
    pre: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            pre.append(line)
    return pre, [(t, "\n".join(lines).rstrip()) for t, lines in sections]


def main(argv: list[str] | None = None) -> int:
    only = set(sys.argv[1:] if argv is None else argv)
    known = {name for name, _ in modules()}
    if only - known:
        print(f"unknown evaluation {', '.join(sorted(only - known))}; known: "
              f"{', '.join(sorted(known))}", file=sys.stderr)
        return 2
    path = REPO / "EVALUATION.md"
    _, old = _sections(path.read_text(encoding="utf-8")) if path.exists() else ([], [])
    sections = dict(old)
    order = [t for t, _ in old]
    results = {}
    for name, mod in modules():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        try:
            r = (mod.evaluate if hasattr(mod, "evaluate") else mod.run)()
        except DataMissing as exc:
            body = f"## {mod.TITLE}\n\nSkipped: {exc}"
            if mod.TITLE not in sections:     # never replace measured numbers by a skip
                sections[mod.TITLE] = body
                order.append(mod.TITLE)
            continue
        results[name] = r
        dt = time.perf_counter() - t0
        sections[mod.TITLE] = "\n".join([f"## {mod.TITLE}", "", f"`python -m eval.{name}` "
                                          f"({dt:.1f} s)", "", mod.to_markdown(r).rstrip()])
        if mod.TITLE not in order:
            order.append(mod.TITLE)
        print(f"{name}: done in {dt:.1f} s", file=sys.stderr)
    head = [
        "# Evaluation",
        "",
        f"Sections are written by `make eval` (`python -m eval [name ...]`; last run "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}) from the real data in "
        f"`{os.path.relpath(data_dir(), REPO)}` and simulated organizations. Each section also "
        "runs alone as `python -m eval.<name>` (metrics as JSON on the last line); each says "
        "its command, seeds and date. Methods: docs/methods.md.",
    ]
    path.write_text("\n".join(head) + "\n\n" + "\n\n".join(sections[t] for t in order) + "\n",
                    encoding="utf-8")
    print(json.dumps(results, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
