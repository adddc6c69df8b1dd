"""FusedConv (com.onnxrun): Conv followed by an activation, applied in place on the
convolution's fresh output. Created by the optimizer's activation fusion."""

from __future__ import annotations

import copy

from ..base import OpKernel
from ..nn.conv import Conv
from ..registry import kernel
from . import _activation

DOMAIN = "com.onnxrun"


def inner_conv(info) -> Conv:
    """The Conv kernel of a fused node: its attributes without the activation ones."""
    inner = copy.copy(info)
    inner.attrs = {k: v for k, v in info.attrs.items()
                   if k not in ("activation", "activation_params")}
    return Conv(inner)


@kernel("FusedConv", since=1, domain=DOMAIN, fresh=True)
class FusedConv(OpKernel):
    """Conv attributes plus ``activation`` (op name) and ``activation_params`` (floats)."""

    def __init__(self, info):
        super().__init__(info)
        self.conv = inner_conv(info)
        self.act = _activation.make(info.attrs["activation"],
                                    info.attrs.get("activation_params", []))

    def __call__(self, X, W, B=None):
        return self.act(self.conv(X, W, B))
