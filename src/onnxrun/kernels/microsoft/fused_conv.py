"""FusedConv (com.microsoft): Conv + bias + optional sum input Z, then an activation, all on the
convolution's fresh output: Y = activation(Conv(X, W) + B + Z)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..fused import _activation
from ..fused.conv_activation import inner_conv
from ..registry import kernel
from ._transformer import DOMAIN, require_inputs

#: onnxruntime's (MLAS) FusedConv activations and their activation_params counts
_CONV_ACTIVATIONS = {"Relu": 0, "Tanh": 0, "Sigmoid": 0, "HardSwish": 0, "LeakyRelu": 1,
                     "Clip": 2, "HardSigmoid": 2}


@kernel("FusedConv", since=1, domain=DOMAIN, fresh=True)
class FusedConv(OpKernel):
    """Conv attributes plus ``activation`` (none: identity) and ``activation_params``."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "X", "W")
        self.conv = inner_conv(info)
        name = info.attr("activation", "")
        if isinstance(name, bytes):
            name = name.decode()
        self.act = None
        if name:
            if name not in _CONV_ACTIVATIONS:
                raise InvalidArgument(f"activation {name!r} is not supported; expected one of "
                                      f"{sorted(_CONV_ACTIVATIONS)}")
            params = [float(p) for p in info.attr("activation_params", [])]
            if len(params) != _CONV_ACTIVATIONS[name]:
                raise InvalidArgument(f"activation {name} needs {_CONV_ACTIVATIONS[name]} "
                                      f"activation_params, got {len(params)}")
            self.act = _activation.make(name, params)

    def __call__(self, X, W, B=None, Z=None):
        y = self.conv(X, W, B)
        if Z is not None:
            if Z.shape != y.shape:
                raise InvalidArgument(f"Z must have the output's shape {y.shape}, got {Z.shape}")
            np.add(y, Z, out=y, casting="unsafe")
        return self.act(y) if self.act is not None else y
