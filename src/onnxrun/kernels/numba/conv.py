"""Conv and FusedConv (Conv + activation, com.onnxrun) on the Numba provider.

* Direct compiled convs (``_conv2d``): 2-D depthwise convs (one input channel per group, any
  channel multiplier) and grouped convs with up to ``MAX_GROUP_CHANNELS`` input channels per
  group and a kernel larger than 1x1; any kernel size, stride, dilation, padding and
  auto_pad. The kernel is chosen at initialization from the kernel size, strides, dilations,
  activation and dtype; a run splits the output channels over the session's intra-op threads
  (every channel is computed the same way whatever the split, so results do not depend on the
  thread count).
* Other FusedConvs with an activation in ``EPILOGUE_ACTIVATIONS``: the CPU provider's conv
  (BLAS) followed by one compiled in-place activation pass (``_epilogue``), where NumPy's
  HardSwish makes four passes and a temporary.

float32 and float64, constant weights (and constant or no bias). Everything else stays on the
CPU provider: dense convs without such an activation and grouped convs with more input
channels per group (BLAS's GEMM does them as well or better: scripts/bench_depthwise.py
--grouped --claim-all measures both), grouped 1x1 convs, float16, weights fed at run time."""

from __future__ import annotations

import copy

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
#: fused activations the direct kernels take (FusedConv's ``activation`` attribute)
ACTIVATIONS = ("Relu", "Clip", "HardSigmoid", "HardSwish", "LeakyRelu", "Sigmoid", "Tanh")
#: ... of these, applied by NumPy after the compiled conv (Numba's exp and tanh are scalar
#: libm calls, 3x and 30x slower than NumPy's vectorized loops)
NUMPY_ACTIVATIONS = ("Sigmoid", "Tanh")
#: dense FusedConvs with these activations are claimed for the compiled epilogue (NumPy makes
#: several passes and a temporary for them; Relu and Clip are one NumPy clip pass already, and
#: claiming them would make models such as small 1-D conv nets import Numba for nothing)
EPILOGUE_ACTIVATIONS = ("HardSigmoid", "HardSwish")
#: kernel taps (outputs x filter size) per thread block, about 100 us of work: handing a
#: block to a sleeping worker thread costs about 100 us on this project's 2-CPU VM (measured
#: with a do-nothing kernel: 2 blocks of 12 us take 50-70 us), so smaller layers run on the
#: calling thread alone
GRAIN = 2_000_000
#: blocks per thread for large layers, so that a thread the OS runs late holds up little
BLOCKS_PER_THREAD = 4
#: output elements per thread block of the epilogue pass (about 100 us too)
EPILOGUE_GRAIN = 1 << 20


def _const(info, i):
    return info.const_inputs[i] if len(info.const_inputs) > i else None


def _direct(info, W) -> bool:
    """Whether the direct kernel takes this conv (depthwise, or grouped with few channels)."""
    group = info.attr("group", 1)
    if W.ndim != 4 or not isinstance(group, int) or group <= 1 or W.shape[0] % group:
        return False
    cg, taps = W.shape[1], W.shape[2] * W.shape[3]
    return cg == 1 or (cg <= MAX_GROUP_CHANNELS and taps > 1)


def supports(info) -> bool:
    """Convs the direct kernel takes, and FusedConvs with an epilogue activation; constant
    float32 or float64 weights (and constant or no bias) in both cases."""
    W = _const(info, 1)
    if W is None or W.ndim < 3 or W.dtype not in DTYPES:
        return False
    if len(info.input_names) > 2 and info.input_names[2] and _const(info, 2) is None:
        return False
    act = info.attr("activation")
    if _direct(info, W):
        return act is None or act in ACTIVATIONS
    return act in EPILOGUE_ACTIVATIONS


@kernel("FusedConv", since=1, domain="com.onnxrun", provider=PROVIDER, supports=supports,
        fresh=True)
@kernel("Conv", since=1, provider=PROVIDER, supports=supports, fresh=True)
class NumbaConv(OpKernel):
    """A direct compiled conv, or a dense FusedConv's CPU conv plus compiled epilogue."""

    def __init__(self, info):
        super().__init__(info)
        impl = DirectConv if _direct(info, _const(info, 1)) else EpilogueConv
        self.impl = impl(info)

    def __call__(self, X, W=None, B=None):
        return self.impl(X, W, B)


class DirectConv:
    """A 2-D conv with weights (M, Cg, kh, kw) and ``group * Cg`` input channels, compiled."""

    def __init__(self, info):
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
        params = info.attr("activation_params") or ()
        self.post = None
        if act in NUMPY_ACTIVATIONS:
            from ..fused import _activation
            act, self.post = None, _activation.make(act, params)
        self.k = _common.epilogue_constants(self.dtype, params)
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
                          max(1, min(BLOCKS_PER_THREAD * pool.num_threads, taps // GRAIN)))
        return Y if self.post is None else self.post(Y)


class EpilogueConv:
    """A FusedConv the direct kernel does not take: the CPU provider's Conv (BLAS), then its
    activation in one compiled pass over the fresh output, split over the intra-op threads."""

    def __init__(self, info):
        from ..nn.conv import Conv
        from . import _common, _epilogue  # numba is imported here, at session initialization
        inner = copy.copy(info)
        inner.attrs = {k: v for k, v in info.attrs.items()
                       if k not in ("activation", "activation_params")}
        self.conv = Conv(inner)
        self.dtype = _const(info, 1).dtype
        self.k = _common.epilogue_constants(self.dtype, info.attr("activation_params") or ())
        self.fn = _epilogue.kernel(_common.ACTIVATIONS[info.attr("activation")], self.dtype)
        self.pool = info.intra_op

    def __call__(self, X, W, B=None):
        if X.dtype != self.dtype:
            raise InvalidArgument(f"X has dtype {X.dtype} but W has {self.dtype}")
        Y = self.conv(X, W, B)
        if Y.size == 0:
            return Y
        Y = np.ascontiguousarray(Y)
        rows = Y.reshape(Y.shape[0] * Y.shape[1], -1)
        fn, k, pool = self.fn, self.k, self.pool
        pool.parallel_for(rows.shape[0], lambda r0, r1: fn(rows, r0, r1, k),
                          max(1, min(BLOCKS_PER_THREAD * pool.num_threads,
                                     Y.size // EPILOGUE_GRAIN)))
        return Y
