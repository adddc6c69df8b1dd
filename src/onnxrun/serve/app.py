"""The Open Inference Protocol REST endpoints as a Starlette application."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..version import __version__
from .batcher import DynamicBatcher
from .metrics import CONTENT_TYPE, ServerMetrics
from .model import ServedModel
from .protocol import HEADER_LENGTH, BadRequest, encode_error, encode_response, parse_request

log = logging.getLogger("onnxrun.serve")

DEFAULT_MAX_BODY = 64 << 20


class NotFound(Exception):
    """An unknown model or version (HTTP 404)."""


def _json(obj, status: int = 200) -> Response:
    return Response(json.dumps(obj, separators=(",", ":")), status,
                    media_type="application/json")


def _error(status: int, message: str) -> Response:
    return Response(encode_error(message), status, media_type="application/json")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (BadRequest) one over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest(f"Content-Length '{declared}' is not a number")
        if int(declared) > limit:
            raise BadRequest(f"request body of {declared} bytes is over the server's limit of "
                             f"{limit} bytes (--max-body-bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"request body is over the server's limit of {limit} bytes "
                             "(--max-body-bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


class InferenceServer:
    """The endpoints' state: one model, its batcher and the metrics."""

    def __init__(self, model: ServedModel, max_batch: int = 8, max_delay_ms: float = 2.0,
                 workers: int = 1, max_body_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.model = model
        self.metrics = ServerMetrics()
        self.batcher = DynamicBatcher(model, max_batch, max_delay_ms / 1e3, workers,
                                      self.metrics)
        self.max_body_bytes = int(max_body_bytes)

    def routes(self):
        m = "/v2/models/{name}"
        mv = "/v2/models/{name}/versions/{version}"
        e = self._endpoint
        return [
            Route("/v2", e("server_metadata", self.server_metadata)),
            Route("/v2/health/live", e("live", self.live)),
            Route("/v2/health/ready", e("ready", self.ready)),
            Route(m, e("model_metadata", self.model_metadata)),
            Route(mv, e("model_metadata", self.model_metadata)),
            Route(m + "/ready", e("model_ready", self.model_ready)),
            Route(mv + "/ready", e("model_ready", self.model_ready)),
            Route(m + "/infer", e("infer", self.infer), methods=["POST"]),
            Route(mv + "/infer", e("infer", self.infer), methods=["POST"]),
            Route("/metrics", self.prometheus),
        ]

    def _endpoint(self, name: str, handler):
        async def endpoint(request: Request) -> Response:
            try:
                response = await handler(request)
            except BadRequest as exc:
                response = _error(400, exc.message)
            except NotFound as exc:
                response = _error(404, str(exc))
            except Exception as exc:  # a kernel failure or a bug: the server stays up
                log.exception("%s request failed", name)
                response = _error(500, str(exc) or type(exc).__name__)
            self.metrics.count_request(name, response.status_code)
            return response
        return endpoint

    def _check_model(self, request: Request) -> None:
        name = request.path_params["name"]
        version = request.path_params.get("version")
        if name != self.model.name:
            raise NotFound(f"unknown model '{name}' (this server serves '{self.model.name}')")
        if version is not None and version != self.model.version:
            raise NotFound(f"model '{name}' has no version '{version}' "
                           f"(versions: {self.model.version})")

    # ---- endpoints ---------------------------------------------------------------------------
    async def server_metadata(self, request: Request) -> Response:
        return _json({"name": "onnxrun", "version": __version__,
                      "extensions": ["binary_tensor_data"]})

    async def live(self, request: Request) -> Response:
        return _json({"live": True})

    async def ready(self, request: Request) -> Response:
        return _json({"ready": True})

    async def model_metadata(self, request: Request) -> Response:
        self._check_model(request)
        return _json(self.model.metadata(self.batcher.max_batch))

    async def model_ready(self, request: Request) -> Response:
        self._check_model(request)
        return _json({"name": self.model.name, "ready": True})

    async def infer(self, request: Request) -> Response:
        t0 = time.perf_counter()
        self._check_model(request)
        body = await read_body(request, self.max_body_bytes)
        req = parse_request(body, request.headers.get(HEADER_LENGTH))
        names = self.model.check(req)
        values = await self.batcher.infer(req.inputs, names)
        as_binary = dict(req.outputs)
        outputs = [(n, v, as_binary.get(n, req.binary_all)) for n, v in zip(names, values)]
        content, header_length = encode_response(self.model.name, self.model.version, req.id,
                                                 outputs)
        self.metrics.observe(self.metrics.request_seconds, time.perf_counter() - t0)
        if header_length is None:
            return Response(content, media_type="application/json")
        return Response(content, media_type="application/octet-stream",
                        headers={HEADER_LENGTH: str(header_length)})

    async def prometheus(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=CONTENT_TYPE)

    # ---- application -------------------------------------------------------------------------
    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app):
            self.batcher.start()
            b = self.batcher
            if b.batching:
                log.info("model '%s': dynamic batching up to %d rows, %.1f ms delay, %d "
                         "worker(s)", self.model.name, b.max_batch, b.max_delay * 1e3, b.workers)
            else:
                log.info("model '%s': %s", self.model.name,
                         self.model.metadata(b.max_batch)["parameters"]["batching"])
            yield
            await self.batcher.stop()

        async def http_error(request: Request, exc: HTTPException) -> Response:
            return _error(exc.status_code, str(exc.detail))

        return Starlette(routes=self.routes(), lifespan=lifespan,
                         exception_handlers={HTTPException: http_error})


def create_app(model, name: Optional[str] = None, *, max_batch: int = 8,
               max_delay_ms: float = 2.0, workers: int = 1,
               max_body_bytes: int = DEFAULT_MAX_BODY, sess_options=None) -> Starlette:
    """A Starlette app serving ``model`` (a path, bytes, ``InferenceSession`` or
    ``ServedModel``; ``sess_options`` for the session made from a path or bytes); the
    ``InferenceServer`` behind it is ``app.state.server``."""
    if not isinstance(model, ServedModel):
        import os

        from ..session import InferenceSession
        if name is None:
            name = os.path.splitext(os.path.basename(os.fspath(model)))[0] \
                if isinstance(model, (str, os.PathLike)) else "model"
        session = model if isinstance(model, InferenceSession) else \
            InferenceSession(model, sess_options)
        model = ServedModel(session, name)
    server = InferenceServer(model, max_batch, max_delay_ms, workers, max_body_bytes)
    app = server.app()
    app.state.server = server
    return app
