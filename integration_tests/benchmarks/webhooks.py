"""Figures for the webhook receiver under load (issue 19, point 5), beside their targets.

    python -m integration_tests.benchmarks.webhooks [--deployment server] [--events 2000]
        [--port-latency-ms 50] [--jira-latency-ms 0] [--rate 100] [--seconds 10] [--senders 8]

It serves generated issues from the fake Jira and a fake Port answering every request after
`--port-latency-ms`, and runs the receiver as users do, `jira-port webhooks serve` in its own
process (its SQLite queue in a temporary folder, signed deliveries), so the load generator and
the fakes do not share its interpreter. Then:

1. `--events` signed `jira:issue_updated` deliveries, one per issue, are POSTed by `--senders`
   threads as fast as the receiver answers: events/s accepted into the durable queue (202),
   and events/s applied (from the first POST until Port has the last of them).
2. Deliveries at a steady `--rate` per second for `--seconds`, one per issue: the time from
   each POST to Port's first upsert of that issue (p50, p99, max).

Each event costs a read of Jira (fetch on apply, coalesced per batch) and a Port upsert.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import yaml

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort, Reply
from integration_tests.support.commands import JIRA_PORT
from integration_tests.support.configs import PORT_SECRET, port_config
from source_jira_port.app.webhooks.app import WEBHOOK_PATH
from source_jira_port.app.webhooks.signature import sign

_SECRET = "benchmark-secret"
_START_SECONDS = 60
_WAIT_SECONDS = 300
# Issue 19, point 5.
TARGETS = {
    "accepted into the queue, events/s": (">=", 500.0),
    "applied to Port, events/s": (">=", 200.0),
    "receipt to Port at the steady rate, p99 s": ("<=", 2.0),
}


class _TimedPort(FakePort):
    """The fake Port, noting when each entity identifier is first upserted."""

    def __init__(self, latency_ms: int) -> None:
        super().__init__(client_secret=PORT_SECRET, latency_ms=latency_ms)
        self.arrived: dict[str, float] = {}
        self._arrivals = threading.Lock()

    def _bulk_upsert(self, bp: str, query: dict[str, list[str]], body: Any, **rest: Any) -> Reply:
        reply = super()._bulk_upsert(bp, query, body, **rest)
        now = time.monotonic()
        with self._arrivals:
            for entity in body["entities"]:
                self.arrived.setdefault(entity["identifier"], now)
        return reply

    def wait_for(self, keys: Sequence[str]) -> float:
        """Return when the last of `keys` arrived, waiting for it."""
        deadline = time.monotonic() + _WAIT_SECONDS
        while True:
            with self._arrivals:
                if all(key in self.arrived for key in keys):
                    return max(self.arrived[key] for key in keys)
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not apply every event in time")
            time.sleep(0.01)


class _Sender:
    """Signed deliveries of the fake Jira's issues, POSTed to the receiver."""

    def __init__(self, jira: FakeJira, url: str) -> None:
        self._jira, self._url = jira, url
        self._local = threading.local()

    def body(self, key: str) -> bytes:
        return self._jira.webhooks.issue_event("jira:issue_updated", key).body

    def post(self, key: str, body: bytes) -> None:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        headers = {
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": f"bench-{key}-{time.monotonic_ns()}",
            "X-Hub-Signature": sign(_SECRET, body),
        }
        answer = session.post(self._url, data=body, headers=headers, timeout=30)
        if answer.status_code != 202:
            raise RuntimeError(f"the receiver answered {answer.status_code}: {answer.text}")


def _burst(sender: _Sender, port: _TimedPort, keys: list[str], senders: int) -> dict[str, float]:
    bodies = {key: sender.body(key) for key in keys}
    started = time.monotonic()
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(lambda key: sender.post(key, bodies[key]), keys))
    accepted = time.monotonic() - started
    applied = port.wait_for(keys) - started
    return {
        "accepted into the queue, events/s": len(keys) / accepted,
        "applied to Port, events/s": len(keys) / applied,
    }


def _steady(sender: _Sender, port: _TimedPort, keys: list[str], rate: float) -> dict[str, float]:
    bodies = {key: sender.body(key) for key in keys}
    sent: dict[str, float] = {}
    started = time.monotonic()
    for index, key in enumerate(keys):
        pause = started + index / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sent[key] = time.monotonic()
        sender.post(key, bodies[key])
    port.wait_for(keys)
    delays = sorted(port.arrived[key] - sent[key] for key in keys)
    return {
        "receipt to Port at the steady rate, p50 s": statistics.median(delays),
        "receipt to Port at the steady rate, p99 s": delays[int(0.99 * (len(delays) - 1))],
        "receipt to Port at the steady rate, max s": delays[-1],
    }


@contextlib.contextmanager
def _serving(jira: FakeJira, port: FakePort, folder: Path) -> Iterator[str]:
    """Run `jira-port webhooks serve` for the fakes; yield the URL deliveries go to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        listen = probe.getsockname()[1]
    config = folder / "sync.yaml"
    document = {
        "jira": jira.source_config(start_date="2023-01-01T00:00:00Z"),
        "port": port_config(port),
        "webhooks": {"secret": _SECRET, "port": listen, "queue_path": "queue.sqlite"},
    }
    config.write_text(yaml.safe_dump(document))
    with (folder / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [*JIRA_PORT, "webhooks", "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{listen}"
            _wait_until_healthy(base, server)
            yield base + WEBHOOK_PATH
        finally:
            server.terminate()
            server.wait(30)


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("jira-port webhooks serve exited; see serve.log")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("jira-port webhooks serve did not start")


def measure(args: argparse.Namespace) -> dict[str, float]:
    """Run both phases once and return the figures."""
    steady_events = int(args.rate * args.seconds)
    dataset = generate_dataset(projects=4, issues=args.events + steady_events)
    with (
        FakeJira(args.deployment, dataset, latency_ms=args.jira_latency_ms) as jira,
        _TimedPort(args.port_latency_ms) as port,
        tempfile.TemporaryDirectory() as folder,
        _serving(jira, port, Path(folder)) as url,
    ):
        sender = _Sender(jira, url)
        keys = list(jira.dataset.issues)
        figures = _burst(sender, port, keys[: args.events], args.senders)
        figures |= _steady(sender, port, keys[args.events :], args.rate)
    return figures


def _lines(figures: dict[str, float]) -> Iterator[str]:
    for name, value in figures.items():
        target = TARGETS.get(name)
        wanted = f"target {target[0]} {target[1]:g}" if target else ""
        yield f"{name:45} {value:>9.2f}   {wanted}"


def main() -> None:
    """Print the figures beside the targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployment", choices=["server", "cloud"], default="server")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--port-latency-ms", type=int, default=50)
    parser.add_argument("--jira-latency-ms", type=int, default=0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    print(
        f"{args.deployment}: {args.events} events in a burst, then {args.rate:g}/s for "
        f"{args.seconds:g} s; Port {args.port_latency_ms} ms, Jira {args.jira_latency_ms} ms "
        "per request"
    )
    for line in _lines(measure(args)):
        print(line)


if __name__ == "__main__":
    main()
