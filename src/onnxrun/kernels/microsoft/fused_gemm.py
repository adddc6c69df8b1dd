"""FusedGemm (com.microsoft): Gemm followed by an activation (onnxruntime's Gemm+activation
fusion). onnxruntime has no defaults for the activation's parameters, so missing ones are
errors here too."""

from __future__ import annotations

from ..base import OpKernel
from ..nn.gemm import Gemm
from ..registry import kernel
from ._fused_activation import gemm_activation
from ._transformer import DOMAIN, require_inputs


@kernel("FusedGemm", since=1, domain=DOMAIN, fresh=True)
class FusedGemm(OpKernel):
    """activation(alpha * A' @ B' + beta * C); Gemm's attributes plus ``activation`` and
    ``activation_alpha`` / ``activation_beta`` / ``activation_gamma``."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "A", "B")
        self.gemm = Gemm(info)
        self.act = gemm_activation(info)

    def __call__(self, A, B, C=None):
        return self.act(self.gemm(A, B, C))
