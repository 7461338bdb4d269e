"""Kill a real ``socialens`` process with SIGKILL at a named point of its work (issue 15).

One helper process imports socialens once (a fresh interpreter per trial would spend ~3 s
importing) and forks a child per request; each child installs the request's *hooks* (functions
that wrap product functions with :func:`checkpoint` calls), runs the CLI unchanged, and stops —
forever, until killed — at the one checkpoint the request names (``[prefix, nth]``: the nth
checkpoint whose name starts with ``prefix``). The test then kills the child while it waits at a
known point: no sleeps, no timing.

Parent side::

    helper = Helper(tmp, preload=["tests.test_kill_points", "socialens.enrich.runner:load_models"])
    res = helper.run(argv, hooks=[("tests.test_kill_points:ingest_hooks", 10)])
    pid = helper.stop_at(argv, ("committed", 3), hooks=[...])   # waits there ...
    helper.kill(pid)                                             # ... SIGKILL, and its pool gone
    helper.close()

Child side (inside a hook): ``checkpoint(name)``, or wrap a function with :func:`after` /
:func:`before`. :func:`steps` lists the checkpoints a child passed (reported by ``run``).
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Helper", "checkpoint", "after", "before", "steps", "kill_points"]

REPO = Path(__file__).resolve().parents[1]

_state: dict[str, Any] = {"stop": None, "seen": {}, "steps": [], "proto": None}


# -- the child's side ---------------------------------------------------------------------------
def checkpoint(name: str) -> None:
    """Record that the run passed ``name``; stop here (until killed) if the request says so."""
    _state["steps"].append(name)
    stop = _state["stop"]
    if stop and name.startswith(stop[0]):
        n = _state["seen"][stop[0]] = _state["seen"].get(stop[0], 0) + 1
        if n == stop[1]:
            _state["proto"].write(json.dumps({"stopped": os.getpid(), "at": name}) + "\n")
            while True:
                signal.pause()


def steps() -> list[str]:
    return list(_state["steps"])


def after(fn: Callable, name_of: Callable[..., str]) -> Callable:
    """``fn`` followed by ``checkpoint(name_of(*args))``."""
    def wrapped(*a, **k):
        result = fn(*a, **k)
        checkpoint(name_of(*a))
        return result
    return wrapped


def before(fn: Callable, name_of: Callable[..., str]) -> Callable:
    """``checkpoint(name_of(*args))`` followed by ``fn``."""
    def wrapped(*a, **k):
        checkpoint(name_of(*a))
        return fn(*a, **k)
    return wrapped


def _serve(preload: list[str]) -> None:
    """The helper's loop: one JSON request a line (``{"argv", "stop", "hooks"}``); reports
    ``{"stopped": pid, "at": name}`` when a child waits at its checkpoint, ``{"steps", "code"}``
    when a child ends by itself, and ``{"done": pid, "status": ...}`` when it has ended (exited or
    killed)."""
    for name in preload:  # a module, or "module:function" to call (e.g. to load models)
        module, _, fn = name.partition(":")
        mod = importlib.import_module(module)
        if fn:
            getattr(mod, fn)()
    import socialens.cli as cli

    proto = _state["proto"] = os.fdopen(os.dup(1), "w", buffering=1)
    proto.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _state["stop"] = req["stop"]
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            if req.get("out"):  # the command's standard output, e.g. its --json
                os.dup2(os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
            code = 0
            try:
                for spec, *args in req["hooks"]:
                    module, fn = spec.split(":")
                    getattr(importlib.import_module(module), fn)(*args)
                sys.argv = ["socialens", *req["argv"]]
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                code = 99
            proto.write(json.dumps({"steps": _state["steps"], "code": code}) + "\n")
            proto.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        proto.write(json.dumps({"done": pid, "status": status}) + "\n")


# -- the test's side ----------------------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    """Processes below ``pid`` (Linux /proc), e.g. an enrichment's worker pool."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Helper:
    """The helper process (see the module docstring). ``preload``: modules imported once before
    the first fork (the hooks' modules, heavy imports)."""

    def __init__(self, tmp: Path, preload: list[str] = ()):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "NO_COLOR": "1"}
        code = f"from tests.killpoints import _serve; _serve({list(preload)!r})"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, cwd=REPO)
        self.buf = b""
        self.children: set[int] = set()
        #: processes the last stopped child had started (its worker pool), checked after the kill
        self.pool: list[int] = []
        assert "ready" in self.read()

    def read(self, timeout: float = 120) -> dict:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise AssertionError("the kill-point helper did not answer")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"the kill-point helper ended ({self.proc.wait()})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def start(self, argv: list[str], stop: tuple[str, int] | None, hooks=(),
              out: Path | None = None) -> None:
        req = {"argv": [str(a) for a in argv], "stop": stop, "hooks": [list(h) for h in hooks],
               "out": str(out) if out else None}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()

    def run(self, argv: list[str], hooks=(), out: Path | None = None) -> dict:
        """Run to the end; ``{"steps": [...], "code": exit code}`` (its standard output in the
        file ``out``, if given)."""
        self.start(argv, None, hooks, out)
        result = self.read()
        assert "steps" in result, result
        assert "done" in self.read()
        return result

    def stop_at(self, argv: list[str], stop: tuple[str, int], hooks=()) -> int:
        """Start a run that stops at ``stop``; its pid once it waits there."""
        self.start(argv, stop, hooks)
        msg = self.read()
        assert "stopped" in msg, (stop, msg)  # the run ended without reaching the checkpoint
        self.children.add(msg["stopped"])
        self.pool = _descendants(msg["stopped"])
        return msg["stopped"]

    def kill(self, pid: int, *, pool_timeout: float = 15) -> None:
        """SIGKILL ``pid`` (stopped at its checkpoint); fails unless the processes it had started
        end too (an orphaned worker pool would keep running, and holding memory, for ever)."""
        os.kill(pid, signal.SIGKILL)
        msg = self.read()
        self.children.discard(pid)
        assert msg["done"] == pid and os.WIFSIGNALED(msg["status"])
        assert os.WTERMSIG(msg["status"]) == signal.SIGKILL
        deadline = time.monotonic() + pool_timeout
        while (left := [p for p in self.pool if _alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        for p in left:  # do not leave them behind whatever the assertion says
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not left, f"processes of the killed run still running {pool_timeout} s later: {left}"

    def close(self) -> None:
        for pid in self.children:  # a child left waiting by a failed assertion
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()


def kill_points(stops: list[tuple], core: set[int], id_of: Callable[..., str]) -> list:
    """``stops`` as pytest parameters: the ``core`` ones (by index) run in ``make test``, the
    others are marked ``exhaustive`` and run in ``make eval`` (``pytest -m exhaustive``), so the
    suite stays lean and every point is still tried where the figures come from."""
    import pytest

    return [pytest.param(*s, id=id_of(*s),
                         marks=() if i in core else (pytest.mark.exhaustive,))
            for i, s in enumerate(stops)]
