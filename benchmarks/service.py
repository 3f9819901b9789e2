"""`python -m benchmarks.service`: evaluate over HTTP (`ruleengine serve`) against in-process.

What a host does, on both sides: the in-process side goes from the snapshot's JSON text to the
result's JSON text (`json.loads` -> `Engine.read_snapshot` -> `evaluate` -> `dumps`); the HTTP
side posts the same text to `/v1/programs/acme-rewards/evaluate` on a loopback port and reads
the result. The server runs with 1 and then 2 worker processes; a bounded number of requests
is sent from C client threads over keep-alive connections, then the server is stopped.
Everything stays on 127.0.0.1 and stops by itself.

    python -m benchmarks.service                 # 3,000 requests per run
    python -m benchmarks.service --requests 500  # a quick look
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).parent.parent
RULES = ROOT / "examples" / "rules"
SNAPSHOT = ROOT / "examples" / "snapshots" / "acme-maria.json"
NOW = "2026-06-01T00:00:00Z"
TIMES = "\u00d7"  # the multiplication sign of the report's ratios


def in_process(requests: int) -> tuple[float, list[float]]:
    from ruleengine import Engine, load_ruleset

    engine = Engine(load_ruleset(RULES / "acme.yaml"))
    text = SNAPSHOT.read_text(encoding="utf-8")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        begin = time.perf_counter()
        engine.evaluate(
            engine.read_snapshot(json.loads(text, parse_float=Decimal)), now=now
        ).dumps()
        latencies.append(time.perf_counter() - begin)
    return requests / (time.perf_counter() - started), latencies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ruleengine",
            "serve",
            str(RULES),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    for _ in range(300):  # at most ~30 s
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("ruleengine serve did not start")


def over_http(port: int, requests: int, clients: int) -> tuple[float, list[float]]:
    body = f'{{"snapshot": {SNAPSHOT.read_text(encoding="utf-8")}, "now": "{NOW}"}}'.encode()
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    lock = threading.Lock()
    share = [requests // clients + (i < requests % clients) for i in range(clients)]

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(count):
            begin = time.perf_counter()
            connection.request("POST", "/v1/programs/acme-rewards/evaluate", body, headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            mine.append(time.perf_counter() - begin)
        connection.close()
        with lock:
            latencies.extend(mine)

    # warm up every worker's imports and caches
    over = [threading.Thread(target=client, args=(20,)) for _ in range(clients)]
    for thread in over:
        thread.start()
    for thread in over:
        thread.join()
    latencies.clear()
    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return requests / (time.perf_counter() - started), latencies


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def row(name: str, rate: float, latencies: list[float], base: float, workers: int) -> str:
    return (
        f"| {name} | {rate:,.0f}/s | {quantile(latencies, 0.5) * 1000:.2f} ms | "
        f"{quantile(latencies, 0.99) * 1000:.2f} ms | {rate / base:.2f}{TIMES} | "
        f"{rate / base / workers:.2f}{TIMES} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    args = parser.parse_args()
    base, base_latencies = in_process(args.requests)
    rows = [row("in-process (JSON text -> result text)", base, base_latencies, base, 1)]
    for workers in (1, 2):
        process, port = start(workers)
        try:
            rate, latencies = over_http(port, args.requests, args.clients)
        finally:
            process.terminate()
            process.wait(timeout=30)
        rows.append(
            row(f"HTTP, {workers} worker{'s' * (workers > 1)}", rate, latencies, base, workers)
        )
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"acme-rewards, acme-maria.json; {args.requests:,} requests, {args.clients} client "
        f"connections; {cpus} CPUs shared with the client; load {os.getloadavg()[0]:.2f}\n"
    )
    print("| run | throughput | p50 | p99 | vs in-process | per worker |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
