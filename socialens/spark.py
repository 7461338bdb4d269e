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
from socialens.lake import MANIFEST, LakeError, read_manifest

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
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
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
