"""Load test: 20 concurrent clients on /v1/chat/completions for 60 s, against `mingbai serve`.

Starts its own server on 127.0.0.1 (or uses --url, which must be a loopback address), checks
that the page stays responsive meanwhile, and stops by itself. Talks to nothing else.

    python -m benchmarks.load [--clients 20] [--seconds 60] [--url http://127.0.0.1:PORT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from assistant.evaluation import percentile

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "knowledge" / "eval" / "faq.jsonl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "mingbai"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    page_ready = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if page_ready is None and httpx.get(url, timeout=2).status_code == 200:
                page_ready = time.perf_counter() - started
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200 and page_ready:
                return proc, url, page_ready
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("mingbai serve did not become healthy in 120 s")


def run(clients: int = 20, seconds: float = 60.0, url: str | None = None,
        env: dict[str, str] | None = None, ids: list[str] | None = None,
        kill_after: float | None = None) -> dict[str, Any]:
    """``env``: extra variables for the server it starts; ``ids``: filled with the completion
    ids the clients received; ``kill_after``: SIGKILL the server that many seconds into the
    run (the clients then see errors, which is the point)."""
    questions = [json.loads(line)["question"] for line in FAQ.read_text("utf-8").splitlines()]
    proc = None
    page_ready_s = None
    if url is None:
        proc, url, page_ready_s = _start_server(env)
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load test only talks to loopback addresses")
    # One client, one request at a time: the warm single-request latency.
    single: list[float] = []
    with httpx.Client(timeout=30) as http:
        for q in questions[:60]:
            t0 = time.perf_counter()
            http.post(f"{url}/v1/chat/completions",
                      json={"model": "mingbai", "messages": [{"role": "user", "content": q}]})
            single.append((time.perf_counter() - t0) * 1000)
    single = single[10:]  # the first few warm caches up
    latencies: list[float] = []
    page_latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        with httpx.Client(timeout=30) as http:
            i = n
            while time.monotonic() < stop:
                body = {"model": "mingbai",
                        "messages": [{"role": "user", "content": questions[i % len(questions)]}]}
                t0 = time.perf_counter()
                try:
                    r = http.post(f"{url}/v1/chat/completions", json=body)
                    data = r.json()
                    ok = r.status_code == 200 and data["choices"][0]["message"]["content"]
                    if ok and ids is not None:
                        with lock:
                            ids.append(str(data["id"]).removeprefix("chatcmpl-"))
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    ok, r = False, None
                    err = type(exc).__name__
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    if not ok:
                        errors.append(err if r is None else str(r.status_code))
                i += clients

    def page_probe() -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    ok = http.get(f"{url}/").status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    page_latencies.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        errors.append("page")
                time.sleep(1.0)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=page_probe))
    if kill_after is not None and proc is not None:
        server = proc

        def killer() -> None:
            time.sleep(kill_after)
            server.kill()  # SIGKILL: no shutdown, no flush

        threads.append(threading.Thread(target=killer))
    t0 = time.perf_counter()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        health: dict[str, Any] = {}
        with contextlib.suppress(httpx.HTTPError, ValueError):  # a killed server answers nothing
            health = httpx.get(f"{url}/healthz", timeout=5).json()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    wall = time.perf_counter() - t0
    return {
        "single_p50_ms": round(statistics.median(single), 1),
        "single_p95_ms": round(percentile(single, 0.95), 1),
        "clients": clients, "seconds": round(wall, 1), "requests": len(latencies),
        "errors": len(errors), "error_kinds": sorted(set(errors)),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "page_p50_ms": round(statistics.median(page_latencies), 1) if page_latencies else None,
        "page_max_ms": round(max(page_latencies), 1) if page_latencies else None,
        "page_ready_after_start_s": round(page_ready_s, 2) if page_ready_s else None,
        "question_log": health.get("question_log"),  # rows written and dropped, at the end
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.clients, args.seconds, args.url), indent=2))


if __name__ == "__main__":
    main()
