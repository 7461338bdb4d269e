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
