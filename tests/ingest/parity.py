"""What the set-based ingest paths' parity tests compare: every table a run writes, as sorted
text rows (run ids and source paths left out), and the ingest runs."""

from __future__ import annotations

TABLES = ("people", "roles", "accounts", "account_snapshots", "posts", "post_entities", "edges",
          "quarantine")


def tables(ws) -> dict:
    out = {}
    for t in TABLES:
        df = ws.sql(f"SELECT * EXCLUDE (run_id) FROM {t}")
        if t == "quarantine":
            df = df.drop(columns=["source_path"])
        out[t] = sorted(df.astype(str).to_csv(index=False, header=False).splitlines())
    out["runs"] = ws.sql("""SELECT target, format, sha256, n_read, n_loaded, n_duplicate,
                                   n_quarantined, n_merged, finished_at IS NOT NULL
                            FROM ingest_runs ORDER BY target, sha256""").values.tolist()
    return out
