"""The lake: the workspace's tables as Parquet plus a manifest, written through the privacy
boundary."""

import json

import duckdb
import pytest

from socialens.lake import MANIFEST, LakeError, read_manifest, write_lake


def test_every_table_is_written_with_its_rows_and_types(tiny_ws, tmp_path):
    m = write_lake(tiny_ws, tmp_path / "lake", include_all=True)
    on_disk = json.loads((tmp_path / "lake" / MANIFEST).read_text())
    assert on_disk == m
    assert m["format"] == "socialens-lake" and m["version"] == 1
    assert set(m["tables"]) == set(tiny_ws.table_names())
    for name, entry in m["tables"].items():
        n = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'lake' / entry['file']}'").fetchone()[0]
        assert n == entry["rows"] == tiny_ws.count(name), name
    assert m["tables"]["people"]["rows"] == 8
    assert m["tables"]["posts"]["schema"]["created_at"] == "timestamp('UTC', 6)"
    assert m["tables"]["accounts"]["schema"]["attrs"] == "json"
    assert m["consent"] == {"hide": False, "pseudonymize": False, "show_paths": False}
    assert m["migrations"] == tiny_ws.migrations


def test_people_who_did_not_opt_in_are_pseudonymized_in_the_lake(tiny_ws, tmp_path):
    hidden = tiny_ws.sql("SELECT person_id, name FROM people WHERE NOT coalesce(opt_in, false)")
    assert len(hidden) > 0
    m = write_lake(tiny_ws, tmp_path / "lake")
    assert m["consent"]["hide"] is True and m["consent"]["pseudonymize"] is False
    people = duckdb.sql(f"SELECT person_id, name FROM '{tmp_path / 'lake' / 'people.parquet'}'").df()
    assert not set(hidden.person_id) & set(people.person_id)
    assert not set(hidden.name) & set(people.name)
    assert len(people) == 8  # counts stay whole
    text = " ".join(duckdb.sql(f"SELECT coalesce(text, '') FROM "
                               f"'{tmp_path / 'lake' / 'posts.parquet'}'").df().iloc[:, 0])
    for name in hidden.name:
        assert name not in text


def test_the_key_never_reaches_the_manifest(tiny_ws, tmp_path):
    key = tmp_path / "study.key"
    key.write_bytes(b"k" * 32)
    write_lake(tiny_ws, tmp_path / "lake", pseudonymize=True, key_file=key)
    text = (tmp_path / "lake" / MANIFEST).read_text()
    assert "study.key" not in text and "kkkk" not in text
    assert json.loads(text)["consent"]["pseudonymize"] is True


def test_a_lake_is_replaced_and_other_folders_are_refused(tiny_ws, tmp_path):
    write_lake(tiny_ws, tmp_path / "lake", tables=["people"], include_all=True)
    m = write_lake(tiny_ws, tmp_path / "lake", tables=["people", "posts"], include_all=True)
    assert set(m["tables"]) == {"people", "posts"}
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(LakeError, match="not empty and holds no lake"):
        write_lake(tiny_ws, other)
    assert (other / "thesis.tex").read_text() == "x"
    with pytest.raises(LakeError, match="no table nope"):
        write_lake(tiny_ws, tmp_path / "lake3", tables=["nope"])


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ('{"format": "other"}', "not a SociaLens lake manifest"),
    ('{"format": "socialens-lake", "version": 99}', "version 99 lake"),
])
def test_bad_manifests_say_what_to_do(text, message):
    with pytest.raises(LakeError, match=message):
        read_manifest(text, "/x/lake")


# -- object storage (a local S3 server: moto's, on 127.0.0.1; nothing leaves the machine) -------
SECRET = "s3cr3t-value-never-printed"


