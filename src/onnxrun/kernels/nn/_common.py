"""Shared helpers of the nn family: attribute parsing, padding/output-shape arithmetic,
window extraction (im2col) and dtype handling."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...errors import InvalidArgument

_AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def auto_pad_attr(info) -> str:
    """The node's ``auto_pad`` attribute, validated."""
    ap = info.attr("auto_pad", "NOTSET")
    if isinstance(ap, bytes):
        ap = ap.decode()
    ap = ap or "NOTSET"
    if ap not in _AUTO_PADS:
        raise InvalidArgument(f"auto_pad must be one of {_AUTO_PADS}, got {ap!r}")
    return ap


def ints_attr(info, name: str) -> Optional[List[int]]:
    """An INTS attribute as a list of Python ints, or None when absent."""
    v = info.attr(name)
    return None if v is None else [int(x) for x in v]


def conv_attrs(kernel, info) -> None:
    """Set the attributes Conv and ConvTranspose share on ``kernel``: auto_pad, group,
    kernel_shape, strides, dilations, pads."""
    kernel.auto_pad = auto_pad_attr(info)
    kernel.group = int(info.attr("group", 1))
    if kernel.group < 1:
        raise InvalidArgument(f"group must be >= 1, got {kernel.group}")
    kernel.kernel_shape = ints_attr(info, "kernel_shape")
    kernel.strides = ints_attr(info, "strides")
    kernel.dilations = ints_attr(info, "dilations")
    kernel.pads = ints_attr(info, "pads")


def spatial_params(nsp: int, kernel: Sequence[int], strides, dilations, pads):
    """Fill defaults (1 stride, 1 dilation, 0 pads) and check lengths against ``nsp``."""
    strides = list(strides) if strides else [1] * nsp
    dilations = list(dilations) if dilations else [1] * nsp
    pads = list(pads) if pads else [0] * (2 * nsp)
    if len(kernel) != nsp or len(strides) != nsp or len(dilations) != nsp or len(pads) != 2 * nsp:
        raise InvalidArgument(
            f"expected {nsp} spatial dims in kernel_shape/strides/dilations and {2 * nsp} pads, "
            f"got kernel_shape={list(kernel)} strides={strides} dilations={dilations} pads={pads}")
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations) or any(k < 1 for k in kernel):
        raise InvalidArgument("strides, dilations and kernel_shape must be positive")
    if any(p < 0 for p in pads):
        raise InvalidArgument(f"pads must be non-negative, got {pads}")
    return strides, dilations, pads


