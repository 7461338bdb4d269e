"""`publish` replaces the site atomically (issue 18): a real `socialens publish` process is killed
(SIGKILL) at chosen points of its work, the folder is checked while it is stopped there and after
the kill (the old site intact, or the new one complete), and the same command run again succeeds.

The processes are forked from one helper process that imported socialens once (a fresh
interpreter per trial would spend ~3 s importing); each forked child runs the CLI's ``publish``
unchanged, with checkpoints at its file writes, its swap and its removals, and stops (forever,
until killed) at the one checkpoint a trial asks for. No sleeps, no timing: the test kills the
child while it waits at a known point.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import socialens
from socialens.site import publish
from socialens.site.build import MARKER
from tests.conftest import TINY_ORG

pytestmark = [pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)"),
              pytest.mark.slow]  # ~12 publish runs of the tiny organization

# The helper: reads one JSON request a line ({"argv": [...], "stop": [prefix, nth] or null}),
# forks a child that runs `socialens <argv>` with checkpoints, reports {"stopped": ...} when the
# child waits at the requested checkpoint, and {"done": pid, "status": ..., "steps": [...]} when
# the child has ended (exited or killed).
HELPER = textwrap.dedent(r'''
    import json, os, shutil, signal, sys, tempfile
    from pathlib import Path

    import socialens.cli as cli
    import socialens.site.build as build

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    state = {"stop": None, "seen": {}, "steps": [], "swapping": False}

    def checkpoint(name):
        state["steps"].append(name)
        stop = state["stop"]
        if stop and name.startswith(stop[0]):
            n = state["seen"][stop[0]] = state["seen"].get(stop[0], 0) + 1
            if n == stop[1]:
                proto.write(json.dumps({"stopped": os.getpid(), "at": name}) + "\n")
                while True:
                    signal.pause()

    def after(fn, name_of):
        def wrapped(*a, **k):
            result = fn(*a, **k)
            checkpoint(name_of(*a))
            return result
        return wrapped

    def before(fn, name_of):
        def wrapped(*a, **k):
            checkpoint(name_of(*a))
            return fn(*a, **k)
        return wrapped

    Path.write_bytes = after(Path.write_bytes, lambda p, *_: "wrote " + p.name)
    Path.write_text = after(Path.write_text, lambda p, *_: "wrote " + p.name)
    tempfile.mkdtemp = after(tempfile.mkdtemp, lambda *a: "made staging")
    _swap = build._swap_into_place

    def swap(staging, out):
        checkpoint("swap")
        state["swapping"] = True
        _swap(staging, out)
    build._swap_into_place = swap
    _rmtree = shutil.rmtree
    shutil.rmtree = before(_rmtree, lambda p, *_: ("remove old " if state["swapping"]
                                                   else "remove ") + Path(p).name)
    os.unlink = before(os.unlink, lambda p, *_: ("unlink old " if state["swapping"]
                                                 else "unlink ") + str(p))

    proto.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            state["stop"] = req["stop"]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.argv = ["socialens", *req["argv"]]
            code = 0
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                code = 99
            proto.write(json.dumps({"steps": state["steps"], "code": code}) + "\n")
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        proto.write(json.dumps({"done": pid, "status": status}) + "\n")
''')


class Helper:
    def __init__(self, tmp: Path):
        script = tmp / "helper.py"
        script.write_text(HELPER)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "NO_COLOR": "1"}
        self.proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env,
                                     cwd=Path(__file__).resolve().parents[2])
        self.buf = b""
        self.children: set[int] = set()
        assert "ready" in self.read()

    def read(self, timeout: float = 120) -> dict:
        import select

        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise AssertionError("the publish helper did not answer")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"the publish helper ended ({self.proc.wait()})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def start(self, argv: list[str], stop: tuple[str, int] | None):
        self.proc.stdin.write((json.dumps({"argv": argv, "stop": stop}) + "\n").encode())
        self.proc.stdin.flush()

    def run(self, argv: list[str]) -> dict:
        """Run to the end; {"steps": [...], "code": exit code}."""
        self.start(argv, None)
        result = self.read()
        assert "done" in self.read()
        return result

    def stop_at(self, argv: list[str], stop: tuple[str, int]) -> int:
        """Start a run that stops at ``stop``; its pid once it waits there."""
        self.start(argv, stop)
        msg = self.read()
        assert "stopped" in msg, (stop, msg)  # the run ended without reaching the checkpoint
        self.children.add(msg["stopped"])
        return msg["stopped"]

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        msg = self.read()
        self.children.discard(pid)
        assert msg["done"] == pid and os.WIFSIGNALED(msg["status"])
        assert os.WTERMSIG(msg["status"]) == signal.SIGKILL

    def close(self):
        for pid in self.children:  # a child left waiting by a failed assertion
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()


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
    ("wrote ", 12, "before"),               # about half of the 27 files written
    ("wrote .socialens-site", 1, "before"),  # the marker, last: the staging site is complete
    ("remove old ", 1, "after"),            # swapped; the old site not yet removed
]


@pytest.mark.parametrize("prefix,nth,expect", STOPS, ids=[f"{p.strip()}-{n}" for p, n, _ in STOPS])
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
