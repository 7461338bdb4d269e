"""The Spark engine: the same analyses over a lake (:mod:`socialens.lake`) with Apache Spark.

``socialens.open(lake, engine="spark")`` (or ``--engine spark`` on ``analyze``) returns a
:class:`SparkWorkspace`: a read-only handle whose :meth:`~SparkWorkspace.table` gives the ibis
PySpark table of each lake table, cast back to the workspace's own types (times in UTC, JSON).
The analyses in :mod:`socialens.analyses` take it in place of a DuckDB
:class:`~socialens.workspace.Workspace` — they only ever ask for ibis tables — so the set-based
work (joins, windows, aggregates) runs in Spark and the statistics run on the collected
aggregates, unchanged.

PySpark is an extra (``pip install 'socialens[spark]'``); Java 17 must be on the machine. The
session is local (``local[2]``, bound to 127.0.0.1, UTC) unless one is passed in, e.g. from
``spark-submit`` on a cluster (docs/scale.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from socialens.errors import SocialensError
from socialens.lake import MANIFEST, LakeError, read_manifest, type_names, write_manifest

__all__ = ["SparkWorkspace", "spark_session", "SparkError"]


class SparkError(SocialensError, RuntimeError):
    """The Spark engine cannot run (PySpark or Java missing, or the session fails)."""


def spark_session(master: str = "local[2]", **conf: str):
    """A Spark session for SociaLens: UTC, no UI, few shuffle partitions, the driver's Python
    for the workers, bound to 127.0.0.1 (``SPARK_LOCAL_IP``) unless set otherwise. An active
    session is reused (its configuration is left as it is)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkError("the Spark engine needs PySpark: pip install 'socialens[spark]' "
                         "(and Java 17)") from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (SparkSession.builder.master(master).appName("socialens")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"])
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"))
    for k, v in conf.items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Py4J/JVM start-up errors have no common base
        raise SparkError(f"Spark did not start ({type(exc).__name__}: {exc}); is Java 17 "
                         "installed (java -version)?") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _no_lake(uri: str) -> str:
    return (f"no lake at {uri} (no {MANIFEST}); write one with "
            "`socialens export --out DIR --parquet-lake`")


def _uri(lake: str | os.PathLike) -> str:
    s = os.fspath(lake)
    return s if "://" in s else str(Path(s).resolve())


class SparkWorkspace:
    """A lake read by Spark, with the part of the :class:`~socialens.workspace.Workspace`
    interface the analyses use: :meth:`table`, :meth:`table_names`, :meth:`count`,
    :meth:`counts`, ``path``, ``read_only`` (always true) and ``close``.

    Parameters
    ----------
    lake : str or Path
        The lake folder: a local path or any URI Spark's Hadoop file systems read
        (``hdfs://``, ``s3a://``, ``abfss://`` ...).
    spark : SparkSession, optional
        The session to use (default :func:`spark_session`).
    """

    read_only = True
    engine = "spark"

    def __init__(self, lake: str | os.PathLike, *, spark=None):
        self.uri = _uri(lake)
        self.path = Path(self.uri) if "://" not in self.uri else Path(self.uri.split("/")[-1])
        if "://" not in self.uri and not (Path(self.uri) / MANIFEST).is_file():
            raise LakeError(_no_lake(self.uri))  # said before a JVM starts
        self.spark = spark or spark_session()
        import ibis

        try:
            text = "\n".join(r.value for r in self.spark.read.text(
                f"{self.uri}/{MANIFEST}", wholetext=True).collect())
        except Exception as exc:  # noqa: BLE001 - AnalysisException when the path is missing
            raise LakeError(_no_lake(self.uri)) from exc
        self.manifest = read_manifest(text, self.uri)
        self.con = None  # no DuckDB connection: code that needs one fails loudly
        self._ibis = ibis.pyspark.connect(self.spark)
        self._prefix = f"socialens_{abs(hash((self.uri, id(self)))):x}_"
        self._views: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<SparkWorkspace {self.uri!r}>"

    def __enter__(self) -> SparkWorkspace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Drop this handle's temporary views (the session stays, for reuse)."""
        for name in list(self._views):
            self.spark.catalog.dropTempView(self._prefix + name)
        self._views.clear()

    @property
    def migrations(self) -> list[str]:
        return list(self.manifest.get("migrations") or [])

    @property
    def consent(self) -> dict | None:
        """The privacy boundary the lake was written under (see :mod:`socialens.lake`)."""
        return self.manifest.get("consent")

    def table_names(self) -> list[str]:
        return sorted(self.manifest["tables"])

    def _check_table(self, name: str) -> None:
        if name not in self.manifest["tables"]:
            raise SocialensError(f"no table {name!r} in the lake {self.uri}; it has "
                                 f"{', '.join(self.table_names())}")

    def table(self, name: str):
        """The ibis PySpark table ``name``, its columns cast to the workspace's types."""
        self._check_table(name)
        if name not in self._views:
            import ibis

            entry = self.manifest["tables"][name]
            view = self._prefix + name
            self.spark.read.parquet(f"{self.uri}/{entry['file']}").createOrReplaceTempView(view)
            t = self._ibis.table(view)
            want = {c: ibis.dtype(s) for c, s in entry["schema"].items()}
            casts = {c: t[c].cast(want[c]) for c in t.columns
                     if c in want and (want[c].is_timestamp() or want[c].is_json())
                     and not t[c].type().equals(want[c])}
            self._views[name] = t.mutate(**casts) if casts else t
        return self._views[name]

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def counts(self) -> dict[str, int]:
        return {n: self.count(n) for n in self.table_names()}


def _manifest_entry(df, file: str, schema: dict[str, str]) -> dict:
    """The manifest entry of a table Spark wrote (``df`` read back from ``file``), with the
    workspace's types by column (``schema``)."""
    return {"file": file, "rows": int(df.count()),
            "schema": {f.name: schema[f.name] for f in df.schema.fields}}


def enrich_lake(lake: SparkWorkspace, *, markers_mode: str = "default",
                sharing_method: str = "model", batch_size: int = 5000) -> dict:
    """Compute ``post_features`` (and ``post_entities``) for the lake's posts that have none at
    the current feature version, with :func:`socialens.enrich.runner.enrich_batch` — the same
    pure Arrow-batch function the DuckDB runner calls — run by Spark's ``mapInArrow`` on the
    executors, and write both tables back into the lake (new files, then the manifest).

    Rows of other feature versions are kept, an entity already stored is not added twice
    (``post_id, kind, value`` is the key), as in :func:`socialens.enrich.enrich`. The features
    are those of the lake's texts: a lake written with people pseudonymized has their names
    rewritten in the texts, so for features identical to the workspace's, enrich the workspace
    before writing the lake. Returns ``{"enriched": n, "entities_added": m, "feature_version": v}``.
    """
    import json
    import uuid
    from datetime import UTC, datetime

    import pyarrow as pa
    from pyspark.sql import functions as F

    from socialens.enrich.runner import ENTITY_SCHEMA, FEATURE_SCHEMA, enrich_batch, feature_version

    spark, uri = lake.spark, lake.uri
    version = feature_version(markers_mode)
    tables = lake.manifest["tables"]

    def read(name):
        return spark.read.parquet(f"{uri}/{tables[name]['file']}") if name in tables else None

    posts, feats, ents = read("posts"), read("post_features"), read("post_entities")
    todo = posts.select("post_id", "text", "lang")
    if feats is not None:
        done = feats.filter(F.col("feature_version") == version).select("post_id")
        todo = todo.join(done, "post_id", "left_anti")
    if ents is not None:
        known = (ents.filter(F.col("kind").isin("url", "mention")).groupBy("post_id").agg(
            F.collect_list(F.when(F.col("kind") == "url", F.col("value"))).alias("known_urls"),
            F.collect_list(F.when(F.col("kind") == "mention", F.col("value")))
            .alias("known_mentions")))
        todo = todo.join(known, "post_id", "left")
    accounts = read("accounts").filter(F.col("handle").isNotNull()).select(
        "account_id", "platform", "handle").collect()
    handles = {(r.platform, r.handle.lower()): r.account_id for r in accounts}
    computed_at = datetime.now(UTC)
    kwargs = {"markers_mode": markers_mode, "sharing_method": sharing_method,
              "handles": handles, "computed_at": computed_at}
    entity_struct = pa.struct([("kind", pa.string()), ("value", pa.string())])
    out_schema = pa.schema([*FEATURE_SCHEMA, ("entities", pa.list_(entity_struct))])

    def compute(batches):
        for batch in batches:
            for start in range(0, batch.num_rows, batch_size):
                part = batch.slice(start, batch_size)
                if not part.num_rows:
                    continue
                f, e = enrich_batch(part, **kwargs)
                per: dict[str, list] = {}
                for pid, kind, value in zip(*(e.column(c).to_pylist() for c in
                                              ENTITY_SCHEMA.names), strict=True):
                    per.setdefault(pid, []).append({"kind": kind, "value": value})
                lists = pa.array([per.get(p, []) for p in f.column("post_id").to_pylist()],
                                 type=pa.list_(entity_struct))
                yield pa.RecordBatch.from_arrays([*f.columns, lists], schema=out_schema)

    from pyspark.sql.pandas.types import from_arrow_schema

    tag = uuid.uuid4().hex[:8]
    staging = f"{uri}/.enrich-{tag}.parquet"
    todo.mapInArrow(compute, from_arrow_schema(out_schema)).write.parquet(staging)
    new = spark.read.parquet(staging)
    n_new = int(new.count())
    new_feats = new.drop("entities")
    new_ents = (new.select("post_id", F.explode("entities").alias("e"))
                .select("post_id", F.col("e.kind").alias("kind"), F.col("e.value").alias("value"),
                        F.lit(f"enrich:{version}").alias("run_id")))
    all_feats = new_feats if feats is None else feats.unionByName(new_feats)
    if ents is None:
        all_ents, n_before = new_ents.dropDuplicates(["post_id", "kind", "value"]), 0
    else:
        n_before = int(ents.count())
        added = new_ents.join(ents.select("post_id", "kind", "value"),
                              ["post_id", "kind", "value"], "left_anti")
        all_ents = ents.unionByName(added.dropDuplicates(["post_id", "kind", "value"]))
    files = {"post_features": f"post_features.{tag}.parquet",
             "post_entities": f"post_entities.{tag}.parquet"}
    all_feats.write.parquet(f"{uri}/{files['post_features']}")
    all_ents.write.parquet(f"{uri}/{files['post_entities']}")
    manifest = json.loads(json.dumps(lake.manifest))
    import ibis

    arrow = {"post_features": FEATURE_SCHEMA,
             "post_entities": pa.schema([*ENTITY_SCHEMA, ("run_id", pa.string())])}
    for name, file in files.items():
        types = type_names(ibis.Schema.from_pyarrow(arrow[name]))
        types.update(manifest["tables"].get(name, {}).get("schema") or {})  # the workspace's
        manifest["tables"][name] = _manifest_entry(spark.read.parquet(f"{uri}/{file}"), file,
                                                   types)
    n_added = manifest["tables"]["post_entities"]["rows"] - n_before
    _write_manifest(spark, uri, manifest)
    old_files = [tables[n]["file"] for n in files if n in tables]
    _remove(spark, uri, [staging.rsplit("/", 1)[1], *old_files])
    lake.manifest = manifest
    lake.close()  # the views pointed at the old files
    return {"enriched": n_new, "entities_added": n_added, "feature_version": version}


def _hadoop_path(spark, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def _write_manifest(spark, uri: str, manifest: dict) -> None:
    """The manifest written to a temporary name and renamed over the old one (any Hadoop file
    system; local folders too)."""
    import json

    if "://" not in uri:  # a local folder: no Hadoop checksum files beside it
        write_manifest(uri, manifest)
        return
    text = json.dumps(manifest, indent=2) + "\n"
    tmp, fs = _hadoop_path(spark, f"{uri}/.{MANIFEST}.tmp")
    stream = fs.create(tmp, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    final, _ = _hadoop_path(spark, f"{uri}/{MANIFEST}")
    fs.delete(final, False)
    if not fs.rename(tmp, final):
        raise LakeError(f"could not write {uri}/{MANIFEST}")


def _remove(spark, uri: str, names: list[str]) -> None:
    for name in names:
        path, fs = _hadoop_path(spark, f"{uri}/{name}")
        fs.delete(path, True)
