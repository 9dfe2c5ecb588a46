"""A real S3 API server for the tests: moto's S3 app on 127.0.0.1, in a thread.

It speaks the S3 HTTP protocol to s3fs exactly as an external server would;
being served from the test process lets the tests read its request log and,
for one test, hold a request at the server (``gate``) to kill a client in
the middle of an upload. Stopping and starting it again on the same port
keeps its buckets, as a restarted server with persistent storage would.
"""

from __future__ import annotations

import threading
import uuid
from typing import Callable

BUCKET = "joblib-tests"


class RequestLog:
    """Requests received by the server, classified as S3 bills them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list = []

    def add(self, method: str, path: str, query: str) -> None:
        with self.lock:
            self.entries.append((method, path, query))

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def counts(self) -> dict:
        """{'GET': n, 'LIST': n, 'PUT': n, 'DELETE': n}; HEAD is GET-class."""
        counts = {"GET": 0, "LIST": 0, "PUT": 0, "DELETE": 0}
        with self.lock:
            entries = list(self.entries)
        for method, path, query in entries:
            is_list = method == "GET" and (
                "list-type" in query or path.strip("/").count("/") == 0
            )
            if is_list:
                counts["LIST"] += 1
            elif method in ("GET", "HEAD"):
                counts["GET"] += 1
            elif method == "POST" and "delete" in query:
                counts["DELETE"] += 1
            elif method in ("PUT", "POST"):
                counts["PUT"] += 1
            elif method == "DELETE":
                counts["DELETE"] += 1
        return counts

    def paths(self, method: str | None = None) -> list:
        with self.lock:
            return [p for m, p, _ in self.entries if method in (None, m)]


class S3Server:
    """Start, stop and restart moto's S3 server on a loopback port."""

    def __init__(self) -> None:
        self.port = 0
        self.log = RequestLog()
        # gate(environ) runs before the app handles a request (may block).
        self.gate: Callable | None = None
        self._server = None
        self._thread = None

    @property
    def endpoint(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def _app(self):
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        app = DomainDispatcherApplication(create_backend_app)

        def logged(environ, start_response):
            gate = self.gate
            if gate is not None:
                gate(environ)
            self.log.add(
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
            )
            return app(environ, start_response)

        return logged

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args, **kwargs):
                pass  # the RequestLog keeps what the tests need

        self._server = make_server(
            "127.0.0.1", self.port, self._app(), threaded=True,
            request_handler=QuietHandler,
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def storage_options(self, **extra) -> dict:
        """s3fs options for this server: endpoint, dummy keys, no retries, no listings cache."""
        options = {
            "endpoint_url": self.endpoint,
            "key": "testing",
            "secret": "testing",
            "use_listings_cache": False,
            "config_kwargs": {
                "retries": {"max_attempts": 1, "mode": "standard"},
                "connect_timeout": 5,
                "read_timeout": 60,
            },
        }
        options.update(extra)
        return options

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(**self.storage_options())

    def new_url(self) -> str:
        """A fresh prefix in the test bucket."""
        return "s3://%s/%s" % (BUCKET, uuid.uuid4().hex[:12])


def start_server() -> S3Server:
    server = S3Server()
    server.start()
    server.filesystem().mkdir(BUCKET)
    return server
