"""Conv and FusedConv (Conv + activation, com.onnxrun) on the Numba provider: 2-D depthwise
convs (one input channel per group, any channel multiplier) and grouped convs with up to
``MAX_GROUP_CHANNELS`` input channels per group and a kernel larger than 1x1; float32 and
float64, constant weights; any kernel size, stride, dilation, padding and auto_pad. Dense
convs, grouped ones with more input channels per group and grouped 1x1 convs stay on the CPU
provider, where BLAS's GEMM does them as well or better (scripts/bench_depthwise.py
--grouped --claim-all measures both).

The compiled kernel (``_conv2d``) is chosen at initialization from the kernel size, strides,
dilations, activation and dtype; a run splits the output channels over the session's intra-op
threads (every channel is computed the same way whatever the split, so results do not depend
on the thread count)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..nn._common import conv_attrs, out_shape_and_pads, spatial_params
from ..registry import kernel
from . import PROVIDER

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: grouped convs with at most this many input channels per group are claimed (measured with
#: scripts/bench_depthwise.py --grouped --claim-all, one thread: 1.3-1.5x NumPy's time at 16
#: input channels per group, 2-3x at 2-8, slower than NumPy at 32; dense convs with few input
#: channels gain less than 1.4x and lose with 7x7 kernels)
MAX_GROUP_CHANNELS = 16
#: fused activations the compiled epilogue has (FusedConv's ``activation`` attribute)
ACTIVATIONS = ("Relu", "Clip", "HardSigmoid", "HardSwish", "LeakyRelu", "Sigmoid", "Tanh")
#: kernel taps (outputs x filter size) per thread block: below this a split costs more than
#: it saves (a block takes some tens of microseconds)
GRAIN = 400_000
#: blocks per thread for large layers, so that a thread the OS runs late holds up little
BLOCKS_PER_THREAD = 4


def _const(info, i):
    return info.const_inputs[i] if len(info.const_inputs) > i else None


def supports(info) -> bool:
    """Depthwise and grouped 2-D convs (see the module docstring) with constant float32 or
    float64 weights (and constant or no bias)."""
    W = _const(info, 1)
    if W is None or W.ndim != 4 or W.dtype not in DTYPES:
        return False
    if len(info.input_names) > 2 and info.input_names[2] and _const(info, 2) is None:
        return False
    group = info.attr("group", 1)
    if not isinstance(group, int) or group < 1 or W.shape[0] % group:
        return False
    cg, taps = W.shape[1], W.shape[2] * W.shape[3]
    if group == 1 or cg > MAX_GROUP_CHANNELS or (cg > 1 and taps == 1):
        return False
    act = info.attr("activation")
    return act is None or act in ACTIVATIONS


@kernel("FusedConv", since=1, domain="com.onnxrun", provider=PROVIDER, supports=supports,
        fresh=True)
@kernel("Conv", since=1, provider=PROVIDER, supports=supports, fresh=True)
class NumbaConv(OpKernel):
    """A 2-D conv with weights (M, Cg, kh, kw) and ``group * Cg`` input channels."""

    def __init__(self, info):
        super().__init__(info)
        from . import _common, _conv2d  # numba is imported here, at session initialization
        conv_attrs(self, info)
        W = _const(info, 1)
        B = _const(info, 2)
        M, Cg, kh, kw = W.shape
        if self.kernel_shape is not None and list(self.kernel_shape) != [kh, kw]:
            raise InvalidArgument(f"kernel_shape {self.kernel_shape} does not match W's shape "
                                  f"{W.shape}")
        if B is not None and B.shape != (M,):
            raise InvalidArgument(f"B must have shape ({M},), got {B.shape}")
        (sh, sw), (dh, dw), self.pads = spatial_params(2, [kh, kw], self.strides,
                                                       self.dilations, self.pads)
        self.ks, self.st, self.dil = [kh, kw], [sh, sw], [dh, dw]
        self.dtype = W.dtype
        self.channels = Cg * self.group
        self.w = np.array(W.reshape(M, Cg * kh * kw), order="C")
        self.b = (np.zeros(M, self.dtype) if B is None
                  else np.array(B, dtype=self.dtype, order="C"))
        act = info.attr("activation")
        self.k = _common.epilogue_constants(self.dtype, info.attr("activation_params") or ())
        self.fn = _conv2d.kernel(kh, kw, sh, sw, dh, dw, _common.ACTIVATIONS[act], self.dtype)
        self.pool = info.intra_op
        self._geometry = {}

    def __call__(self, X, W=None, B=None):
        M = self.w.shape[0]
        if X.ndim != 4:
            raise InvalidArgument(f"X must have rank 4 (N, C, H, W), got shape {X.shape}")
        if X.shape[1] != self.channels:
            raise InvalidArgument(f"X has {X.shape[1]} channels but W expects "
                                  f"{self.channels // self.group} x group {self.group} = "
                                  f"{self.channels}")
        if X.dtype != self.dtype:
            raise InvalidArgument(f"X has dtype {X.dtype} but W has {self.dtype}")
        geo = self._geometry.get(X.shape)
        if geo is None:
            out_sp, pb, _ = out_shape_and_pads(X.shape[2:], self.ks, self.st, self.dil,
                                               self.pads, self.auto_pad)
            geo = (tuple(out_sp), pb[0], pb[1])
            if len(self._geometry) < 64:
                self._geometry[X.shape] = geo
        (oh, ow), pt, pl = geo
        N = X.shape[0]
        Y = np.empty((N, M, oh, ow), dtype=self.dtype)
        if Y.size == 0:
            return Y
        x = np.ascontiguousarray(X)
        fn, w, b, k, G = self.fn, self.w, self.b, self.k, self.group
        taps = N * M * oh * ow * self.w.shape[1]
        pool = self.pool
        pool.parallel_for(N * M, lambda u0, u1: fn(x, w, b, Y, G, pt, pl, u0, u1, k),
                          min(BLOCKS_PER_THREAD * pool.num_threads, taps // GRAIN))
        return Y
