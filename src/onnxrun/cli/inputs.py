"""Inputs for command-line runs: from .npy files or random data of the right type and shape."""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ..ir.types import dtype_of


def parse_pairs(items: Optional[List[str]], what: str) -> Dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{what} '{item}' is not NAME=VALUE")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def random_value(arg, dims: Dict[str, int], rng: np.random.Generator, default_dim: int = 1):
    """A random value for NodeArg ``arg`` (symbolic dims from ``dims``, else ``default_dim``)."""
    from ..ir.types import ELEM_TYPE_NAMES
    type_str = arg.type
    if not type_str.startswith("tensor("):
        raise ValueError(f"input '{arg.name}' has type {type_str}; give it with --input")
    name = type_str[len("tensor("):-1]
    elem = next(k for k, v in ELEM_TYPE_NAMES.items() if v == name)
    dtype = dtype_of(elem)
    shape = []
    for d in arg.shape:
        if isinstance(d, int):
            shape.append(d)
        elif isinstance(d, str) and d in dims:
            shape.append(int(dims[d]))
        else:
            shape.append(default_dim)
    if dtype == object:
        return np.array(["text"] * int(np.prod(shape)), dtype=object).reshape(shape)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(np.float32).astype(dtype)


def make_feeds(sess, input_files: Dict[str, str], dims: Dict[str, int], seed: int = 0):
    rng = np.random.default_rng(seed)
    feeds = {}
    for arg in sess.get_inputs():
        if arg.name in input_files:
            feeds[arg.name] = np.load(input_files[arg.name], allow_pickle=False)
        else:
            feeds[arg.name] = random_value(arg, dims, rng)
    unknown = set(input_files) - set(feeds)
    if unknown:
        raise ValueError(f"--input names not among the model's inputs: {sorted(unknown)}")
    return feeds
