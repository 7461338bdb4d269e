"""A lake: the workspace's tables as one Parquet file each in a folder, for other engines.

:func:`write_lake` writes it from a DuckDB workspace (``socialens export --parquet-lake DIR``)
through the privacy boundary, like every export: only public posts, and people who did not opt in
(with ``pseudonymize`` everyone) under their keyed pseudonyms. Beside the tables it writes
``socialens-lake.json``, the manifest, last — a folder without it is not a lake (yet):

``format``, ``version``
    ``"socialens-lake"``, ``1``.
``socialens``, ``written_at``, ``migrations``
    The writing version, time (UTC) and the workspace's applied schema migrations.
``consent``
    The privacy boundary the tables were written under (``hide``, ``pseudonymize``,
    ``show_paths``); never the study key.
``tables``
    ``{name: {"file": "posts.parquet", "rows": n, "schema": {column: ibis type}}}``. The types
    are the workspace's own (e.g. ``timestamp('UTC', 6)``, ``json``): Parquet keeps the instants
    but not the time-zone or JSON annotations, so a reader casts back to them
    (:class:`socialens.spark.SparkWorkspace` does), and the same analyses then see the same
    types on every engine.

A lake is read-only for SociaLens: the analyses and the report read it; ingest and enrich write
the DuckDB workspace, which is then written out again.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from socialens.errors import SocialensError
from socialens.privacy import current_consent, published
from socialens.workspace import Workspace

__all__ = ["LakeError", "MANIFEST", "write_lake", "read_manifest", "write_manifest", "type_names"]

MANIFEST = "socialens-lake.json"
FORMAT, VERSION = "socialens-lake", 1


class LakeError(SocialensError, ValueError):
    """A lake cannot be written or read."""


@published
def write_lake(ws: Workspace, out_dir: str | Path, *, tables=None, include_all: bool = False,
               pseudonymize: bool = False, show_paths: bool = False,
               key_file: str | Path | None = None) -> dict:
    """Write every table of ``ws`` (or ``tables``) as ``out_dir/<table>.parquet`` and the
    manifest; returns the manifest. An existing lake in ``out_dir`` is replaced table by table,
    the manifest last; a folder that holds other files and no manifest is refused."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise LakeError(f"{out} exists and is not a folder; choose another --parquet-lake")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise LakeError(f"{out} is not empty and holds no lake ({MANIFEST}); choose an empty or "
                        "new folder, so that nothing else is overwritten")
    names = list(tables) if tables else ws.table_names()
    unknown = sorted(set(names) - set(ws.table_names()))
    if unknown:
        raise LakeError(f"no table {', '.join(unknown)}; tables are {', '.join(ws.table_names())}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LakeError(f"cannot create {out}: {exc.strerror or exc}") from exc
    old = out / MANIFEST
    if old.exists():  # a reader must never pair the old manifest with new files
        old.unlink()
    entries = {}
    for name in names:
        target = out / f"{name}.parquet"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        path = str(tmp).replace("'", "''")
        ws.con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{path}' (FORMAT parquet)")
        os.replace(tmp, target)
        schema = ws.table(name).schema()
        entries[name] = {"file": target.name, "rows": ws.count(name),
                         "schema": type_names(schema)}
    consent = current_consent(ws)
    from socialens import __version__

    manifest = {
        "format": FORMAT, "version": VERSION, "socialens": __version__,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "migrations": ws.migrations,
        "consent": None if consent is None else {
            "hide": consent.hide, "pseudonymize": consent.pseudonymize,
            "show_paths": consent.show_paths},
        "tables": entries,
    }
    write_manifest(out, manifest)
    return manifest


def type_names(schema) -> dict[str, str]:
    """``{column: ibis type name}`` of an ibis schema, as the manifest records them (nullability
    aside: ``timestamp('UTC', 6)``, ``json``, ``int32``)."""
    return {c: str(t).lstrip("!") for c, t in schema.items()}


def write_manifest(folder: str | Path, manifest: dict) -> None:
    """Write ``folder/socialens-lake.json`` atomically (a temporary name renamed over it), so a
    reader sees the old manifest or the new one, never half of one."""
    tmp = Path(folder) / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, Path(folder) / MANIFEST)


def read_manifest(text: str, where: str) -> dict:
    """The manifest from its JSON text; ``where`` (the lake's URI) names it in errors."""
    try:
        m = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LakeError(f"{where}/{MANIFEST} is not valid JSON (line {exc.lineno}); write the "
                        "lake again with `socialens export --parquet-lake`") from exc
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise LakeError(f"{where}/{MANIFEST} is not a SociaLens lake manifest")
    if m.get("version") != VERSION:
        raise LakeError(f"{where} is a version {m.get('version')} lake; this SociaLens reads "
                        f"version {VERSION}: write it again with `socialens export --parquet-lake`")
    return m
