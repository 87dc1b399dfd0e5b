"""What the fake Jira and the fake Port share: HTTP on 127.0.0.1 from a background thread."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from source_jira_port.app.threaded_server import Background


class LocalServer(Background):
    """Serves HTTP/1.1 on 127.0.0.1 (port 0: an ephemeral one) from a daemon thread.

    `start()`/`stop()`, or use it as a context manager. Subclasses answer in `respond`.
    """

    def __init__(self, port: int = 0) -> None:
        self.base_url = ""
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        """Answer one request (on the server's thread for it) through `request`."""
        raise NotImplementedError

    def start(self) -> Self:
        """Start serving; sets `base_url`."""
        self._server = _Server(("127.0.0.1", self._port), _Handler, self)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: LocalServer
    ) -> None:
        super().__init__(address, handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up mid-response; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.owner.respond(self, self.rfile.read(length) if length else b"")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: no per-request logging to stderr."""
