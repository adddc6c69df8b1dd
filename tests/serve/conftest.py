"""Servers on 127.0.0.1 (free ports, background threads) for the server tests."""

import contextlib

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from onnxrun.serve import BackgroundServer, create_app  # noqa: E402

from .models import echo_types, scorer  # noqa: E402


@contextlib.contextmanager
def serving(model, name, **kwargs):
    """(app, httpx.Client on its URL) for a server running while the context lasts."""
    app = create_app(model, name, **kwargs)
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield app, client


@pytest.fixture(scope="module")
def scorer_server():
    with serving(scorer(), "scorer", max_batch=64, max_delay_ms=100,
                 max_body_bytes=64 << 10) as s:
        yield s


@pytest.fixture(scope="module")
def echo_server():
    with serving(echo_types(), "echo") as s:
        yield s
