"""A server on a background thread (tests, notebooks): ``with BackgroundServer(app) as url``."""

from __future__ import annotations

import socket
import threading
import time


class BackgroundServer:
    """Runs an ASGI app with uvicorn on a thread, on a free port of ``host``; the context
    gives the base URL and stops the server on exit."""

    def __init__(self, app, host: str = "127.0.0.1", start_timeout: float = 30.0) -> None:
        import uvicorn
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]},
                                        name="onnxrun-serve-http", daemon=True)
        self._timeout = start_timeout

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=self._timeout)
        self._sock.close()
