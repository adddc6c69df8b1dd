"""The process-wide random generator random ops draw from when no seed attribute is given."""

import threading

import numpy as np

_lock = threading.Lock()
_rng = np.random.default_rng()


def seed(value: int) -> None:
    global _rng
    with _lock:
        _rng = np.random.default_rng(value)


def generator() -> np.random.Generator:
    return _rng
