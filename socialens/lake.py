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

**Object storage.** ``out_dir`` may be a URI: ``s3://bucket/prefix`` (or Hadoop's ``s3a://``,
the scheme Spark reads, written here as ``s3://``), ``gs://``, ``hdfs://`` — any file system
``pyarrow.fs.FileSystem.from_uri`` knows. Each table is written by DuckDB to a local temporary
file and uploaded (one object per table), the manifest last; an old manifest is deleted before
the first upload, so that a reader never pairs it with new tables. Credentials and the endpoint
come from the environment (for S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_ENDPOINT_URL``, ``AWS_DEFAULT_REGION``, or the AWS configuration
files) and never reach the manifest, a log or an error message.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from socialens.errors import SocialensError
from socialens.privacy import current_consent, published
from socialens.workspace import Workspace

__all__ = ["LakeError", "MANIFEST", "write_lake", "read_manifest", "write_manifest", "type_names",
           "is_uri"]

MANIFEST = "socialens-lake.json"
FORMAT, VERSION = "socialens-lake", 1


class LakeError(SocialensError, ValueError):
    """A lake cannot be written or read."""


def is_uri(where: str | os.PathLike) -> bool:
    """Whether ``where`` names a lake on a remote file system (``scheme://…``, not ``file://``)."""
    s = os.fspath(where)
    return "://" in s and not s.startswith("file://")


@published
def write_lake(ws: Workspace, out_dir: str | Path, *, tables=None, include_all: bool = False,
               pseudonymize: bool = False, show_paths: bool = False,
               key_file: str | Path | None = None) -> dict:
    """Write every table of ``ws`` (or ``tables``) as ``out_dir/<table>.parquet`` and the
    manifest; returns the manifest. An existing lake in ``out_dir`` is replaced table by table,
    the manifest last; a folder that holds other files and no manifest is refused. ``out_dir``
    may be a local folder or an object-storage URI (``s3://bucket/prefix``; see the module
    docstring)."""
    names = list(tables) if tables else ws.table_names()
    unknown = sorted(set(names) - set(ws.table_names()))
    if unknown:
        raise LakeError(f"no table {', '.join(unknown)}; tables are {', '.join(ws.table_names())}")
    where = os.fspath(out_dir)
    if where.startswith("file://"):
        where = where[len("file://"):]
    target = _RemoteFolder(where) if is_uri(where) else _LocalFolder(where)
    target.prepare()
    entries = {}
    for name in names:
        file = f"{name}.parquet"
        target.put_table(ws, name, file)
        entries[name] = {"file": file, "rows": ws.count(name),
                         "schema": type_names(ws.table(name).schema())}
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
    target.put_manifest(manifest)
    return manifest


def _copy_table(ws: Workspace, name: str, path: Path) -> None:
    quoted = str(path).replace("'", "''")
    ws.con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{quoted}' (FORMAT parquet)")


class _LocalFolder:
    """A lake in a local folder: each file written under a temporary name and renamed."""

    def __init__(self, out_dir: str | Path):
        self.out = Path(out_dir)

    def prepare(self) -> None:
        out = self.out
        if out.exists() and not out.is_dir():
            raise LakeError(f"{out} exists and is not a folder; choose another --parquet-lake")
        if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
            raise LakeError(f"{out} is not empty and holds no lake ({MANIFEST}); choose an empty "
                            "or new folder, so that nothing else is overwritten")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeError(f"cannot create {out}: {exc.strerror or exc}") from exc
        old = out / MANIFEST
        if old.exists():  # a reader must never pair the old manifest with new files
            old.unlink()

    def put_table(self, ws: Workspace, name: str, file: str) -> None:
        target = self.out / file
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        _copy_table(ws, name, tmp)
        os.replace(tmp, target)

    def put_manifest(self, manifest: dict) -> None:
        write_manifest(self.out, manifest)


#: environment variables whose values must never appear in an error message
_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
            "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_KEY")


def _scrub(text: str) -> str:
    for var in _SECRETS:
        value = os.environ.get(var)
        if value and len(value) >= 4:
            text = text.replace(value, f"<{var}>")
    return text


class _RemoteFolder:
    """A lake under an object-storage prefix, written through ``pyarrow.fs``: objects are
    written whole (no rename), so the order — old manifest deleted, tables, manifest — is what
    keeps a reader from mixing generations."""

    def __init__(self, uri: str):
        self.uri = uri.rstrip("/")
        scheme, rest = self.uri.split("://", 1)
        arrow_uri = f"s3://{rest}" if scheme in ("s3a", "s3n") else self.uri
        from pyarrow import fs

        try:
            self.fs, self.root = fs.FileSystem.from_uri(arrow_uri)
        except (OSError, ValueError, TypeError) as exc:
            raise LakeError(f"cannot write a lake to {self.uri}: {_scrub(str(exc))}; give a "
                            "local folder or a URI such as s3://bucket/prefix") from exc
        self.root = self.root.rstrip("/")

    def _fail(self, what: str, exc: Exception) -> LakeError:
        hint = ("; check the credentials and endpoint in the environment (AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_DEFAULT_REGION) and that the "
                "bucket exists") if self.fs.type_name == "s3" else ""
        return LakeError(f"cannot {what} {self.uri}: {_scrub(str(exc))}{hint}")

    def prepare(self) -> None:
        from pyarrow import fs

        try:
            infos = self.fs.get_file_info(fs.FileSelector(self.root, allow_not_found=True,
                                                          recursive=False))
        except OSError as exc:
            raise self._fail("list", exc) from exc
        names = {Path(i.path).name for i in infos}
        if names and MANIFEST not in names:
            raise LakeError(f"{self.uri} is not empty and holds no lake ({MANIFEST}); choose an "
                            "empty or new prefix, so that nothing else is overwritten")
        if MANIFEST in names:  # a reader must never pair the old manifest with new files
            try:
                self.fs.delete_file(f"{self.root}/{MANIFEST}")
            except OSError as exc:
                raise self._fail("replace the lake at", exc) from exc

    def put_table(self, ws: Workspace, name: str, file: str) -> None:
        from pyarrow import fs

        with tempfile.TemporaryDirectory(prefix="socialens-lake-") as d:
            local = Path(d) / file
            _copy_table(ws, name, local)
            try:
                fs.copy_files(str(local), f"{self.root}/{file}", destination_filesystem=self.fs)
            except OSError as exc:
                raise self._fail(f"write {file} to", exc) from exc

    def put_manifest(self, manifest: dict) -> None:
        try:
            with self.fs.open_output_stream(f"{self.root}/{MANIFEST}") as out:
                out.write((json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            raise self._fail(f"write {MANIFEST} to", exc) from exc


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
