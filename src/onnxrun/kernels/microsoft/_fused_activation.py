"""Activations of FusedGemm: onnxruntime's element-wise activation functors, named by
``activation`` with parameters in ``activation_alpha`` / ``activation_beta`` /
``activation_gamma``. The ONNX ones run onnxrun's own kernels; ParametricSoftplus and
ScaledTanh (onnxruntime-only) are written here."""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np

from ...errors import InvalidArgument
from ..activation._common import as_compute, back
from ..fused import _activation as fused_activation
from ..math._common import F32, F64
from ..registry import REGISTRY

#: activation -> the parameters onnxruntime requires for it (it has no defaults for them)
GEMM_ACTIVATIONS = {
    "Relu": (), "Sigmoid": (), "Tanh": (), "Softsign": (), "Softplus": (),
    "Elu": ("alpha",), "Celu": ("alpha",), "LeakyRelu": ("alpha",), "ThresholdedRelu": ("alpha",),
    "HardSigmoid": ("alpha", "beta"), "Selu": ("alpha", "gamma"),
    "ParametricSoftplus": ("alpha", "beta"), "ScaledTanh": ("alpha", "beta"),
}


class _ActivationInfo:
    """The part of OpKernelInfo an activation kernel reads, for building one from attributes."""

    def __init__(self, op_type: str, attrs: Dict[str, float]) -> None:
        self.op_type, self.name, self.domain = op_type, "", ""
        self.attrs = attrs

    def attr(self, name, default=None):
        return self.attrs.get(name, default)

    def describe(self) -> str:
        return f"fused activation {self.op_type}"


def _parametric_softplus(alpha, beta):
    def fn(y):
        c = as_compute(y, "ParametricSoftplus")
        t = c * c.dtype.type(beta)
        return back(np.logaddexp(t, c.dtype.type(0)) * c.dtype.type(alpha), y.dtype)
    return fn


def _scaled_tanh(alpha, beta):
    def fn(y):
        c = as_compute(y, "ScaledTanh")
        return back(np.tanh(c * c.dtype.type(beta)) * c.dtype.type(alpha), y.dtype)
    return fn


def gemm_activation(info) -> Callable[[np.ndarray], np.ndarray]:
    """``f(y) -> activation(y)`` for a FusedGemm node (attributes validated here)."""
    name = info.attr("activation")
    if isinstance(name, bytes):
        name = name.decode()
    if name not in GEMM_ACTIVATIONS:
        raise InvalidArgument(f"activation {name!r} is not supported; expected one of "
                              f"{sorted(GEMM_ACTIVATIONS)}")
    params = {}
    for p in GEMM_ACTIVATIONS[name]:
        v = info.attr("activation_" + p)
        if v is None:
            raise InvalidArgument(f"activation {name} needs attribute activation_{p}")
        params[p] = float(v)
    if name == "ParametricSoftplus":
        return _parametric_softplus(params["alpha"], params["beta"])
    if name == "ScaledTanh":
        return _scaled_tanh(params["alpha"], params["beta"])
    kdef = REGISTRY.lookup("", name, 10**6)
    onnx_kernel = kdef.factory(_ActivationInfo(name, params))
    if name not in fused_activation.SUPPORTED:
        return onnx_kernel
    # float32/float64 Gemm outputs are fresh arrays: apply the activation in place
    in_place = fused_activation.make(name, list(params.values()))
    return lambda y: in_place(y) if y.dtype == F32 or y.dtype == F64 else onnx_kernel(y)
