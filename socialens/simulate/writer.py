"""Streaming writer: canonical interchange files (``docs/data_format.md``) and ground-truth Parquet.

Files are written chunk by chunk (CSV and JSON Lines appended, Parquet row groups), so memory stays
bounded by the chunk size. Output is deterministic: the same data give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["CanonicalWriter", "iso_times", "TRUTH_DIR"]

TRUTH_DIR = "sim_truth"


def iso_times(base: np.datetime64, sec: np.ndarray) -> np.ndarray:
    """ISO 8601 UTC strings (``2008-01-01T00:00:00Z``) for seconds after ``base``; -1 → None."""
    sec = np.asarray(sec, dtype=np.int64)
    s = np.datetime_as_string(base + sec.astype("timedelta64[s]"), unit="s").astype(object) + "Z"
    s[sec < 0] = None
    return s


class CanonicalWriter:
    """Writes one canonical folder plus ``sim_truth/*.parquet``.

    Parameters
    ----------
    folder : Path
        Created if missing; canonical files in it are overwritten.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / TRUTH_DIR).mkdir(exist_ok=True)
        self._csv_started: set[str] = set()
        self._posts = None
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        """Append rows to ``name.csv`` (the header is written with the first chunk)."""
        path = self.folder / f"{name}.csv"
        first = name not in self._csv_started
        frame.to_csv(path, mode="w" if first else "a", header=first, index=False,
                     lineterminator="\n")
        self._csv_started.add(name)
        self.rows[name] = self.rows.get(name, 0) + len(frame)

    def posts(self, frame: pd.DataFrame) -> None:
        """Append posts to ``posts.jsonl`` (null fields omitted)."""
        if self._posts is None:
            self._posts = open(self.folder / "posts.jsonl", "w", encoding="utf-8", newline="\n")
        if len(frame):
            text = frame.to_json(orient="records", lines=True, force_ascii=False)
            text = text.replace(',"reply_to_post_id":null,"reply_to_account_id":null', "")
            self._posts.write(text if text.endswith("\n") else text + "\n")
        self.rows["posts"] = self.rows.get("posts", 0) + len(frame)

    def truth(self, name: str, table: pa.Table) -> None:
        """Append a chunk to ``sim_truth/<name>.parquet``."""
        w = self._parquet.get(name)
        if w is None:
            w = pq.ParquetWriter(self.folder / TRUTH_DIR / f"{name}.parquet", table.schema,
                                 compression="zstd")
            self._parquet[name] = w
        w.write_table(table)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def close(self) -> None:
        if self._posts is not None:
            self._posts.close()
            self._posts = None
        for w in self._parquet.values():
            w.close()
        self._parquet.clear()
