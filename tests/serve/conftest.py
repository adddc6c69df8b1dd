"""Servers on 127.0.0.1 (free ports, background threads) for the server tests."""

import contextlib
import importlib.util

import pytest

from .models import echo_types, scorer

#: without the serve stack and httpx (pip install -e '.[test]' has them) these tests are skipped
MISSING = [m for m in ("starlette", "uvicorn", "httpx") if importlib.util.find_spec(m) is None]
if MISSING:
    collect_ignore_glob = ["test_*.py"]


@contextlib.contextmanager
def serving(model, name, **kwargs):
    """(app, httpx.Client on its URL) for a server running while the context lasts."""
    import httpx

    from onnxrun.serve import BackgroundServer, create_app
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
