"""``onnxrun serve``: a model behind the Open Inference Protocol (KServe v2) over HTTP, with
dynamic batching. Needs the ``serve`` extra (``pip install 'onnxrun[serve]'``): Starlette and
uvicorn, imported only here.

    from onnxrun.serve import create_app
    app = create_app("model.onnx", max_batch=8, max_delay_ms=2)   # any ASGI server runs it
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
    raise ModuleNotFoundError(
        "onnxrun.serve needs Starlette and uvicorn: pip install 'onnxrun[serve]'",
        name=exc.name) from exc

from .app import InferenceServer, create_app  # noqa: E402,F401
from .background import BackgroundServer  # noqa: E402,F401
from .model import ServedModel  # noqa: E402,F401
from .protocol import BadRequest  # noqa: E402,F401
