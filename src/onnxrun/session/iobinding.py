"""IO binding: inputs and outputs bound to a session ahead of ``run_with_iobinding``.

onnxrun's values live in host memory, so binding a CPU array or pointer is zero-copy; an
output bound to a preallocated buffer (an OrtValue, or a raw pointer with element type and
shape) receives the result in place, as onnxruntime writes it. Other devices are refused.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ..errors import InvalidArgument
from .devices import CPU_DEVICE, CDevice, device_from_name, require_cpu
from .ortvalue import COrtValue, OrtValue, OrtValueVector, c_value, from_host_pointer


def _session_of(session):
    """The InferenceSession behind ``session`` (an InferenceSession or its ``_sess``)."""
    return getattr(session, "_session", session)


class CSessionIOBinding:
    """The native-module binding (``onnxrun.capi._pybind_state.SessionIOBinding``)."""

    def __init__(self, session) -> None:
        self._session = _session_of(session)
        self._inputs: Dict[str, object] = {}
        self._outputs: Dict[str, Optional[COrtValue]] = {}  # name -> preallocated value
        self._results: List[COrtValue] = []

    # ---- inputs -----------------------------------------------------------------------------
    def _input_name(self, name: str) -> str:
        if name not in self._session._feed_specs:
            raise InvalidArgument(f"Invalid input name: {name}")
        return name

    def bind_input(self, name: str, *args) -> None:
        """``bind_input(name, array)`` or ``bind_input(name, device, element_type, shape,
        buffer_ptr)``."""
        if len(args) == 1:
            arr = args[0]
            if not isinstance(arr, np.ndarray):
                arr = np.asarray(arr)
            self._inputs[self._input_name(name)] = arr
            return
        if len(args) != 4:
            raise TypeError("bind_input(name, array) or bind_input(name, device, element_type, "
                            "shape, buffer_ptr)")
        device, element_type, shape, ptr = args
        require_cpu(device, f"bind_input '{name}'")
        self._inputs[self._input_name(name)] = from_host_pointer(ptr, element_type, shape)

    def bind_ortvalue_input(self, name: str, ortvalue) -> None:
        value = c_value(ortvalue)
        require_cpu(value._device, f"bind_ortvalue_input '{name}'")
        self._inputs[self._input_name(name)] = value

    def clear_binding_inputs(self) -> None:
        self._inputs.clear()

    def synchronize_inputs(self) -> None:
        """Nothing to wait for: onnxrun computes synchronously on the host."""

    # ---- outputs ----------------------------------------------------------------------------
    def _output_name(self, name: str) -> str:
        if name not in self._session._original_values:
            raise InvalidArgument(f"Invalid output name: {name}")
        return name

    def bind_output(self, name: str, device: CDevice = CPU_DEVICE, *args) -> None:
        """``bind_output(name, device)``: the session allocates the output;
        ``bind_output(name, device, element_type, shape, buffer_ptr)``: it writes there."""
        require_cpu(device, f"bind_output '{name}'")
        target = None
        if args:
            if len(args) != 3:
                raise TypeError("bind_output(name, device) or bind_output(name, device, "
                                "element_type, shape, buffer_ptr)")
            element_type, shape, ptr = args
            target = COrtValue(from_host_pointer(ptr, element_type, shape))
        self._outputs[self._output_name(name)] = target

    def bind_ortvalue_output(self, name: str, ortvalue) -> None:
        value = c_value(ortvalue)
        require_cpu(value._device, f"bind_ortvalue_output '{name}'")
        self._outputs[self._output_name(name)] = value

    def clear_binding_outputs(self) -> None:
        self._outputs.clear()
        self._results = []

    def synchronize_outputs(self) -> None:
        """Nothing to wait for: onnxrun computes synchronously on the host."""

    def get_outputs(self) -> OrtValueVector:
        return OrtValueVector(self._results)

    def copy_outputs_to_cpu(self) -> list:
        return [_host_copy(v) for v in self._results]

    # ---- running ----------------------------------------------------------------------------
    def _run(self, run_options) -> None:
        names = list(self._outputs)
        feeds = dict(self._inputs)
        results = self._session.run(names, feeds, run_options)
        out = []
        for name, value in zip(names, results):
            target = self._outputs[name]
            if target is None:
                out.append(COrtValue(value))
                continue
            dst = target._value
            if not isinstance(dst, np.ndarray) or not isinstance(value, np.ndarray) or \
                    dst.shape != value.shape:
                got = list(getattr(value, "shape", []))
                want = list(getattr(dst, "shape", []))
                raise RuntimeError(f"Error in execution: output '{name}' is bound to a buffer of "
                                   f"shape {want}, the result has shape {got}")
            np.copyto(dst, value, casting="no")
            out.append(target)
        self._results = out


def _host_copy(value: COrtValue):
    v = value._value
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, list):
        return [x.copy() for x in v]
    return value.as_sparse_tensor()


class IOBinding:
    """``session.io_binding()``: bind inputs and outputs, then ``session.run_with_iobinding``."""

    def __init__(self, session) -> None:
        self._iobinding = CSessionIOBinding(session)
        self._numpy_obj_references: Dict[str, np.ndarray] = {}

    def bind_cpu_input(self, name: str, arr_on_cpu: np.ndarray) -> None:
        self._numpy_obj_references[name] = arr_on_cpu
        self._iobinding.bind_input(name, arr_on_cpu)

    def bind_input(self, name: str, device_type: str, device_id: int, element_type,
                   shape, buffer_ptr: int) -> None:
        self._iobinding.bind_input(name, device_from_name(device_type, device_id), element_type,
                                   shape, buffer_ptr)

    def bind_ortvalue_input(self, name: str, ortvalue: OrtValue) -> None:
        self._iobinding.bind_ortvalue_input(name, ortvalue)

    def synchronize_inputs(self) -> None:
        self._iobinding.synchronize_inputs()

    def bind_output(self, name: str, device_type: str = "cpu", device_id: int = 0,
                    element_type=None, shape=None, buffer_ptr: Optional[int] = None) -> None:
        device = device_from_name(device_type, device_id)
        if buffer_ptr is None:
            self._iobinding.bind_output(name, device)
            return
        if element_type is None or shape is None:
            raise ValueError("`element_type` and `shape` are to be provided if pre-allocated "
                             "memory is provided")
        self._iobinding.bind_output(name, device, element_type, shape, buffer_ptr)

    def bind_ortvalue_output(self, name: str, ortvalue: OrtValue) -> None:
        self._iobinding.bind_ortvalue_output(name, ortvalue)

    def synchronize_outputs(self) -> None:
        self._iobinding.synchronize_outputs()

    def get_outputs(self) -> List[OrtValue]:
        return [OrtValue(v) for v in self._iobinding.get_outputs()]

    def get_outputs_as_ortvaluevector(self) -> OrtValueVector:
        return self._iobinding.get_outputs()

    def copy_outputs_to_cpu(self) -> list:
        return self._iobinding.copy_outputs_to_cpu()

    def clear_binding_inputs(self) -> None:
        self._iobinding.clear_binding_inputs()

    def clear_binding_outputs(self) -> None:
        self._iobinding.clear_binding_outputs()

