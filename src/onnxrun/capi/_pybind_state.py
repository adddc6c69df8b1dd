"""``onnxruntime.capi._pybind_state``: the native module's names (an alias of
:mod:`onnxrun.capi.onnxruntime_pybind11_state`, as in onnxruntime)."""

from .onnxruntime_pybind11_state import *  # noqa: F401,F403
from .onnxruntime_pybind11_state import (  # noqa: F401
    get_default_session_options, is_dlpack_uint8_tensor, kNextPowerOfTwo, kSameAsRequested,
)
