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


def ingest_one_way(module, tmp, paths, bulk: bool, **ingest_kw) -> tuple[dict, list[dict]]:
    """Ingest ``paths`` into a fresh workspace under ``tmp`` with ``module.ENABLED = bulk`` (the
    set-based path or the per-record reference), the setting restored after; its tables and the
    file reports (run ids left out)."""
    import shutil

    import socialens

    default, module.ENABLED = module.ENABLED, bulk
    try:
        folder = tmp / ("bulk" if bulk else "ref")
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        with socialens.open(folder / "ws.duckdb") as ws:
            reports = []
            for p in paths:
                res = ws.ingest(p, **ingest_kw)
                reports += [{**f.as_dict(), "run_id": None} for f in res.files]
            return tables(ws), reports
    finally:
        module.ENABLED = default