@pytest.fixture(scope="module")
def s3_endpoint():
    server_mod = pytest.importorskip("moto.server")
    srv = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """An S3 file system on the local server with a fresh bucket; the environment as a user
    would set it."""
    import uuid

    from pyarrow import fs

    for var, value in {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": SECRET,
                       "AWS_ENDPOINT_URL": s3_endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(var, value)
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    s3fs = fs.S3FileSystem(endpoint_override=s3_endpoint, allow_bucket_creation=True,
                           region="us-east-1")
    s3fs.create_dir(bucket)
    return s3fs, bucket


def _objects(s3fs, prefix):
    from pyarrow import fs

    return {i.path.split("/")[-1]: i.size for i in
            s3fs.get_file_info(fs.FileSelector(prefix, allow_not_found=True))}


def _parquet_rows(s3fs, path, tmp_path):
    local = tmp_path / path.replace("/", "_")
    with s3fs.open_input_stream(path) as src:
        local.write_bytes(src.read())
    return duckdb.sql(f"SELECT * FROM '{local}' ORDER BY ALL").fetchall()


def test_a_lake_is_written_to_object_storage_like_a_local_one(tiny_ws, tmp_path, s3):
    s3fs, bucket = s3
    local = write_lake(tiny_ws, tmp_path / "lake")
    remote = write_lake(tiny_ws, f"s3://{bucket}/org/lake")
    assert {k: v for k, v in remote.items() if k != "written_at"} == \
        {k: v for k, v in local.items() if k != "written_at"}
    objects = _objects(s3fs, f"{bucket}/org/lake")
    assert set(objects) == {MANIFEST} | {e["file"] for e in local["tables"].values()}
    with s3fs.open_input_stream(f"{bucket}/org/lake/{MANIFEST}") as f:
        assert json.loads(f.read()) == remote
    for name in ("people", "posts", "edges"):
        file = local["tables"][name]["file"]
        rows = _parquet_rows(s3fs, f"{bucket}/org/lake/{file}", tmp_path)
        assert rows == duckdb.sql(f"SELECT * FROM '{tmp_path / 'lake' / file}' ORDER BY ALL"
                                  ).fetchall()
        assert len(rows) == local["tables"][name]["rows"] == tiny_ws.count(name)
    # the boundary holds on object storage too: hidden people are not in the uploaded tables
    hidden = set(tiny_ws.sql("SELECT name FROM people WHERE NOT coalesce(opt_in, false)").name)
    people = _parquet_rows(s3fs, f"{bucket}/org/lake/people.parquet", tmp_path)
    assert hidden and not hidden & {str(v) for row in people for v in row}


def test_spark_s3a_uris_write_the_same_objects_and_a_lake_is_replaced(tiny_ws, s3):
    s3fs, bucket = s3
    write_lake(tiny_ws, f"s3a://{bucket}/lake", tables=["people", "posts"], include_all=True)
    assert set(_objects(s3fs, f"{bucket}/lake")) == {MANIFEST, "people.parquet", "posts.parquet"}
    m = write_lake(tiny_ws, f"s3://{bucket}/lake/", tables=["people"], include_all=True)
    with s3fs.open_input_stream(f"{bucket}/lake/{MANIFEST}") as f:
        assert json.loads(f.read())["tables"] == m["tables"]
    assert set(m["tables"]) == {"people"}


def test_object_storage_refuses_foreign_prefixes_and_never_prints_secrets(tiny_ws, s3):
    s3fs, bucket = s3
    with s3fs.open_output_stream(f"{bucket}/thesis/draft.tex") as f:
        f.write(b"x")
    with pytest.raises(LakeError, match="not empty and holds no lake"):
        write_lake(tiny_ws, f"s3://{bucket}/thesis")
    assert set(_objects(s3fs, f"{bucket}/thesis")) == {"draft.tex"}
    with pytest.raises(LakeError, match="bucket exists") as err:
        write_lake(tiny_ws, "s3://no-such-bucket-here/lake", tables=["people"])
    assert SECRET not in str(err.value) and "AWS_SECRET_ACCESS_KEY" in str(err.value)


def test_cli_exports_a_lake_to_object_storage_and_refuses_other_exports_there(tiny_ws, s3):
    from typer.testing import CliRunner

    from socialens.cli import app

    s3fs, bucket = s3
    path = tiny_ws.path
    tiny_ws.close()
    runner = CliRunner()
    r = runner.invoke(app, ["export", "--out", f"s3://{bucket}/cli", "--parquet-lake",
                            "-w", str(path)])
    assert r.exit_code == 0, r.output
    assert f"s3://{bucket}/cli" in r.output and SECRET not in r.output
    assert MANIFEST in _objects(s3fs, f"{bucket}/cli")
    r = runner.invoke(app, ["export", "--out", f"s3://{bucket}/csv", "-w", str(path)])
    assert r.exit_code == 1 and "add --parquet-lake" in r.output
    assert not _objects(s3fs, f"{bucket}/csv")
