"""Write the model as onnxrun optimizes it (constant folding, fusions) to a new file."""

from __future__ import annotations

import os

_LEVELS = {"disable": 0, "basic": 1, "extended": 2, "all": 99}


def add_arguments(p) -> None:
    p.add_argument("model", help="model path")
    p.add_argument("-o", "--output", required=True, metavar="OUT.onnx",
                   help="where to write the optimized model")
    p.add_argument("--level", default="all", choices=list(_LEVELS),
                   help="graph optimization level (default: all)")


def main(args) -> int:
    import onnx

    import onnxrun
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"no such model file: {args.model}")
    opts = onnxrun.SessionOptions()
    opts.graph_optimization_level = _LEVELS[args.level]
    opts.optimized_model_filepath = args.output
    onnxrun.InferenceSession(args.model, opts)
    before = onnx.load(args.model, load_external_data=False)
    after = onnx.load(args.output, load_external_data=False)
    print(f"wrote {args.output} (level {args.level}): {len(before.graph.node)} nodes -> "
          f"{len(after.graph.node)} nodes")
    return 0