def out_shape_and_pads(in_sp: Sequence[int], kernel, strides, dilations, pads, auto_pad: str,
                       ceil_mode: bool = False) -> Tuple[List[int], List[int], List[int]]:
    """Output spatial shape, begin pads and end pads (the end pads include any extra needed by
    ceil_mode so that every output window fits inside the padded input)."""
    nsp = len(in_sp)
    out, pb, pe = [], [], []
    for i in range(nsp):
        n, k, s, d = int(in_sp[i]), kernel[i], strides[i], dilations[i]
        eff = (k - 1) * d + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-n // s)
            total = max(0, (o - 1) * s + eff - n)
            small = total // 2
            b = small if auto_pad == "SAME_UPPER" else total - small
            e = total - b
        elif auto_pad == "VALID":
            b = e = 0
            o = (n - eff) // s + 1 if n >= eff else 0
        else:
            b, e = pads[i], pads[i + nsp]
            span = n + b + e - eff
            if span < 0:
                o = 0
            elif ceil_mode:
                o = -(-span // s) + 1
                # the last window must start inside the input or the begin padding
                if (o - 1) * s >= n + b:
                    o -= 1
            else:
                o = span // s + 1
        o = max(o, 0)
        need = (o - 1) * s + eff if o > 0 else 0
        e_eff = max(e, need - n - b)
        out.append(o)
        pb.append(b)
        pe.append(e_eff)
    return out, pb, pe


def pad_spatial(x: np.ndarray, pb, pe, value=0) -> np.ndarray:
    """Pad the trailing len(pb) axes of x with a constant (no copy when no padding)."""
    if not any(pb) and not any(pe):
        return x
    nsp = len(pb)
    lead = x.ndim - nsp
    shape = x.shape[:lead] + tuple(x.shape[lead + i] + pb[i] + pe[i] for i in range(nsp))
    out = np.empty(shape, dtype=x.dtype)
    out.fill(value)
    sl = (slice(None),) * lead + tuple(slice(pb[i], pb[i] + x.shape[lead + i]) for i in range(nsp))
    out[sl] = x
    return out


def windows(xp: np.ndarray, kernel, strides, dilations, out_sp) -> np.ndarray:
    """A read-only strided view of shape lead + kernel + out_sp over padded ``xp``: element
    [..., k0, k1, o0, o1] is xp[..., o0*s0 + k0*d0, o1*s1 + k1*d1]."""
    nsp = len(kernel)
    lead = xp.ndim - nsp
    st = xp.strides
    shape = xp.shape[:lead] + tuple(kernel) + tuple(out_sp)
    strides_ = (st[:lead] + tuple(st[lead + i] * dilations[i] for i in range(nsp))
                + tuple(st[lead + i] * strides[i] for i in range(nsp)))
    return as_strided(xp, shape=shape, strides=strides_, writeable=False)


def flat_taps_2d(x: np.ndarray, ks, strides, dil, pb, out_sp, fill):
    """Kernel taps of a 2-D window op as long contiguous slices.

    The input, padded with ``fill``, is split into stride x stride phases, each stored flat per
    (n, c); tap (i, j) then reads phase (i*d0 % s0, j*d1 % s1) at one flat offset, so every tap
    is a (N, C, oh * Wq) slice where Wq >= ow is the phase grid's width. Returns
    (list of ((i, j), slice), crop) where ``crop(Y)`` turns a (N, C, oh * Wq) result into a
    contiguous (N, C, oh, ow) array."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = ks, strides, dil
    oh, ow = out_sp
    Hq = max(-(-(H + pb[0]) // sh), oh + ((kh - 1) * dh) // sh)
    Wq = max(-(-(W + pb[1]) // sw), ow + ((kw - 1) * dw) // sw)
    Lq = Hq * Wq
    tail = ((kw - 1) * dw) // sw + 1
    nph = sh * sw
    buf = np.empty((N, C, nph, Lq + tail), dtype=x.dtype)
    buf.fill(fill)
    if nph == 1:
        img = buf[:, :, 0, :Lq].reshape(N, C, Hq, Wq)
        h1, w1 = min(H, Hq - pb[0]), min(W, Wq - pb[1])
        img[:, :, pb[0]:pb[0] + h1, pb[1]:pb[1] + w1] = x[:, :, :h1, :w1]
    else:
        # phase (a, b) holds padded row r*sh + a, column q*sw + b: copied straight from x
        for a in range(sh):
            r0 = max(0, -(-(pb[0] - a) // sh))
            r1 = min(Hq, -(-(H + pb[0] - a) // sh))
            if r1 <= r0:
                continue
            y0 = r0 * sh + a - pb[0]
            for b in range(sw):
                q0 = max(0, -(-(pb[1] - b) // sw))
                q1 = min(Wq, -(-(W + pb[1] - b) // sw))
                if q1 <= q0:
                    continue
                x0 = q0 * sw + b - pb[1]
                img = buf[:, :, a * sw + b, :Lq].reshape(N, C, Hq, Wq)
                img[:, :, r0:r1, q0:q1] = x[:, :, y0:y0 + (r1 - r0 - 1) * sh + 1:sh,
                                            x0:x0 + (q1 - q0 - 1) * sw + 1:sw]
    L = oh * Wq
    taps = []
    for i in range(kh):
        ri, ro = (i * dh) % sh, (i * dh) // sh
        for j in range(kw):
            cj, co = (j * dw) % sw, (j * dw) // sw
            off = ro * Wq + co
            taps.append(((i, j), buf[:, :, ri * sw + cj, off:off + L]))

    def crop(Y):
        Y = Y.reshape(N, C, oh, Wq)
        return np.ascontiguousarray(Y[:, :, :, :ow]) if Wq != ow else Y

    return taps, crop


def compute_dtype(dt: np.dtype) -> np.dtype:
    """The dtype arithmetic runs in: float32 for 16-bit floats (NumPy has no fast half BLAS)."""
    if dt == np.float16 or dt.itemsize == 2 and dt.kind not in "iu" or dt.kind == "V":
        return np.dtype(np.float32)
    if dt.kind in "iub":
        return np.dtype(np.float64) if dt.itemsize >= 4 else np.dtype(np.float32)
    return dt
