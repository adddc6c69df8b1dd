"""SessionOptions, RunOptions and the enums programs set, as in onnxruntime.

Options with no meaning for a NumPy runtime are accepted and kept (so programs run unchanged);
each is documented as a no-op in docs/api.md. None of them changes results.
"""

from __future__ import annotations

import enum
import threading
from typing import Dict, List, Optional


class GraphOptimizationLevel(enum.IntEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_LAYOUT = 3
    ORT_ENABLE_ALL = 99

    def __str__(self) -> str:
        return f"GraphOptimizationLevel.{self.name}"


class ExecutionMode(enum.IntEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1

    def __str__(self) -> str:
        return f"ExecutionMode.{self.name}"


class ExecutionOrder(enum.IntEnum):
    DEFAULT = 0
    PRIORITY_BASED = 1
    MEMORY_EFFICIENT = 2


#: Session config keys onnxrun reads (others are stored and ignored, as onnxruntime ignores
#: keys it does not know).
MAX_TENSOR_BYTES_KEY = "session.max_tensor_bytes"
DEFAULT_MAX_TENSOR_BYTES = 4 * 1024 ** 3
#: ORT_PARALLEL runs in parallel only where the cost model expects at least this speedup
PARALLEL_MIN_GAIN_KEY = "session.parallel_min_gain"
DEFAULT_PARALLEL_MIN_GAIN = 1.15


class SessionOptions:
    """Options for :class:`onnxrun.InferenceSession`."""

    def __init__(self) -> None:
        self.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
        self.execution_mode = ExecutionMode.ORT_SEQUENTIAL
        self.execution_order = ExecutionOrder.DEFAULT
        self.intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self.log_severity_level = -1
        self.log_verbosity_level = 0
        self.logid = ""
        self.enable_profiling = False
        self.profile_file_prefix = "onnxruntime_profile_"
        self.optimized_model_filepath = ""
        self.enable_cpu_mem_arena = True  # no-op: NumPy allocates
        self.enable_mem_pattern = True  # no-op: NumPy allocates
        self.enable_mem_reuse = True
        self.use_deterministic_compute = False  # no-op: kernels are deterministic
        self.use_per_session_threads = True  # no-op
        self._config: Dict[str, str] = {}
        self._initializers: Dict[str, object] = {}
        self._free_dims_by_name: Dict[str, int] = {}
        self._free_dims_by_denotation: Dict[str, int] = {}
        self._external_initializers: Dict[str, object] = {}  # name -> array (see add_external_*)
        self._external_files: Dict[str, bytes] = {}  # external data file name -> its bytes

    def add_session_config_entry(self, key: str, value: str) -> None:
        self._config[str(key)] = str(value)

    def get_session_config_entry(self, key: str) -> str:
        if key not in self._config:  # onnxruntime raises a plain RuntimeError here
            raise RuntimeError(f"SessionOptions does not have configuration with key: {key}")
        return self._config[key]

    def add_initializer(self, name: str, value) -> None:
        """Override an initializer (or feed an input once) with an OrtValue (or array) the
        caller keeps."""
        self._initializers[str(name)] = _host_tensor(value, "add_initializer")

    def add_external_initializers(self, names: List[str], values: List[object]) -> None:
        """Supply the data of initializers stored as external data (by initializer name): the
        external files are then not read for them."""
        if len(names) != len(values):
            raise ValueError("add_external_initializers: names and values differ in length")
        for n, v in zip(names, values):
            self._external_initializers[str(n)] = _host_tensor(v, "add_external_initializers")

    def add_external_initializers_from_files_in_memory(self, names: List[str], buffers: List,
                                                       lengths: List[int]) -> None:
        """Supply external data files from memory: ``names`` are the file names the model's
        initializers refer to, ``buffers`` their bytes (``lengths`` bytes of each)."""
        if not len(names) == len(buffers) == len(lengths):
            raise ValueError("add_external_initializers_from_files_in_memory: names, buffers "
                             "and lengths differ in length")
        for n, b, size in zip(names, buffers, lengths):
            data = bytes(memoryview(b))
            if int(size) > len(data):
                raise ValueError(f"external file '{n}': length {size} exceeds its {len(data)} "
                                 "bytes")
            self._external_files[str(n)] = data[:int(size)]

    def add_free_dimension_override_by_name(self, name: str, value: int) -> None:
        self._free_dims_by_name[str(name)] = int(value)

    def add_free_dimension_override_by_denotation(self, denotation: str, value: int) -> None:
        self._free_dims_by_denotation[str(denotation)] = int(value)

    def register_custom_ops_library(self, path: str) -> None:
        from .errors import NotImplemented
        raise NotImplemented(f"custom op libraries are native code and cannot be loaded by "
                             f"onnxrun ('{path}'); register Python kernels with "
                             "onnxrun.custom_op instead")

    @property
    def max_tensor_bytes(self) -> int:
        """The byte cap for data-dependent allocations (config key session.max_tensor_bytes)."""
        return self._config_number(MAX_TENSOR_BYTES_KEY, DEFAULT_MAX_TENSOR_BYTES, int,
                                   "a non-negative integer number of bytes")

    @property
    def parallel_min_gain(self) -> float:
        """Least speedup the cost model must expect for ORT_PARALLEL to run steps concurrently
        (config key session.parallel_min_gain; 0 always does)."""
        return self._config_number(PARALLEL_MIN_GAIN_KEY, DEFAULT_PARALLEL_MIN_GAIN, float,
                                   "a non-negative number")

    def _config_number(self, key: str, default, parse, expected: str):
        """A non-negative number from the session config entry ``key`` (``default`` if unset);
        anything else is an InvalidArgument naming the key and what was expected."""
        raw = self._config.get(key)
        if not raw:
            return default
        try:
            value = parse(raw.strip())
        except ValueError:
            value = -1
        if not value >= 0:
            from .errors import InvalidArgument
            raise InvalidArgument(f"{key} must be {expected}, got '{raw}'")
        return value


def _host_tensor(value, what: str):
    """The array behind an OrtValue (or a NumPy array) given as an initializer."""
    import numpy as np
    from .session.ortvalue import COrtValue, OrtValue, payload
    if isinstance(value, (OrtValue, COrtValue)):
        arr = payload(value)
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{what} expects a tensor OrtValue")
        return arr
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{what} expects an OrtValue (or a numpy array), got "
                        f"{type(value).__name__}")
    return value


class RunOptions:
    """Per-run options. ``terminate`` may be set from another thread to stop a run."""

    def __init__(self) -> None:
        self._terminate = threading.Event()
        self.log_severity_level = -1
        self.log_verbosity_level = 0
        self.logid = ""
        self.run_tag = ""
        self.only_execute_path_to_fetches = False
        self._config: Dict[str, str] = {}
        self.hooks: List[object] = []  # onnxrun extension: per-node observers (see tracing)
        self._active_adapters: List[object] = []

    @property
    def terminate(self) -> bool:
        return self._terminate.is_set()

    @terminate.setter
    def terminate(self, value: bool) -> None:
        if value:
            self._terminate.set()
        else:
            self._terminate.clear()

    def add_run_config_entry(self, key: str, value: str) -> None:
        self._config[str(key)] = str(value)

    def get_run_config_entry(self, key: str) -> Optional[str]:
        if key not in self._config:  # onnxruntime raises a plain RuntimeError here
            raise RuntimeError(f"RunOptions does not have configuration with key: {key}")
        return self._config[key]

    def add_active_adapter(self, adapter) -> None:
        """Feed the parameters of a loaded :class:`LoraAdapter` in runs with these options."""
        from .session.lora import LoraAdapter
        if not isinstance(adapter, LoraAdapter):
            raise TypeError(f"add_active_adapter expects a LoraAdapter, got "
                            f"{type(adapter).__name__}")
        self._active_adapters.append(adapter)
