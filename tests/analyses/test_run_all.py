"""run_all: shared parameters split per analysis, misspelled ones rejected, unavailable ones kept
apart with their reason."""

import pytest

from socialens.analyses import REGISTRY, ParameterError, activity, adoption, directory, run_all
from socialens.errors import SocialensError


@pytest.mark.parametrize("fn", [directory, adoption, activity])
def test_every_analysis_rejects_an_unknown_parameter(fn):
    with pytest.raises(TypeError, match=r"unknown parameter 'leader' \(did you mean 'leaders'\?\)"
                       r"; valid parameters: .*leaders") as info:
        fn(None, leader="ids:x")
    assert isinstance(info.value, SocialensError) and fn.__name__ in str(info.value)


def test_every_registered_analysis_is_checked():
    for name, fn in REGISTRY.items():
        assert "_ignored" not in fn.parameters and "leaders" in fn.parameters, name
        with pytest.raises(ParameterError):
            fn(None, no_such_parameter=1)


def test_run_all_gives_each_analysis_its_parameters(tiny_ws):
    # window_start is activity's only; directory and adoption must not choke on it
    res = run_all(tiny_ws, ["activity", "adoption", "directory"], window_start="2008-07-01",
                  leaders="level<=1")
    assert list(res) == ["directory", "adoption", "activity"]  # registry order
    assert res["activity"].params["window_start"].startswith("2008-07-01")
    assert res["directory"].params["leaders"] == "level<=1"


def test_run_all_rejects_a_parameter_no_analysis_takes(tiny_ws):
    with pytest.raises(ParameterError, match="'leader'.*did you mean 'leaders'"):
        run_all(tiny_ws, leader="ids:ceo")
    # window_start is not directory's
    with pytest.raises(ParameterError, match="window_start"):
        run_all(tiny_ws, ["directory"], window_start="2008-07-01")


def test_unavailable_analyses_are_left_out_with_their_reason(tiny_ws):
    tiny_ws.con.execute("DELETE FROM account_snapshots")
    skipped = {}
    res = run_all(tiny_ws, ["directory", "adoption", "activity"], unavailable=skipped)
    assert list(res) == ["adoption", "activity"]
    assert set(skipped) == {"directory"} and "no account snapshots" in skipped["directory"]
    with pytest.raises(SocialensError, match="no account snapshots"):
        run_all(tiny_ws)


def test_analyze_cli_reports_unavailable_analyses(tiny_ws, tmp_path):
    import json

    from typer.testing import CliRunner

    from socialens.cli import app

    tiny_ws.con.execute("DELETE FROM account_snapshots")
    path = tiny_ws.path
    tiny_ws.close()
    out = tmp_path / "s.json"
    res = CliRunner().invoke(app, ["analyze", "-w", str(path), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "directory: not available: the workspace has no account snapshots" in res.output
    assert "adoption: Of 7 members who had adopted" in res.output
    s = json.loads(out.read_text())
    assert "directory" in s["not_available"] and "adoption" in s["analyses"]


def test_analyze_cli_fails_when_nothing_can_run(ws, tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    path = ws.path
    ws.close()
    res = CliRunner().invoke(app, ["analyze", "-w", str(path)])
    assert res.exit_code == 1
    assert "no analysis could run on this workspace" in res.output
    assert "directory: not available:" in res.output and "Traceback" not in res.output


def test_opt_in_analyses_run_only_when_named(tiny_ws):
    from socialens.analyses import OPT_IN

    assert "contagion_tests" in OPT_IN and "contagion_tests" not in REGISTRY
    skipped = {}
    res = run_all(tiny_ws, unavailable=skipped)
    assert "contagion_tests" not in res and "contagion_tests" not in skipped
    with pytest.raises(SocialensError, match="unknown analysis.*choose from.*contagion_tests"):
        run_all(tiny_ws, ["contagion_test"])


def test_shared_reads_are_made_once_per_block_and_each_caller_gets_its_own_copy(tiny_ws,
                                                                               monkeypatch):
    from datetime import UTC, datetime

    import socialens.analyses.common as common

    calls = []
    table = tiny_ws.table
    monkeypatch.setattr(tiny_ws, "table", lambda name: (calls.append(name), table(name))[1])
    at = datetime(2009, 1, 1, tzinfo=UTC)
    plain = common.roster_at(tiny_ws, at)
    n_plain = len(calls)
    assert n_plain > 0
    with common.shared_reads():
        a = common.roster_at(tiny_ws, at)
        a["name"] = "changed"  # a caller's change stays its own
        with common.shared_reads():  # nested: the outer block's reads
            b = common.roster_at(tiny_ws, at)
        assert len(calls) == 2 * n_plain  # read once inside the block
        common.roster_at(tiny_ws, datetime(2010, 1, 1, tzinfo=UTC))  # other arguments: read
        assert len(calls) == 3 * n_plain
    assert b.equals(plain) and b.attrs["person_ids"] == plain.attrs["person_ids"]
    common.roster_at(tiny_ws, at)  # after the block: read again
    assert len(calls) == 4 * n_plain


def test_run_all_gives_the_same_results_with_shared_reads(tiny_ws, monkeypatch):
    import contextlib

    import socialens.analyses as analyses
    from socialens.analyses import summaries

    names = ["directory", "adoption", "activity", "delegation", "leaders"]
    shared = summaries(run_all(tiny_ws, names, unavailable={}))
    monkeypatch.setattr(analyses, "shared_reads", contextlib.nullcontext)
    assert summaries(run_all(tiny_ws, names, unavailable={})) == shared
