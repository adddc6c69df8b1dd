"""The conversions behind Cast, CastLike and BitCast: every pair of ONNX tensor types,
strings included, float8 ``saturate`` and float8e8m0 ``round_mode``."""

from __future__ import annotations

import re

import ml_dtypes
import numpy as np
from onnx import TensorProto

from ...errors import InvalidArgument
from ...ir.types import ELEM_TO_DTYPE
from ._common import F32, F64, is_narrow_float, is_narrow_int

OBJ = np.dtype(object)
E8M0 = np.dtype(ml_dtypes.float8_e8m0fnu)
#: float8 types whose out-of-range behaviour the ``saturate`` attribute controls.
FLOAT8_SAT = frozenset(np.dtype(getattr(ml_dtypes, n)) for n in (
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz"))
ROUND_MODES = ("up", "down", "nearest")


def dtype_from_to(to) -> np.dtype:
    """NumPy dtype of a Cast ``to`` attribute (an element type, or its name before opset 6)."""
    if isinstance(to, str):
        try:
            to = TensorProto.DataType.Value(to.upper())
        except ValueError:
            raise InvalidArgument(f"Cast 'to' names an unknown data type {to!r}") from None
    try:
        return ELEM_TO_DTYPE[int(to)]
    except KeyError:
        raise InvalidArgument(f"Cast 'to' is not a supported tensor element type: {to}") from None


# ---- numbers -> strings ------------------------------------------------------------------

_SPECIAL = {"nan": "NaN", "-nan": "NaN", "inf": "INF", "-inf": "-INF"}


def _float_str(v: float) -> str:
    s = "%.8g" % v
    return _SPECIAL.get(s, s)


def to_strings(x: np.ndarray) -> np.ndarray:
    """Numbers formatted as onnxruntime does: floats with 8 significant digits ('%.8g', 'NaN',
    'INF', '-INF'), integers in decimal, bools as '1'/'0'."""
    if x.dtype == OBJ:
        return x.copy()
    if x.dtype.kind == "U" or x.dtype.kind == "S":
        return x.astype(str).astype(object)
    if x.dtype == np.bool_:
        vals = ["1" if v else "0" for v in x.ravel().tolist()]
    elif x.dtype.kind in "iu":
        vals = [str(v) for v in x.ravel().tolist()]
    elif is_narrow_int(x.dtype):
        vals = [str(v) for v in x.astype(np.int64).ravel().tolist()]
    else:
        src = x if x.dtype == F64 or x.dtype == F32 else x.astype(F32)
        vals = [_float_str(v) for v in src.ravel().tolist()]
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out.reshape(x.shape)


# ---- strings -> numbers ------------------------------------------------------------------

_INT_RE = re.compile(r"\s*([+-]?\d+)")
_FLOAT_RE = re.compile(
    r"\s*([+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))", re.IGNORECASE)


def _parse_int(s: str) -> int:
    m = _INT_RE.match(s)
    if m is None:
        raise InvalidArgument(f"cannot convert string {s!r} to an integer")
    return int(m.group(1))


def _parse_float(s: str) -> float:
    m = _FLOAT_RE.match(s)
    if m is None:
        raise InvalidArgument(f"cannot convert string {s!r} to a number")
    t = m.group(1)
    if "x" in t or "X" in t:
        neg = t.startswith("-")
        body = t.lstrip("+-")
        v = float.fromhex(body if "p" in body.lower() else body + "p0")
        return -v if neg else v
    return float(t)


def _strings_to_float64(x: np.ndarray) -> np.ndarray:
    flat = [_parse_float(str(s)) for s in x.ravel().tolist()]
    return np.array(flat, dtype=F64).reshape(x.shape)


def _strings_to_ints(x: np.ndarray, unsigned: bool) -> np.ndarray:
    vals = [_parse_int(str(s)) for s in x.ravel().tolist()]
    lo, hi = (0, 2**64 - 1) if unsigned else (-2**63, 2**63 - 1)
    for v in vals:
        if unsigned and -2**64 < v < 0:
            continue  # strtoull accepts a minus sign and wraps
        if not lo <= v <= hi:
            raise InvalidArgument(f"string value {v} is out of range for a 64-bit integer")
    if unsigned:
        return np.array([v & 0xFFFFFFFFFFFFFFFF for v in vals], dtype=np.uint64).reshape(x.shape)
    return np.array(vals, dtype=np.int64).reshape(x.shape)


def from_strings(x: np.ndarray, target: np.dtype, saturate: bool, round_mode: str) -> np.ndarray:
    """Strings parsed like onnxruntime (strtod for floats, strtoll/strtoull for integers;
    'INF', 'NaN' case-insensitive), then converted to ``target``."""
    if target == OBJ:
        return x.copy()
    if target == np.bool_ or target.kind in "iu" or is_narrow_int(target):
        signed = target.kind == "i" or target.name.startswith("int")
        ints = _strings_to_ints(x, unsigned=not signed)
        return cast_numeric(ints, target, saturate, round_mode)
    return cast_numeric(_strings_to_float64(x), target, saturate, round_mode)


# ---- numbers -> numbers ------------------------------------------------------------------

def _to_e8m0(x: np.ndarray, saturate: bool, round_mode: str) -> np.ndarray:
    """Float -> float8e8m0 (powers of two 2**-127 .. 2**127, code 255 is NaN)."""
    if x.dtype != F64 and x.dtype != F32:
        x = x.astype(F64 if x.dtype.kind in "iu" else F32)
    a = np.abs(x)
    m, e = np.frexp(a)  # a = m * 2**e, m in [0.5, 1)
    e = e.astype(np.int64)
    if round_mode == "up":
        k = np.where(m == 0.5, e - 1, e)
    elif round_mode == "down":
        k = e - 1
    else:  # nearest, ties up
        k = np.where(m >= 0.75, e, e - 1)
    code = k + 127
    over = (code > 254) | np.isinf(a)
    under = (code < 0) | (a == 0)
    if saturate:
        code = np.clip(code, 0, 254)
        code = np.where(under, 0, code)
        code = np.where(over, 254, code)
    else:
        code = np.where(over | under, 255, code)
    code = np.where(np.isnan(a), 255, code)
    return code.astype(np.uint8).view(E8M0)


def _narrow_bits(target: np.dtype) -> int:
    return 4 if "4" in target.name else 2


def _wrap_int(v: np.ndarray, target: np.dtype) -> np.ndarray:
    """Integers -> sub-byte int type, keeping the low bits (two's complement)."""
    bits = _narrow_bits(target)
    w = np.bitwise_and(v.astype(np.int64, copy=False), (1 << bits) - 1)
    if target.name.startswith("int"):
        w = np.where(w >= (1 << (bits - 1)), w - (1 << bits), w)
    return w.astype(np.int8).astype(target)


def _float_to_narrow_int(x: np.ndarray, target: np.dtype) -> np.ndarray:
    """Floats -> INT4 / UINT4 / INT2 / UINT2, onnxrun's rule (not ml_dtypes'):

    * round to the nearest integer, ties to even, then keep the low 4 (or 2) bits of the
      two's-complement value: ONNX's rule (docs/technical/int4.md: "rounding to the nearest
      even integer and truncating"), so 9 -> INT4 -7, -9 -> INT4 7, 17 -> UINT4 1;
    * NaN and +-inf -> 0 (ONNX leaves them undefined; onnxruntime gives 0 too).

    onnxruntime (1.32, measured) keeps the low bits as well but rounds exact halves away from
    zero (2.5 -> 3, -0.5 -> -1), where ONNX and onnxrun give 2 and 0; that is the only
    difference. ml_dtypes' own float -> int4 conversion changed between releases (0.5 keeps the
    low bits of the truncated value; 0.7 maps out-of-range values to 0), so it is not used for
    values outside the target's range: the result is reduced into range first, exactly
    (``fmod`` of an integral float is exact at any magnitude), and only in-range integers reach
    ml_dtypes.
    """
    bits = _narrow_bits(target)
    span = float(1 << bits)
    r = np.fmod(np.rint(x.astype(F64, copy=False)), span)  # in (-span, span), or NaN
    r = np.where(r < 0, r + span, r)
    r = np.where(np.isfinite(r), r, 0.0)
    if target.name.startswith("int"):
        r = np.where(r >= span / 2, r - span, r)
    return r.astype(np.int8).astype(target)


def cast_numeric(x: np.ndarray, target: np.dtype, saturate: bool = True,
                 round_mode: str = "up") -> np.ndarray:
    """Numeric (or bool) tensor ``x`` converted to ``target`` by ONNX Cast rules."""
    src = x.dtype
    if target == OBJ:
        return to_strings(x)
    if src == OBJ:
        return from_strings(x, target, saturate, round_mode)
    if src == target:
        return x.copy()
    # widen the ml_dtypes sources to plain NumPy types (exact)
    if is_narrow_int(src):
        x = x.astype(np.int8 if src.name.startswith("int") else np.uint8)
    elif is_narrow_float(src):
        x = x.astype(F32)
    if target == np.bool_:
        return x.astype(np.bool_)
    if target == E8M0:
        return _to_e8m0(x, saturate, round_mode)
    if is_narrow_int(target):
        if x.dtype.kind == "f":
            return _float_to_narrow_int(x, target)
        return _wrap_int(x, target)
    if target in FLOAT8_SAT:
        if x.dtype.kind in "iub":
            x = x.astype(F64)
        if saturate:
            mx = float(ml_dtypes.finfo(target).max)
            x = np.clip(x, -mx, mx)  # +-inf saturate too, NaN stays
        return x.astype(target)
    if is_narrow_float(target) and x.dtype.kind in "iub":
        x = x.astype(F64)
    return x.astype(target)


# ---- BitCast -----------------------------------------------------------------------------

def bit_width(dt: np.dtype) -> int:
    """Bits per element of an ONNX type held in NumPy dtype ``dt``."""
    if is_narrow_int(dt) or is_narrow_float(dt):
        name = dt.name
        if "4" in name and ("int" in name or "float4" in name):
            return 4
        if name in ("int2", "uint2"):
            return 2
        if name.startswith("float6"):
            return 6
        return dt.itemsize * 8
    return dt.itemsize * 8


def bitcast(x: np.ndarray, target: np.dtype) -> np.ndarray:
    """Reinterpret the bits of ``x`` as ``target`` (same bit width, little endian)."""
    if x.dtype == OBJ or target == OBJ:
        raise InvalidArgument("BitCast does not support string tensors")
    wa, wb = bit_width(x.dtype), bit_width(target)
    if wa != wb:
        raise InvalidArgument(f"BitCast needs types of the same bit width: {x.dtype} has {wa} "
                              f"bits, {target} has {wb}")
    src = x if x.dtype.byteorder in "=|<" else x.astype(x.dtype.newbyteorder("<"))
    if target == np.bool_:
        return src.view(np.uint8) != 0
    if not src.flags.c_contiguous:
        src = src.copy()
    if wa < 8:
        raw = src.view(np.uint8) & np.uint8((1 << wa) - 1)
        return raw.view(target).copy()
    return src.view(target).copy()
