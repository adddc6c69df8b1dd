"""Generated benchmark models: builders (onnx.helper + seeded NumPy weights) and a file cache.

``ensure(name)`` writes ``<cache>/<name>.onnx`` once (default cache: ``.cache/bench_models``
under the current directory, or ``$ONNXRUN_BENCH_CACHE``) and returns its path.
"""

from __future__ import annotations

import os
from typing import Callable, Dict

import onnx

from .sequence import elementwise_chain, lstm
from .transformer import bert, gpt2
from .trees import random_forest
from .vad import vad, vad_fp16
from .vision import detector, mobilenet_v2

#: bump when a builder changes so cached files are rebuilt
VERSION = 1

BUILDERS: Dict[str, Callable[[], onnx.ModelProto]] = {
    "bert_base": bert,
    "gpt2_small": gpt2,
    "mobilenet_v2": mobilenet_v2,
    "lstm": lstm,
    "detector": detector,
    "elementwise_1000": elementwise_chain,
    "random_forest": random_forest,
    "vad": vad,
    "vad_fp16": vad_fp16,
}


def cache_dir() -> str:
    return os.environ.get("ONNXRUN_BENCH_CACHE") or os.path.join(".cache", "bench_models")


def ensure(name: str, directory: str = None) -> str:
    """The path of generated model ``name``, building and caching it on first use."""
    if name not in BUILDERS:
        raise ValueError(f"unknown generated model '{name}' (known: {sorted(BUILDERS)})")
    directory = directory or cache_dir()
    path = os.path.join(directory, f"{name}_v{VERSION}.onnx")
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        model = BUILDERS[name]()
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, path)
    return path
