"""`python -m benchmarks.service`: evaluate over HTTP (`ruleengine serve`) against in-process,
and how long the server takes to start.

What a host does, on both sides: the in-process side goes from the snapshot's JSON text to the
result's JSON text (`json.loads` -> `Engine.read_snapshot` -> `evaluate` -> `dumps`); the HTTP
side posts the same text to `/v1/programs/acme-rewards/evaluate` on a loopback port and reads
the result. Two servers run side by side, one with 1 worker process and one with 2; the three
paths take turns, a round of requests each, so a change in the machine's load hits all three
alike, and each row's ratio is the median of its per-round ratios to the in-process round
next to it. The client threads send ready-made request bytes over keep-alive connections and
read the answers by their `Content-Length`, so the client costs little of the CPU the server
needs. Server CPU per request is read from /proc (Linux). Everything stays on 127.0.0.1, is
bounded in requests, and stops by itself.

Start-up: `ruleengine serve examples/rules/` is started N times; each time, the seconds from
starting the process to the first answer of `GET /healthz` (polled every 10 ms), and the CPU
seconds the server had used by then; best and median of N.

    python -m benchmarks.service                    # 6 rounds of 500 requests, 5 start-ups
    python -m benchmarks.service --rounds 2 --requests 200 --startups 2   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).parent.parent
RULES = ROOT / "examples" / "rules"
SNAPSHOT = ROOT / "examples" / "snapshots" / "acme-maria.json"
NOW = "2026-06-01T00:00:00Z"
PATH = "/v1/programs/acme-rewards/evaluate"
TIMES = "\u00d7"  # the multiplication sign of the report's ratios


def in_process_runner() -> Callable[[int], list[float]]:
    from ruleengine import Engine, load_ruleset

    engine = Engine(load_ruleset(RULES / "acme.yaml"))
    text = SNAPSHOT.read_text(encoding="utf-8")
    now = datetime(2026, 6, 1, tzinfo=UTC)

    def run(requests: int) -> list[float]:
        latencies = []
        for _ in range(requests):
            begin = time.perf_counter()
            engine.evaluate(
                engine.read_snapshot(json.loads(text, parse_float=Decimal)), now=now
            ).dumps()
            latencies.append(time.perf_counter() - begin)
        return latencies

    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(port: int, path: str) -> int:
    """The status of one GET, on a fresh connection (raises OSError while nobody listens)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status, _ = read_response(connection, bytearray())
        return status


def start(workers: int, *, poll: float = 0.1) -> tuple[subprocess.Popen[bytes], int, float]:
    """A server on a free loopback port, and the seconds until it answered `/healthz`."""
    port = free_port()
    started = time.perf_counter()
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
    deadline = started + 60
    while time.perf_counter() < deadline and process.poll() is None:
        try:
            if get(port, "/healthz") == 200:
                return process, port, time.perf_counter() - started
        except OSError:
            time.sleep(poll)
    process.kill()
    raise SystemExit("ruleengine serve did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def read_response(connection: socket.socket, buffer: bytearray) -> tuple[int, bytes]:
    """One HTTP/1.1 response from a keep-alive connection: its status and body."""
    while b"\r\n\r\n" not in buffer:
        chunk = connection.recv(65536)
        if not chunk:
            raise OSError("connection closed")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = bytearray(rest)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            raise OSError("connection closed")
        body += chunk
    buffer[:] = body[length:]
    return int(head.split(b" ", 2)[1]), bytes(body[:length])


def request_bytes() -> bytes:
    body = f'{{"snapshot": {SNAPSHOT.read_text(encoding="utf-8")}, "now": "{NOW}"}}'.encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def over_http(port: int, requests: int, clients: int) -> tuple[float, list[float]]:
    """Send `requests` evaluate requests from `clients` keep-alive connections; the rate and
    every latency."""
    message = request_bytes()
    latencies: list[float] = []
    lock = threading.Lock()
    share = [requests // clients + (i < requests % clients) for i in range(clients)]

    def client(count: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = bytearray()
            mine = []
            for _ in range(count):
                begin = time.perf_counter()
                connection.sendall(message)
                status, _ = read_response(connection, buffer)
                if status != 200:
                    raise SystemExit(f"evaluate answered {status}")
                mine.append(time.perf_counter() - begin)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return requests / (time.perf_counter() - started), latencies


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, IndexError, ValueError):
            continue
        pending.extend(int(child) for child in children)
    return total


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def measure(rounds: int, requests: int, clients: int) -> list[str]:
    run_in_process = in_process_runner()
    servers = {workers: start(workers)[:2] for workers in (1, 2)}
    try:
        for _, port in servers.values():  # warm up every worker's imports and caches
            over_http(port, 50 * clients, clients)
        run_in_process(100)
        rates: dict[str, list[float]] = {"in": [], "1": [], "2": []}
        ratios: dict[str, list[float]] = {"1": [], "2": []}
        latencies: dict[str, list[float]] = {"in": [], "1": [], "2": []}
        cpu: dict[str, float] = {"in": 0.0, "1": 0.0, "2": 0.0}
        for _ in range(rounds):
            cpu_before = time.process_time()
            wall = time.perf_counter()
            latencies["in"] += run_in_process(requests)
            base = requests / (time.perf_counter() - wall)
            cpu["in"] += time.process_time() - cpu_before
            rates["in"].append(base)
            for workers, (process, port) in servers.items():
                key = str(workers)
                before = cpu_seconds(process.pid)
                rate, seen = over_http(port, requests, clients)
                cpu[key] += cpu_seconds(process.pid) - before
                rates[key].append(rate)
                ratios[key].append(rate / base)
                latencies[key] += seen
    finally:
        for process, _ in servers.values():
            stop(process)
    total = rounds * requests

    def row(name: str, key: str, workers: int) -> str:
        ratio = statistics.median(ratios[key]) if key in ratios else 1.0
        return (
            f"| {name} | {statistics.median(rates[key]):,.0f}/s | "
            f"{quantile(latencies[key], 0.5) * 1000:.2f} ms | "
            f"{quantile(latencies[key], 0.99) * 1000:.2f} ms | {ratio:.2f}{TIMES} | "
            f"{ratio / workers:.2f}{TIMES} | {cpu[key] / total * 1e6:,.0f} µs |"
        )

    return [
        row("in-process (JSON text -> result text)", "in", 1),
        row("HTTP, 1 worker", "1", 1),
        row("HTTP, 2 workers", "2", 2),
    ]


def startups(count: int) -> tuple[list[float], list[float]]:
    """Wall seconds to the first `/healthz` answer, and the CPU seconds the server had used
    by then (which the machine's load hardly changes)."""
    seconds, cpu = [], []
    for _ in range(count):
        process, _, took = start(1, poll=0.01)
        cpu.append(cpu_seconds(process.pid))
        stop(process)
        seconds.append(took)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=500, help="requests per round and path")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument("--startups", type=int, default=5, help="start-ups to time (0: none)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = measure(args.rounds, args.requests, args.clients)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"acme-rewards, acme-maria.json; {args.rounds} rounds of {args.requests:,} requests "
        f"per path, {args.clients} client connections; {cpus} CPUs shared with the client; "
        f"load {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    print("| run | throughput | p50 | p99 | vs in-process | per worker | server CPU/request |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.startups:
        load = os.getloadavg()[0]
        seconds, cpu = startups(args.startups)
        print(
            f"\nstart-up to the first /healthz answer, {len(seconds)} runs (load {load:.2f}): "
            f"best {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s; "
            f"CPU used by then: best {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s"
        )


if __name__ == "__main__":
    main()
