"""REST latency and throughput of the real assistant.

Starts its own assistant (test ports, throw-away database) unless --url points at a running one, then:
  * p50/p95 reply latency over 200 sequential questions (a new visitor every 10 messages),
  * messages per second with 16 concurrent visitors,
  * start-up time and the Rasa server's resident memory.

    .venv/bin/python bench/latency.py [--url http://127.0.0.1:5005] [--sequential 200] [--senders 16]
"""
import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import cycle
from pathlib import Path
from typing import Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.heldout_set import heldout  # noqa: E402
from clinic.serve import Assistant  # noqa: E402

MESSAGES_PER_VISITOR = 10


def questions() -> List[str]:
    return [q for label, qs in heldout().items() if label.startswith("faq/") for q in qs]


class Visitor:
    """One browser tab: a kept-alive HTTP connection to the REST channel, as browsers keep one. The
    standard library's client costs the load generator (on the same cores as the server) a fraction
    of what `requests` does, so the figures are the server's."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.connection: Optional[http.client.HTTPConnection] = None

    def ask(self, sender: str, text: str) -> Tuple[float, bool]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        started = time.perf_counter()
        for _ in range(2):  # a kept-alive connection the server closed is reopened once
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.connection.request("POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                response.read()
                return time.perf_counter() - started, response.status == 200
            except (OSError, http.client.HTTPException):
                self.close()
        return time.perf_counter() - started, False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def ask(url: str, sender: str, text: str) -> Tuple[float, bool]:
    """One question on a connection of its own."""
    visitor = Visitor(url)
    try:
        return visitor.ask(sender, text)
    finally:
        visitor.close()


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def sequential(url: str, count: int, run_id: str) -> List[float]:
    texts = cycle(questions())
    visitor = Visitor(url)
    latencies = []
    for i in range(count):
        seconds, ok = visitor.ask(f"bench-{run_id}-seq-{i // MESSAGES_PER_VISITOR}", next(texts))
        if not ok:
            raise SystemExit(f"request {i} failed")
        latencies.append(seconds)
    visitor.close()
    return latencies


def concurrent(url: str, senders: int, per_sender: int, run_id: str) -> Tuple[float, int, List[float]]:
    texts = questions()

    def visitor(n: int) -> List[Tuple[float, bool]]:
        tab = Visitor(url)
        try:
            return [tab.ask(f"bench-{run_id}-c{n}", texts[(n * per_sender + i) % len(texts)]) for i in range(per_sender)]
        finally:
            tab.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        results = [r for rs in pool.map(visitor, range(senders)) for r in rs]
    elapsed = time.perf_counter() - started
    return len(results) / elapsed, sum(1 for _, ok in results if not ok), [s for s, _ in results]


def process_tree(pid: int) -> List[int]:
    """pid and its descendants (Sanic's workers are children of the Rasa server process)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by pid and its descendants."""
    total = 0
    for process in process_tree(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of pid and its descendants, like `cpu_seconds`."""
    total_kb = 0
    for process in process_tree(pid):
        try:
            for line in Path(f"/proc/{process}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


@contextmanager
def assistant_at(url: Optional[str]) -> Iterator[Tuple[str, Optional[Assistant]]]:
    """(url, assistant): the running assistant at url, or one started here (bench ports, throw-away
    database) and stopped afterwards."""
    if url:
        yield url, None
        return
    workdir = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    assistant = Assistant(rasa_port=5205, action_port=5255, database=f"sqlite:///{workdir / 'bench.sqlite'}",
                          log_dir=workdir / "logs")
    started = time.perf_counter()
    assistant.start()
    print(f"start-up to ready: {time.perf_counter() - started:.1f} s")
    try:
        yield assistant.url, assistant
    finally:
        assistant.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="REST latency and throughput.")
    parser.add_argument("--url")
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--per-sender", type=int, default=25)
    args = parser.parse_args()
    run_id = str(int(time.time()))
    print(f"machine: {machine()}")
    with assistant_at(args.url) as (url, assistant):
        ask(url, f"bench-{run_id}-warmup", "hello")
        latencies = sequential(url, args.sequential, run_id)
        print(f"sequential, {len(latencies)} questions: p50 {percentile(latencies, .5) * 1000:.0f} ms, "
              f"p95 {percentile(latencies, .95) * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms")
        server = assistant.processes[-1].pid if assistant else None
        cpu_before = cpu_seconds(server) if server else 0.0
        rate, errors, under_load = concurrent(url, args.senders, args.per_sender, run_id)
        print(f"{args.senders} concurrent senders x {args.per_sender}: {rate:.1f} messages/s, {errors} errors, "
              f"p50 {percentile(under_load, .5) * 1000:.0f} ms, p95 {percentile(under_load, .95) * 1000:.0f} ms")
        if server:
            # CPU per message is steadier than messages/s on a shared machine: capacity is about
            # 1000 / (ms per message) messages/s per core given to the Rasa server.
            cpu_ms = (cpu_seconds(server) - cpu_before) * 1000 / (args.senders * args.per_sender)
            print(f"Rasa server CPU per message under load: {cpu_ms:.1f} ms")
            print(f"Rasa server resident memory: {rss_mb(server):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
