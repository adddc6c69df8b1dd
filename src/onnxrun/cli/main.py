"""``onnxrun <command> ...``: the entry point; subcommands register in COMMANDS."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

#: subcommand -> module under onnxrun.cli providing ``add_arguments(parser)`` and ``main(args)``
COMMANDS = {
    "run": "run",
}


def _optional_commands():
    for name, module in (("info", "info"), ("bench", "bench"), ("profile", "profile"),
                         ("compare", "compare"), ("optimize", "optimize"),
                         ("serve", "serve")):
        try:
            importlib.import_module(f"onnxrun.cli.{module}")
        except ModuleNotFoundError:
            continue
        COMMANDS.setdefault(name, module)


def build_parser() -> argparse.ArgumentParser:
    _optional_commands()
    parser = argparse.ArgumentParser(prog="onnxrun", description="Run ONNX models with onnxrun.")
    sub = parser.add_subparsers(dest="command")
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"onnxrun.cli.{module}")
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    from ..errors import OnnxRuntimeError
    try:
        return int(args._main(args) or 0)
    except (OnnxRuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"onnxrun {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
