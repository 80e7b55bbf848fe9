"""The daemon as a real subprocess, with a real NOTIFY_SOCKET datagram socket made by the test."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Optional

from tests.helpers import Project, clean_env

# Fast timers for tests: the daemon's behaviour, not its defaults, is under test.
FAST = "  debounce_seconds: 0.3\n  rescan_seconds: 60\n  retry_min_seconds: 0.2\n  retry_max_seconds: 0.8\n"


class DaemonProcess:
    """``migrund daemon`` on ``project``; collects sd_notify messages and the log."""

    def __init__(self, project: Project, *, watchdog_usec: Optional[int] = None, env: Optional[dict[str, str]] = None,
                 log_name: str = "daemon.log", config: str = "config/migrund.yaml", status_name: str = "status.json") -> None:
        self.project = project
        self.status_path = project.root / "data" / status_name
        # A short folder: unix socket paths are limited to 108 bytes.
        self._sock_dir = tempfile.mkdtemp(prefix="mgn-", dir="/tmp")
        self.socket_path = os.path.join(self._sock_dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.socket_path)
        self.messages: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        extra = {"NOTIFY_SOCKET": self.socket_path, **(env or {})}
        if watchdog_usec:
            extra["WATCHDOG_USEC"] = str(watchdog_usec)
        self.log_path = project.root / log_name
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "migrund", "--config", config, "daemon"],
            cwd=project.root,
            env=clean_env(project.state_home, **extra),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            self.messages.append(data.decode())

    def log(self) -> str:
        """Everything the daemon wrote so far."""
        return self.log_path.read_text()

    def status(self) -> Optional[dict[str, Any]]:
        """The status file, or None before the first write."""
        try:
            return json.loads(self.status_path.read_text())
        except FileNotFoundError:
            return None

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        """Poll ``predicate`` until true; fail with the log when it never is."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = predicate()
            if value:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited ({self.proc.returncode}) while waiting for {what}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; status {self.status()}\n{self.log()}")

    def wait_state(self, state: str, timeout: float = 30, **fields: Any) -> dict[str, Any]:
        """Wait until the status file shows ``state`` (and ``fields``)."""
        def check() -> Optional[dict[str, Any]]:
            doc = self.status()
            ok = (
                doc is not None
                and doc.get("pid") == self.proc.pid  # not a status file left by an earlier daemon
                and doc["state"] == state
                and all(doc.get(k) == v for k, v in fields.items())
            )
            return doc if ok else None

        return self.wait(check, f"state {state} {fields}", timeout)

    def ready(self, timeout: float = 30) -> None:
        """Wait for READY=1."""
        self.wait(lambda: any("READY=1" in m for m in self.messages), "READY=1", timeout)

    def http(self, port: int, path: str) -> tuple[int, bytes]:
        """GET ``path`` on the daemon's endpoint: (status code, body)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the daemon."""
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Kill if still running; release the socket."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        self.sock.close()
        shutil.rmtree(self._sock_dir, ignore_errors=True)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def idle_daemon(project: Project, version: int) -> "DaemonProcess":
    """A daemon (fast timers) on ``project`` with one migration, ``version``, applied and idle."""
    project.daemon = FAST
    project.configure()
    project.table(version, "a", "a")
    daemon = DaemonProcess(project)
    daemon.wait_state("idle", current_version=version)
    return daemon
