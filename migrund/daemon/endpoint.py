"""The daemon's optional HTTP endpoint on loopback: /healthz, /status and /metrics (Prometheus text)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import OperationFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

HEALTHY = frozenset({"idle", "applying", "rolling_back", "backing_up"})
STATES = ("starting", "idle", "applying", "rolling_back", "backing_up", "blocked", "error")


def _unix(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class Metrics:
    """The daemon's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.current_version = Gauge("migrund_current_version", "Version the database stands at (0: empty).", registry=r)
        self.target_version = Gauge("migrund_target_version", "Version the config declares.", registry=r)
        self.pending = Gauge("migrund_pending_migrations", "Migrations not yet applied up to the target.", registry=r)
        self.state = Enum("migrund_state", "The daemon's state.", states=list(STATES), registry=r)
        self.last_reconcile = Gauge("migrund_last_reconcile_timestamp_seconds", "When the last reconcile ended (Unix time).", registry=r)
        self.last_reconcile_ok = Gauge("migrund_last_reconcile_success", "1 when the last reconcile reached the target, else 0.", registry=r)
        self.reconcile_failures = Counter("migrund_reconcile_failures", "Reconciles that were blocked or failed.", ["result"], registry=r)
        self.durations = Histogram(
            "migrund_migration_duration_seconds",
            "Time each migration took.",
            ["direction"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, float("inf")),
            registry=r,
        )
        self.last_backup = Gauge("migrund_last_backup_success_timestamp_seconds", "When the last successful backup ended (Unix time).", registry=r)
        self.running = Gauge("migrund_running_migration", "Version of the migration running now (0: none).", registry=r)
        self.running_step = Gauge("migrund_running_step", "1-based step of the migration running now (0: none).", registry=r)
        self.running_since = Gauge("migrund_running_since_timestamp_seconds", "When the running migration started (Unix time; 0: none).", registry=r)
        # Versions as the integers they are: the client prints every value as a float
        # (2.0250101000001e+13), exact only up to 2**53. Set by observe, printed by text.
        self.versions = {"migrund_current_version": 0, "migrund_target_version": 0, "migrund_running_migration": 0}
        # Every labelled series exists from the start, at zero: a rate() or an alert sees 0, not "no data".
        for result in ("blocked", "error"):
            self.reconcile_failures.labels(result)
        for direction in ("up", "down"):
            self.durations.labels(direction)

    def observe(self, doc: dict[str, Any]) -> None:
        """Copy the status document's figures into the gauges."""
        self.current_version.set(doc["current_version"])
        self.target_version.set(doc["target_version"])
        self.pending.set(len(doc["pending"]))
        self.state.state(doc["state"])
        running = doc.get("running") or {}
        self.running.set(running.get("version", 0))
        self.running_step.set(running.get("step", 0))
        self.running_since.set(_unix(running["since"]) if running else 0)
        self.versions.update(migrund_current_version=doc["current_version"], migrund_target_version=doc["target_version"],
                             migrund_running_migration=running.get("version", 0))

    def text(self) -> bytes:
        """The exposition in the Prometheus text format."""
        from prometheus_client import generate_latest

        lines = generate_latest(self.registry).split(b"\n")
        for index, line in enumerate(lines):
            name = line.split(b" ", 1)[0].decode()
            if name in self.versions:
                lines[index] = f"{name} {self.versions[name]}".encode()
        return b"\n".join(lines)


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` from ``daemon.http``."""
    host, _, port = text.rpartition(":")
    return host, int(port)  # the config checked its range


class Endpoint:
    """A small threaded HTTP server over a snapshot function and the metrics."""

    def __init__(self, address: str, snapshot: Callable[[], dict[str, Any]], metrics: Metrics) -> None:
        host, port = parse_address(address)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._reply(200, metrics.text(), "text/plain; version=0.0.4; charset=utf-8")
                elif path in ("/status", "/healthz"):
                    doc = snapshot()
                    code = 200 if path == "/status" or doc["state"] in HEALTHY else 503
                    body = doc if path == "/status" else {"state": doc["state"], "last_error": doc["last_error"], "running": doc.get("running")}
                    self._reply(code, json.dumps(body, indent=2).encode() + b"\n", "application/json")
                else:
                    self._reply(404, b"not found: try /healthz, /status or /metrics\n", "text/plain")

            def _reply(self, code: int, body: bytes, kind: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass  # requests are not worth a journal line each

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise OperationFailed(f"daemon.http: cannot listen on {address}: {exc.strerror or exc}") from exc
        self.server.daemon_threads = True
        self.address = address
        self._thread = threading.Thread(target=self.server.serve_forever, name="migrund-http", daemon=True)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
