"""``socialens serve`` beside writers: a real ``serve`` process answers requests while real
``ingest``, ``enrich`` and ``init`` processes write the same workspace.

A simulated organization's posts are split into a base and ``chunks`` further files. The workspace
starts with the base; ``socialens serve`` (a subprocess on 127.0.0.1, a free port) is started on
it, and ``clients`` threads request ``/api/people?limit=1000``, ``/api/posts?limit=300`` and
``/index.html`` back to back, while these run one after the other as subprocesses:
``socialens ingest CHUNK`` for each chunk, ``socialens enrich``, ``socialens init``. Then the clients
go on until ``serve`` answers with the final state (without a restart), and a little longer.

The committed states are known beforehand: a reference workspace is built by the same commands
and, after each one, the two API answers are taken from the app in this process. A response
*fails* when its status is not 200, its JSON does not parse or a page is cut short; it is
*inconsistent* when its body is not byte for byte one of the reference answers (a mix of two
states, or a half-written one), or when one client, whose requests follow each other, gets an
answer of an older state after one of a newer state. Writers *fail* when they exit non-zero.

``python -m eval.serve_beside_writers`` prints the figures as one JSON object on its last line.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["TITLE", "run", "measure", "to_markdown"]

TITLE = "serve beside writers (a real serve process while ingest, enrich and init write)"

_API = ("/api/people?limit=1000", "/api/posts?limit=300")
_PAGES = ("/index.html",)
_KEY = "serve-beside-writers-study-key-0123456789"


def _env(**extra) -> dict:
    env = {**os.environ, "SOCIALENS_STUDY_KEY": _KEY, "NO_COLOR": "1",
           "SOCIALENS_SERVE_COPY_INTERVAL": "0"}
    env.pop("SOCIALENS_WORKSPACE", None)
    env.pop("SOCIALENS_TOKEN", None)
    env.update(extra)
    return env


def _cli(*args, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "socialens", *map(str, args)], env=_env(),
                       capture_output=True, text=True, timeout=600)
    if check and r.returncode:
        raise RuntimeError(f"socialens {' '.join(map(str, args))} exited {r.returncode}: "
                           f"{r.stderr[-2000:]}")
    return r


def _split(files: Path, out: Path, chunks: int, base_share: float) -> tuple[Path, list[Path]]:
    lines = (files / "posts.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    n_base = int(len(lines) * base_share)
    base = out / "base"
    base.mkdir(parents=True)
    for f in files.iterdir():
        if f.is_file() and f.name != "posts.jsonl":
            shutil.copy(f, base / f.name)
    (base / "posts.jsonl").write_text("".join(lines[:n_base]), encoding="utf-8")
    rest = lines[n_base:]
    size = -(-len(rest) // chunks)
    parts = []
    for i in range(chunks):
        d = out / f"chunk{i + 1}"
        d.mkdir()
        (d / "posts.jsonl").write_text("".join(rest[i * size:(i + 1) * size]), encoding="utf-8")
        parts.append(d)
    return base, parts


def _answers(ws: Path) -> tuple[bytes, ...]:
    """The API answers of the app on ``ws`` (in this process: the same app ``serve`` runs)."""
    os.environ["SOCIALENS_STUDY_KEY"] = _KEY
    from fastapi.testclient import TestClient

    from socialens.site.app import create_app

    with TestClient(create_app(ws, allowed_hosts=["testserver"])) as client:
        out = []
        for route in _API:
            r = client.get(route)
            if r.status_code != 200:
                raise RuntimeError(f"{route}: {r.status_code} {r.text[:300]}")
            out.append(r.content)
    return tuple(out)


def _writers(ws: Path, chunks: list[Path]) -> list[list]:
    return [["ingest", c, "-w", ws] for c in chunks] + [["enrich", "-w", ws], ["init", "-w", ws]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Client(threading.Thread):
    """Requests the routes back to back on one keep-alive connection and checks each answer."""

    def __init__(self, port: int, states: list[tuple[bytes, ...]], stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.states, self.stop = port, states, stop
        self.requests = self.failed = self.inconsistent = self.regressions = 0
        #: (time, route, first, last): the answer is that of the states first..last
        self.seen: list[tuple[float, str, int, int]] = []
        self.errors: list[str] = []
        self._span: dict[str, dict[bytes, tuple[int, int]]] = {r: {} for r in _API}
        for k, route in enumerate(_API):
            for i, st in enumerate(states):
                first, _ = self._span[route].get(st[k], (i, i))
                self._span[route][st[k]] = (first, i)

    def _connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def run(self):
        conn = self._connect()
        newest = 0  # this client has had an answer of a state >= newest
        routes = [*_API, *_PAGES]
        i = 0
        while not self.stop.is_set():
            route = routes[i % len(routes)]
            i += 1
            self.requests += 1
            try:
                conn.request("GET", route, headers={"Host": f"127.0.0.1:{self.port}"})
                r = conn.getresponse()
                status, body = r.status, r.read()
            except (OSError, http.client.HTTPException) as exc:
                self.failed += 1
                self.errors.append(f"{route}: {exc!r}")
                conn.close()
                conn = self._connect()
                continue
            if status != 200:
                self.failed += 1
                self.errors.append(f"{route}: {status} {body[:200]!r}")
                continue
            if route in _PAGES:
                if not body.rstrip().endswith(b"</html>"):
                    self.failed += 1
                    self.errors.append(f"{route}: page cut short")
                continue
            try:
                json.loads(body)
            except ValueError:
                self.failed += 1
                self.errors.append(f"{route}: invalid JSON")
                continue
            span = self._span[route].get(body)
            if span is None:
                self.inconsistent += 1
                self.errors.append(f"{route}: a body of no committed state ({len(body)} bytes)")
                continue
            first, last = span
            if last < newest:
                self.regressions += 1
                self.errors.append(f"{route}: an answer of states {first}-{last} after one of "
                                   f"state {newest}")
            newest = max(newest, first)
            self.seen.append((time.monotonic(), route, first, last))
        conn.close()


def _wait_listening(proc: subprocess.Popen, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("serve did not start") from None
            time.sleep(0.1)


def measure(work: Path, *, people: int = 150, seed: int = 7, chunks: int = 3,
            clients: int = 2, base_share: float = 0.5, tail: float = 1.0,
            timeout: float = 60.0) -> dict:
    """Run the measurement in the folder ``work``; the figures as a dict."""
    work = Path(work)
    files = work / "files"
    _cli("simulate", "--out", work / "sim.duckdb", "--people", people, "--seed", seed,
         "--files", files, "--no-ingest")
    base, parts = _split(files, work / "split", chunks, base_share)
    ref, live = work / "ref" / "ws.duckdb", work / "live" / "ws.duckdb"
    for ws in (ref, live):
        ws.parent.mkdir()
        _cli("ingest", base, "-w", ws)

    states = [_answers(ref)]
    for args in _writers(ref, parts):
        _cli(*args)
        states.append(_answers(ref))
    final = len(states) - 1

    port = _free_port()
    # the server's output goes to a file: a pipe nobody reads fills up with the access log and
    # then blocks the server
    log_path = work / "serve.log"
    log = log_path.open("w")
    serve = subprocess.Popen([sys.executable, "-m", "socialens", "serve", "-w", str(live),
                              "--port", str(port)], env=_env(), stdout=log,
                             stderr=subprocess.STDOUT, text=True)
    try:
        _wait_listening(serve, port, timeout)
        stop = threading.Event()
        workers = [_Client(port, states, stop) for _ in range(clients)]
        for w in workers:
            w.start()
        time.sleep(0.5)
        writer_runs = []
        t0 = time.monotonic()
        for args in _writers(live, parts):
            r = _cli(*args, check=False)
            writer_runs.append({"command": args[0], "exit": r.returncode, "at": time.monotonic(),
                                "stderr": r.stderr.strip()[-500:]})
        t_written = time.monotonic()
        t_last_ingest = writer_runs[len(parts) - 1]["at"]

        def picked_up(w):  # when w first had the final answer of /api/people
            return next((t for t, route, _, last in w.seen
                         if route == _API[0] and last == final), None)

        while time.monotonic() < t_written + timeout:
            if all(picked_up(w) is not None for w in workers) or \
                    any(not w.is_alive() for w in workers):
                break
            time.sleep(0.05)
        time.sleep(tail)
        stop.set()
        for w in workers:
            w.join(timeout=30)
        serve_alive = serve.poll() is None
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            serve.kill()
            serve.wait()
        log.close()
    serve_err = log_path.read_text(errors="replace")
    picked = [picked_up(w) for w in workers]
    last_answers = [next((last for _, r2, _, last in reversed(w.seen) if r2 == route), None)
                    for w in workers for route in _API]
    final_served = all(p is not None for p in picked) and all(a == final for a in last_answers)
    return {
        "people": people, "seed": seed, "chunks": chunks, "clients": clients,
        "committed_states": len(states),
        "distinct_people_answers": len({s[0] for s in states}),
        "writers": len(writer_runs),
        "writers_failed": sum(1 for r in writer_runs if r["exit"]),
        "writer_errors": [r for r in writer_runs if r["exit"]],
        "write_seconds": round(t_written - t0, 2),
        "requests": sum(w.requests for w in workers),
        "failed": sum(w.failed for w in workers),
        "inconsistent": sum(w.inconsistent + w.regressions for w in workers),
        "people_answers_seen": len({last for w in workers for _, route, _, last in w.seen
                                    if route == _API[0]}),
        "final_state_served": final_served,
        "seconds_to_new_directory": (round(max(picked) - t_last_ingest, 2)
                                     if all(p is not None for p in picked) else None),
        "serve_restarted": not serve_alive,
        "errors": [e for w in workers for e in w.errors][:20],
        "serve_errors": [line for line in serve_err.splitlines()
                         if "Traceback" in line or "Error" in line][:10],
    }


def run(rounds: int = 5, people: int = 300, chunks: int = 4, clients: int = 3) -> dict:
    """``rounds`` measurements on fresh organizations (seeds 0, 1, ...), figures summed."""
    rows = []
    for seed in range(rounds):
        with tempfile.TemporaryDirectory(prefix="socialens-serve-writers-") as tmp:
            rows.append(measure(Path(tmp), people=people, seed=seed, chunks=chunks,
                                clients=clients))
    out = {k: sum(r[k] for r in rows)
           for k in ("writers", "writers_failed", "requests", "failed", "inconsistent")}
    out.update(rounds=rounds, people=people, chunks=chunks, clients=clients,
               final_state_served=sum(r["final_state_served"] for r in rows),
               serve_restarts=sum(r["serve_restarted"] for r in rows),
               people_answers_seen=[r["people_answers_seen"] for r in rows],
               distinct_people_answers=[r["distinct_people_answers"] for r in rows],
               max_seconds_to_new_directory=max((r["seconds_to_new_directory"] or 0)
                                                for r in rows),
               errors=[e for r in rows for e in r["errors"]][:20])
    return out


def to_markdown(r: dict) -> str:
    return "\n".join([
        f"{r['rounds']} rounds, each a fresh simulated organization of {r['people']} people whose "
        f"posts are split into a base and {r['chunks']} files; a real `socialens serve` process "
        f"with {r['clients']} clients requesting `/api/people`, `/api/posts` and `/index.html` "
        "back to back while `ingest` (one process per file), `enrich` and `init` processes write "
        "the same workspace (`python -m eval.serve_beside_writers`).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| writer processes | {r['writers']} ({r['writers_failed']} failed) |",
        f"| requests answered during and after the writes | {r['requests']} |",
        f"| failed (not 200, invalid JSON, a page cut short) | {r['failed']} |",
        f"| inconsistent (a body of no committed state, or older after newer) | "
        f"{r['inconsistent']} |",
        f"| rounds where the final state was served without a restart | "
        f"{r['final_state_served']} / {r['rounds']} |",
        f"| distinct `/api/people` answers committed per round / seen by the clients | "
        f"{r['distinct_people_answers']} / {r['people_answers_seen']} |",
        f"| slowest pick-up of the new directory after the last `ingest` exited | "
        f"{r['max_seconds_to_new_directory']} s |",
    ])


if __name__ == "__main__":
    result = run()
    print(to_markdown(result))
    print(json.dumps(result))
