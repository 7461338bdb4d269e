"""Helpers shared by the evaluations: where the real data is, metrics, output conventions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["data_dir", "require", "prf", "confusion", "pearson", "emit", "DataMissing"]

REPO = Path(__file__).resolve().parent.parent


class DataMissing(RuntimeError):
    """The shared data folder is not there (set SOCIALENS_SHARED_DATA)."""


def data_dir() -> Path:
    """``$SOCIALENS_SHARED_DATA`` or ``../shared/data`` beside the checkout."""
    env = os.environ.get("SOCIALENS_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def require(*parts: str) -> Path:
    p = data_dir().joinpath(*parts)
    if not p.exists():
        raise DataMissing(f"{p} not found; set SOCIALENS_SHARED_DATA to the shared data folder")
    return p


def confusion(y_true, y_pred, labels) -> np.ndarray:
    idx = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        m[idx[t], idx[p]] += 1
    return m


def prf(y_true, y_pred, labels) -> dict:
    """Per-class precision, recall, F1 and support, macro-F1 and accuracy."""
    m = confusion(y_true, y_pred, labels)
    out = {}
    f1s = []
    for i, lab in enumerate(labels):
        tp = m[i, i]
        p = tp / m[:, i].sum() if m[:, i].sum() else 0.0
        r = tp / m[i, :].sum() if m[i, :].sum() else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        f1s.append(f)
        out[lab] = {"precision": round(float(p), 4), "recall": round(float(r), 4),
                    "f1": round(float(f), 4), "support": int(m[i, :].sum())}
    out["macro_f1"] = round(float(np.mean(f1s)), 4)
    out["accuracy"] = round(float(np.trace(m) / m.sum()), 4)
    return out


def pearson(x, y) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])


def emit(metrics: dict) -> None:
    """Print the metrics as one JSON object on the last line of stdout."""
    sys.stdout.write(json.dumps(metrics, sort_keys=True) + "\n")


def run_jobs(job, jobs: list, *, workers: int = 1, rows_out: Path | None = None,
             budget_s: float | None = None, t0: float | None = None) -> list[dict]:
    """Run ``job`` over ``jobs`` (in order; ``workers`` spawned processes when > 1), each row
    appended to ``rows_out`` (JSON Lines, replaced first) as it comes; no new job is started after
    ``budget_s`` seconds from ``t0``. The calibrations order ``jobs`` seed-major, so a run stopped
    by its budget still covers every preset of the seeds it did."""
    import time

    t0 = time.perf_counter() if t0 is None else t0
    rows: list[dict] = []
    if rows_out is not None and Path(rows_out).exists():
        Path(rows_out).unlink()

    def over() -> bool:
        return budget_s is not None and time.perf_counter() - t0 > budget_s

    def keep(row) -> None:
        rows.append(row)
        if rows_out is not None:
            with open(rows_out, "a", encoding="utf-8") as fh:  # rows may differ in columns
                fh.write(json.dumps(row, default=float) + "\n")

    if workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers) as pool:
            for row in pool.imap(job, jobs):
                keep(row)
                if over():
                    pool.terminate()
                    break
    else:
        for j in jobs:
            if over():
                break
            keep(job(j))
    return rows


def read_rows(paths) -> list[dict]:
    """The per-seed rows of earlier runs (JSON Lines files, as ``run_jobs(rows_out=...)`` writes
    them), the last row of each ``(seed, preset)`` kept."""
    last: dict = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    last.pop((row.get("seed"), row.get("preset")), None)
                    last[(row.get("seed"), row.get("preset"))] = row
    return list(last.values())


def complete_seeds(rows: list[dict], n_presets: int):
    """``(rows as a DataFrame without failed seeds and without seeds that lack a preset, number
    of failed rows)``."""
    import pandas as pd

    df = pd.DataFrame(rows)
    errors = int(df["error"].notna().sum()) if "error" in df else 0
    if "error" in df:
        df = df[df["error"].isna()]
    if len(df):
        both = df.groupby("seed").preset.nunique()
        df = df[df.seed.isin(both.index[both == n_presets])]
    return df, errors
