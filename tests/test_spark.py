"""The Spark engine gives the same results as DuckDB: every analysis, on a simulated organization
read from a lake by Spark ``local[2]``, equals the DuckDB run on the workspace it was written
from (tables to float tolerance, summaries exactly or to 1e-9).

One Spark session is shared by the module (starting one takes seconds)."""

from __future__ import annotations

import functools
import math

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the Spark engine needs the extra: pip install '.[spark]'")

import socialens  # noqa: E402
from socialens.analyses import OPT_IN, REGISTRY  # noqa: E402
from socialens.errors import AnalysisError, SocialensError  # noqa: E402
from socialens.lake import LakeError, write_lake  # noqa: E402
from socialens.spark import SparkWorkspace, spark_session  # noqa: E402

#: Py4J leaves its gateway sockets to the garbage collector
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning")]


@pytest.fixture(scope="module")
def spark():
    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """A simulated organization, enriched, and its lake (written as an internal export)."""
    from socialens.enrich import enrich
    from socialens.simulate import simulate

    d = tmp_path_factory.mktemp("sim")
    simulate(60, seed=3, out=d / "org.duckdb")
    ws = socialens.open(d / "org.duckdb")
    enrich(ws)
    write_lake(ws, d / "lake", include_all=True)
    yield ws, d / "lake"
    ws.close()


@pytest.fixture(scope="module")
def lake(org, spark):
    with SparkWorkspace(org[1], spark=spark) as sw:
        yield sw


