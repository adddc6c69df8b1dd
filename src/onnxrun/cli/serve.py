"""Serve a model over HTTP with the Open Inference Protocol (KServe v2), batching requests."""

from __future__ import annotations

import logging
import os
import sys


def add_arguments(p) -> None:
    p.add_argument("model", nargs="?",
                   help="model path (default: the bundled digit classifier, named 'digits')")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free)")
    p.add_argument("--name", help="model name in the URLs (default: the file name's stem)")
    p.add_argument("--max-batch", type=int, default=8,
                   help="most rows stacked into one run (1: no dynamic batching)")
    p.add_argument("--max-delay-ms", type=float, default=2.0,
                   help="longest a request waits for others to batch with")
    p.add_argument("--workers", type=int, default=1,
                   help="threads running the session concurrently")
    p.add_argument("--threads", type=int, default=1,
                   help="intra_op_num_threads of the session: threads one run may use (0: "
                        "the physical cores); concurrency comes from --workers and batching")
    p.add_argument("--max-body-bytes", type=int, default=64 << 20,
                   help="largest request body accepted (larger: 400)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])


def main(args) -> int:
    try:
        import uvicorn

        from ..serve import create_app
    except ModuleNotFoundError as exc:
        hint = "" if "pip install" in str(exc) else " (pip install 'onnxrun[serve]')"
        print(f"onnxrun serve: {exc}{hint}", file=sys.stderr)
        return 1
    if args.model is None:
        from .run import DATA
        args.model = os.path.join(DATA, "digits.onnx")
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"no such model file: {args.model}")
    if args.max_batch < 1 or args.workers < 1 or args.max_delay_ms < 0 or args.max_body_bytes < 1:
        raise ValueError("--max-batch, --workers and --max-body-bytes must be positive, "
                         "--max-delay-ms not negative")
    import onnxrun
    opts = onnxrun.SessionOptions()
    opts.intra_op_num_threads = max(0, args.threads)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    app = create_app(args.model, args.name, max_batch=args.max_batch,
                     max_delay_ms=args.max_delay_ms, workers=args.workers,
                     max_body_bytes=args.max_body_bytes, sess_options=opts)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=args.log_level == "debug")
    return 0
