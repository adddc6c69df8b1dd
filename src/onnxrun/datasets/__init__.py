"""Example models (``get_example``), the same names as onnxruntime ships: ``mul_1.onnx``,
``sigmoid.onnx``, ``logreg_iris.onnx``. They are built by ``scripts/make_datasets.py``."""

from __future__ import annotations

import os


def get_example(name: str) -> str:
    """The absolute path of the example model ``name``."""
    full = os.path.join(os.path.abspath(os.path.dirname(__file__)), name)
    if not os.path.exists(full):
        raise FileNotFoundError(f"Unable to find example '{name}'")
    return full
