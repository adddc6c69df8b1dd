"""Shared by the model scripts: torch.onnx export into the benchmark cache, and the command line.

Each script defines ``BUILDERS = {name: function(path)}`` and calls ``main(BUILDERS, doc)``;
``python scripts/models/SCRIPT.py [NAME ...] [--out DIR]`` writes the named models (all by
default) as ``onnxrun.bench.models.scripted.path_of(NAME)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable, Dict, Optional, Sequence

import onnx

from onnxrun.bench.models.scripted import path_of


def export(module, args: tuple, path: str, input_names: Sequence[str],
           output_names: Sequence[str], dynamo: bool = False,
           dynamic_axes: Optional[Dict[str, Dict[int, str]]] = None,
           dynamic_shapes=None, opset: int = 17) -> None:
    """Export ``module`` (eval mode, no grad) the way users do: the TorchScript exporter
    (``dynamo=False``, constant folding, optional ``dynamic_axes``) or ``dynamo=True`` (the
    torch.export-based exporter, optimized, weights inline); then onnx.checker."""
    import torch
    module.eval()
    tmp = f"{path}.{os.getpid()}.tmp"
    with torch.no_grad():
        if dynamo:
            prog = torch.onnx.export(module, args, dynamo=True, input_names=list(input_names),
                                     output_names=list(output_names), opset_version=opset,
                                     dynamic_shapes=dynamic_shapes, optimize=True)
            prog.save(tmp, external_data=False)
        else:
            torch.onnx.export(module, args, tmp, dynamo=False, input_names=list(input_names),
                              output_names=list(output_names), opset_version=opset,
                              dynamic_axes=dynamic_axes, do_constant_folding=True)
    onnx.checker.check_model(tmp)
    os.replace(tmp, path)


def seeded(seed: int):
    """Fixed torch and NumPy seeds; torch's default initializers give the random weights."""
    import numpy as np
    import torch
    torch.manual_seed(seed)
    np.random.seed(seed)


def randomize_norms(module, seed: int) -> None:
    """BatchNorm statistics and affine terms away from their identity defaults (as trained
    networks have), so folded convolutions carry realistic scales."""
    import torch
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


def main(builders: Dict[str, Callable[[str], None]], doc: str) -> int:
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("names", nargs="*", help=f"models to build (default all: {sorted(builders)})")
    p.add_argument("--out", help="output folder (default .cache/bench_models)")
    p.add_argument("--force", action="store_true", help="rebuild models already cached")
    a = p.parse_args()
    unknown = [n for n in a.names if n not in builders]
    if unknown:
        p.error(f"unknown models {unknown} (known: {sorted(builders)})")
    for name in a.names or list(builders):
        path = path_of(name, a.out)
        if os.path.exists(path) and not a.force:
            print(f"{name}: {path} (cached)")
            continue
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        t0 = time.perf_counter()
        builders[name](path)
        print(f"{name}: {path} ({os.path.getsize(path) / 2 ** 20:.1f} MB, "
              f"{time.perf_counter() - t0:.1f} s)")
    return 0


def run(builders, doc) -> None:
    sys.exit(main(builders, doc))
