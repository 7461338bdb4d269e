"""`publish` replaces the site atomically (issue 18): a real `socialens publish` process is killed
(SIGKILL) at chosen points of its work, the folder is checked while it is stopped there and after
the kill (the old site intact, or the new one complete), and the same command run again succeeds.

The processes are forked from one helper process that imported socialens once (a fresh
interpreter per trial would spend ~3 s importing; :mod:`tests.killpoints`, shared with the ingest,
enrich and collect kill points of ``tests/test_kill_points.py``); each forked child runs the CLI's
``publish`` unchanged, with checkpoints at its file writes, its swap and its removals
(:func:`publish_hooks`), and stops (forever, until killed) at the one checkpoint a trial asks for.
No sleeps, no timing: the test kills the child while it waits at a known point. 12 kill points:
the 10 of ``STOPS`` and the two of the chained test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import socialens
from socialens.site import publish
from socialens.site.build import MARKER
from tests import killpoints
from tests.conftest import TINY_ORG
from tests.killpoints import after, before, checkpoint, kill_points

pytestmark = [pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)"),
              pytest.mark.slow]  # ~12 publish runs of the tiny organization

def publish_hooks():
    """Checkpoints at publish's file writes, its staging folder, its swap and its removals
    (installed in the forked child, see :mod:`tests.killpoints`)."""
    import shutil
    import tempfile

    import socialens.site.build as build

    state = {"swapping": False}
    Path.write_bytes = after(Path.write_bytes, lambda p, *_: "wrote " + p.name)
    Path.write_text = after(Path.write_text, lambda p, *_: "wrote " + p.name)
    tempfile.mkdtemp = after(tempfile.mkdtemp, lambda *a: "made staging")
    _swap = build._swap_into_place

    def swap(staging, out):
        checkpoint("swap")
        state["swapping"] = True
        _swap(staging, out)
    build._swap_into_place = swap
    shutil.rmtree = before(shutil.rmtree, lambda p, *_: ("remove old " if state["swapping"]
                                                         else "remove ") + Path(p).name)
    os.unlink = before(os.unlink, lambda p, *_: ("unlink old " if state["swapping"]
                                                 else "unlink ") + str(p))


class Helper(killpoints.Helper):
    """The shared kill-point helper, every run with :func:`publish_hooks`."""

    HOOKS = [("tests.site.test_publish_atomic:publish_hooks",)]

    def __init__(self, tmp: Path):
        super().__init__(tmp, preload=["tests.site.test_publish_atomic", "socialens.site.build"])

    def run(self, argv):
        return super().run(argv, hooks=self.HOOKS)

    def stop_at(self, argv, stop):
        return super().stop_at(argv, stop, hooks=self.HOOKS)


_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
                    rb"|\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT|\d{4}-\d\d-\d\d \d\d:\d\d UTC")


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (build times masked: "Generated on", the OPML's dateCreated,
    the times of empty feeds)."""
    return {p.relative_to(folder).as_posix(): _STAMP.sub(b"T", p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("atomic")
    ws = tmp / "ws.duckdb"
    with socialens.open(ws) as w:
        w.ingest(TINY_ORG)
    # two versions that differ in files as well as in text: "old" lists everyone (8 person
    # pages), "new" only who opted in
    versions = {"old": ["--title", "OLD SITE", "--include-all"], "new": ["--title", "NEW SITE"]}
    refs = {}
    with socialens.open(ws, read_only=True) as w:
        for name, extra in versions.items():
            publish(w, tmp / f"ref-{name}", report=False, title=extra[1],
                    include_all="--include-all" in extra)
            refs[name] = _tree(tmp / f"ref-{name}")
    assert set(refs["old"]) != set(refs["new"])
    helper = Helper(tmp)
    yield tmp, ws, versions, refs, helper
    helper.close()


def _argv(ws: Path, out: Path, extra: list[str]) -> list[str]:
    return ["publish", "-w", str(ws), "--out", str(out), "--no-report", *extra]


def _state(out: Path, refs: dict) -> str:
    """Which whole site ``out`` holds ("old" / "new"); fails on anything else."""
    assert (out / MARKER).is_file(), sorted(p.name for p in out.parent.iterdir())
    tree = _tree(out)
    for name, ref in refs.items():
        if tree == ref:
            return name
    raise AssertionError(f"{out} holds neither site whole: {sorted(tree)}")


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _staging(out: Path) -> Path:
    (folder,) = [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return folder


# (checkpoint prefix, nth occurrence, which site `out` must hold while stopped there)
STOPS = [
    ("made staging", 1, "before"),          # the staging folder exists, empty
    ("wrote ", 1, "before"),                # the first file written
    ("wrote ", 5, "before"),
    ("wrote ", 12, "before"),               # about half of the 27 files written
    ("wrote ", 20, "before"),
    ("wrote .socialens-site", 1, "before"),  # the marker, last: the staging site is complete
    ("swap", 1, "before"),                  # about to swap
    ("remove old ", 1, "after"),            # swapped; the old site not yet removed
    ("unlink old ", 1, "after"),            # removing the old site: its first file
    ("unlink old ", 9, "after"),            # removing the old site: its ninth file
]


@pytest.mark.parametrize("prefix,nth,expect", kill_points(STOPS, {3, 5, 6, 7},
                                                        lambda p, n, _: f"{p.strip()}-{n}"))
def test_killed_publish_leaves_a_whole_site_and_the_rerun_succeeds(setup, prefix, nth, expect):
    tmp, ws, versions, refs, helper = setup
    out = tmp / "site"
    if not out.exists():
        assert helper.run(_argv(ws, out, versions["old"]))["code"] == 0
    before = _state(out, refs)
    target = "new" if before == "old" else "old"
    pid = helper.stop_at(_argv(ws, out, versions[target]), (prefix, nth))
    held = before if expect == "before" else target
    assert _state(out, refs) == held  # while the process waits there ...
    if prefix == "wrote .socialens-site":  # the marker is the last file of a complete site
        assert _tree(_staging(out)) == refs[target]
    helper.kill(pid)
    assert _state(out, refs) == held  # ... and after SIGKILL
    # the same command again: succeeds, the new site whole, the killed run's staging removed
    res = helper.run(_argv(ws, out, versions[target]))
    assert res["code"] == 0
    assert _state(out, refs) == target and _leftovers(out) == []


def test_killed_while_removing_the_old_site_and_again_while_cleaning_up(setup):
    tmp, ws, versions, refs, helper = setup
    out = tmp / "chain"
    assert helper.run(_argv(ws, out, versions["old"]))["code"] == 0
    helper.kill(helper.stop_at(_argv(ws, out, versions["new"]), ("unlink old ", 5)))
    assert _state(out, refs) == "new"
    left = _staging(out)  # the old site, half removed, under the killed run's staging name
    assert 0 < sum(f.is_file() for f in left.rglob("*")) < len(refs["old"])
    # the next run is killed while it removes that leftover ...
    helper.kill(helper.stop_at(_argv(ws, out, versions["old"]), ("unlink ", 2)))
    assert _state(out, refs) == "new"
    # ... and the one after succeeds and leaves nothing behind
    res = helper.run(_argv(ws, out, versions["old"]))
    assert res["code"] == 0 and _state(out, refs) == "old" and _leftovers(out) == []


def test_a_foreign_folder_beside_out_is_never_removed(setup):
    tmp, ws, versions, refs, helper = setup
    out = tmp / "guarded"
    mine = [tmp / ".guarded.socialens-publish-notapid-x", tmp / ".guarded.backup",
            tmp / f".guarded.socialens-publish-{os.getpid()}-live"]  # a running process' name
    for folder in mine:
        folder.mkdir()
        (folder / "keep.txt").write_text("mine")
    with socialens.open(ws, read_only=True) as w:
        publish(w, out, report=False)
    for folder in mine:
        assert (folder / "keep.txt").read_text() == "mine"
