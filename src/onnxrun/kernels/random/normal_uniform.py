"""RandomNormal, RandomUniform and their *Like variants (opset 1, 22).

A ``seed`` attribute gives a fresh ``np.random.default_rng`` per call (the same draws on every
run); without one, draws come from the process-wide generator in ``kernels._random_state``.
Draws cannot match onnxruntime's (a different generator)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_shape, float_dtype, normal01, rng_for, seed_value, uniform01


class _RandomBase(OpKernel):
    """Parses dtype/seed; subclasses give ``params`` and ``draw``."""

    like = False

    def __init__(self, info) -> None:
        super().__init__(info)
        self.seed = seed_value(info.attr("seed"))
        self.limit = getattr(info, "max_tensor_bytes", None)
        dt = info.attr("dtype")
        if self.like:
            self.dtype = None if dt is None else float_dtype(dt, info.op_type)
        else:
            self.dtype = float_dtype(1 if dt is None else dt, info.op_type)
            self.shape = check_shape(info.require_attr("shape"), self.dtype, self.limit,
                                     info.op_type)

    def _target(self, input):
        if not self.like:
            return self.shape, self.dtype
        if not isinstance(input, np.ndarray):
            raise InvalidArgument(f"{self.info.op_type} input must be a tensor")
        dtype = self.dtype
        if dtype is None:
            dtype = input.dtype
            if dtype not in (np.float16, np.float32, np.float64) and dtype.name != "bfloat16":
                raise InvalidArgument(f"{self.info.op_type}: input type {dtype} is not a float "
                                      "type and no dtype attribute was given")
        return check_shape(input.shape, dtype, self.limit, self.info.op_type), dtype

    def __call__(self, input=None):
        shape, dtype = self._target(input)
        out = self.draw(rng_for(self.seed), shape, dtype)
        return out.astype(dtype, copy=False)


class _Normal(_RandomBase):
    def __init__(self, info) -> None:
        super().__init__(info)
        self.mean = float(info.attr("mean", 0.0))
        self.scale = float(info.attr("scale", 1.0))

    def draw(self, rng, shape, dtype):
        z = normal01(rng, shape, dtype)
        z *= z.dtype.type(self.scale)
        z += z.dtype.type(self.mean)
        return z


class _Uniform(_RandomBase):
    def __init__(self, info) -> None:
        super().__init__(info)
        self.low = float(info.attr("low", 0.0))
        self.high = float(info.attr("high", 1.0))

    def draw(self, rng, shape, dtype):
        u = uniform01(rng, shape, dtype)
        u *= u.dtype.type(self.high - self.low)
        u += u.dtype.type(self.low)
        return u


@kernel("RandomNormal", since=1, fresh=True)
class RandomNormal(_Normal):
    """Normal draws of the ``shape`` attribute: ``mean + scale * N(0, 1)``."""


@kernel("RandomNormalLike", since=1, fresh=True)
class RandomNormalLike(_Normal):
    """Normal draws shaped like the input (its dtype unless ``dtype`` is given)."""

    like = True


@kernel("RandomUniform", since=1, fresh=True)
class RandomUniform(_Uniform):
    """Uniform draws in [low, high) of the ``shape`` attribute."""


@kernel("RandomUniformLike", since=1, fresh=True)
class RandomUniformLike(_Uniform):
    """Uniform draws in [low, high) shaped like the input."""

    like = True
