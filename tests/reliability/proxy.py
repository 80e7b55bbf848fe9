"""A TCP relay in front of a database server that a test can cut: the server gone, as a client sees it."""
from __future__ import annotations

import socket
import threading


class Relay:
    """Listens on a loopback port and relays every connection to ``upstream``; ``cut()`` drops them all."""

    def __init__(self, host: str, port: int, listen_port: int = 0) -> None:
        self.upstream = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", listen_port))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Reset every relayed connection (as if the server had died); new ones still work."""
        with self.lock:
            doomed, self.open = self.open, []
        for s in doomed:
            try:
                # shutdown wakes the pump blocked in recv (a plain close would not) and ends the stream
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        """Stop listening and drop everything."""
        self.listener.close()
        self.cut()