def _same(a, b, path: str) -> list[str]:
    """Where two summaries differ (floats to 1e-9, NaN equal to NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in _same(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        if (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _normal(df: pd.DataFrame) -> pd.DataFrame:
    """Times as UTC nanoseconds (Spark and DuckDB differ in resolution, not in instants) and
    missing values as NaN in numeric columns and None in others."""
    out = df.reset_index(drop=True).copy()
    for c in out.columns:
        if str(out[c].dtype).startswith("datetime64"):
            out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[ns, UTC]")
        elif out[c].dtype == object:
            values = out[c].dropna()
            if not len(values) or all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                   for v in values):
                out[c] = out[c].astype(float)  # numeric (or empty) with None for missing
            else:
                out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float)
                                                                   and math.isnan(v)) else v)
        elif out[c].dtype.kind in "iu":
            out[c] = out[c].astype(float)  # an integer column without NULLs on one side
    return out


def test_the_lake_reads_back_the_workspace_tables(org, lake):
    ws, _ = org
    assert lake.table_names() == sorted(ws.table_names())
    assert lake.counts() == {n: ws.count(n) for n in lake.table_names()}
    t = lake.table("posts")
    assert t.schema()["created_at"].is_timestamp() and t.schema()["created_at"].timezone == "UTC"
    assert lake.table("accounts").schema()["attrs"].is_json()
    first = t.order_by("post_id").limit(3).execute()
    want = ws.table("posts").order_by("post_id").limit(3).execute()
    pd.testing.assert_series_equal(_normal(first)["created_at"], _normal(want)["created_at"])
    assert lake.consent == {"hide": False, "pseudonymize": False, "show_paths": False}
    assert lake.con is None and lake.read_only


#: every analysis, the opt-in influence tests too (few permutations: the same seed on both)
ANALYSES = {**REGISTRY, "contagion_tests": functools.partial(OPT_IN["contagion_tests"],
                                                             n_permutations=19)}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_analysis_gives_the_same_result_on_spark(org, lake, name):
    ws, _ = org
    try:
        want = ANALYSES[name](ws)
    except AnalysisError as exc:  # then Spark must refuse it the same way
        with pytest.raises(AnalysisError) as got:
            ANALYSES[name](lake)
        assert str(got.value) == str(exc)
        return
    got = ANALYSES[name](lake)
    assert _same(want.summary, got.summary, "summary") == []
    assert _same(want.params, got.params, "params") == []
    assert got.headline == want.headline
    assert set(got.tables) == set(want.tables)
    for t in want.tables:
        pd.testing.assert_frame_equal(_normal(got.tables[t]), _normal(want.tables[t]),
                                      check_dtype=False, rtol=1e-9, atol=1e-12, obj=f"{name}.{t}")


def test_a_missing_lake_says_how_to_write_one(spark, tmp_path):
    with pytest.raises(LakeError, match="socialens export --out DIR --parquet-lake"):
        SparkWorkspace(tmp_path / "nowhere", spark=spark)


def test_an_unknown_table_is_named(lake):
    with pytest.raises(SocialensError, match="no table 'nope' in the lake"):
        lake.table("nope")


def test_the_cli_writes_a_lake_and_analyzes_it_with_spark(org, spark, tmp_path):
    """``export --parquet-lake`` then ``analyze --engine spark``: the same headline as DuckDB."""
    import json
    import shutil

    from typer.testing import CliRunner

    from socialens.cli import app

    ws, _ = org
    runner = CliRunner()
    ws.con.execute("CHECKPOINT")
    ws_path = str(tmp_path / "copy.duckdb")  # the CLI opens its own copy read-only
    shutil.copy(ws.path, ws_path)
    r = runner.invoke(app, ["export", "--out", str(tmp_path / "lake"), "--parquet-lake",
                            "-w", ws_path])
    assert r.exit_code == 0, r.output
    assert "lake" in r.output and "tables" in r.output
    manifest = json.loads((tmp_path / "lake" / "socialens-lake.json").read_text())
    assert manifest["consent"]["hide"] is True  # published output by default
    got = runner.invoke(app, ["analyze", "--engine", "spark", "--lake",
                              str(tmp_path / "lake"), "-a", "adoption",
                              "--json", str(tmp_path / "spark.json")])
    want = runner.invoke(app, ["analyze", "-w", ws_path, "-a", "adoption",
                               "--json", str(tmp_path / "duckdb.json")])
    assert got.exit_code == 0 and want.exit_code == 0, got.output + want.output
    assert "adoption:" in got.output
    assert json.loads((tmp_path / "spark.json").read_text()) == json.loads(
        (tmp_path / "duckdb.json").read_text())


@pytest.mark.parametrize("args, message", [
    (["analyze", "--engine", "spark"], "give --lake DIR"),
    (["analyze", "--lake", "x"], "add --engine spark"),
    (["analyze", "--engine", "flink", "--lake", "x"], "use duckdb or spark"),
    (["analyze", "--engine", "spark", "--lake", "/nonexistent/lake"], "no lake at"),
    (["report", "--out", "/tmp/never", "--engine", "spark"], "give --lake DIR"),
    (["report", "--out", "/tmp/never", "--engine", "spark", "--lake", "/nonexistent/lake"],
     "no lake at"),
])
def test_the_cli_says_what_the_spark_engine_needs(args, message):
    from typer.testing import CliRunner

    from socialens.cli import app

    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1 and message in r.output, r.output
    assert "Traceback" not in r.output


def test_the_report_renders_from_a_lake_as_from_the_workspace(org, lake, tmp_path):
    """The report's own reads (ingested files, counts, who is named) go through ibis too: the
    same summary.json and the same tables in report.html."""
    import json
    import re

    from socialens.analyses import run_all
    from socialens.report import write_report

    ws, _ = org
    names = ["adoption", "activity"]
    a = write_report(ws, tmp_path / "duckdb", results=run_all(ws, names), include_all=True)
    b = write_report(lake, tmp_path / "spark", results=run_all(lake, names), include_all=True)
    sa, sb = (json.loads(p["json"].read_text()) for p in (a, b))
    assert sb == sa
    assert sb["privacy"]["include_all"] is True

    def body(p, name):  # the generation time and the workspace's (lake's) name aside
        html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "", p["html"].read_text())
        return html.replace(f"<code>{name}</code>", "<code>WS</code>")
    assert f"<code>{lake.path.name}</code>" in b["html"].read_text()
    assert body(b, lake.path.name) == body(a, ws.path.name)


def test_a_lake_gives_no_more_than_its_writer_let_through(lake, tmp_path):
    from socialens.privacy import PrivacyError
    from socialens.report import write_report

    with pytest.raises(PrivacyError, match="naming everyone.*pseudonymized.*write the lake again"):
        write_report(lake, tmp_path / "r", results={}, pseudonymize=True)
    assert not (tmp_path / "r").exists()


def test_enrich_on_spark_writes_the_same_features_into_the_lake(spark, tiny_dir, tmp_path):
    """``enrich --engine spark``: enrich_batch under mapInArrow gives the features and entities
    the DuckDB runner gives (run times and run tags aside); a second run adds nothing."""
    import json

    from typer.testing import CliRunner

    from socialens.cli import app
    from socialens.enrich import enrich

    ws = socialens.open(tmp_path / "w.duckdb")
    ws.ingest(tiny_dir)
    write_lake(ws, tmp_path / "lake", include_all=True)  # before enriching: no features
    enrich(ws)
    runner = CliRunner()
    r = runner.invoke(app, ["enrich", "--engine", "spark", "--lake", str(tmp_path / "lake"),
                            "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["enriched"] == ws.count("posts") == 507
    again = runner.invoke(app, ["enrich", "--engine", "spark", "--lake", str(tmp_path / "lake"),
                                "--json"])
    assert json.loads(again.output)["enriched"] == 0

    with SparkWorkspace(tmp_path / "lake", spark=spark) as lake:
        assert lake.manifest["tables"]["post_features"]["rows"] == 507
        for table, key, drop in (("post_features", ["post_id", "feature_version"],
                                  ["computed_at"]),
                                 ("post_entities", ["post_id", "kind", "value"], ["run_id"])):
            want = ws.table(table).execute().drop(columns=drop).sort_values(key)
            got = lake.table(table).execute().drop(columns=drop).sort_values(key)
            pd.testing.assert_frame_equal(_normal(got), _normal(want), check_dtype=False,
                                          obj=table)
        assert lake.table("post_features").schema()["computed_at"].timezone == "UTC"
        # and the analyses read them: tone on the Spark-enriched lake equals DuckDB's
        assert REGISTRY["tone"](lake).summary == REGISTRY["tone"](ws).summary
    files = sorted(p.name for p in (tmp_path / "lake").iterdir())
    assert not [f for f in files if f.startswith(".")], files  # no staging or checksum left
    ws.close()
