"""Describe a model: inputs/outputs, opsets, op histogram, ops without a kernel, parameters."""

from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("model", help="model path")
    p.add_argument("--json", action="store_true", help="print the description as JSON")


def main(args) -> int:
    import os

    from ..tools.inspect import format_info, model_info
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"no such model file: {args.model}")
    info = model_info(args.model)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"model: {args.model}")
        print(format_info(info))
    return 0
