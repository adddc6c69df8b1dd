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

    def add_session_config_entry(self, key: str, value: str) -> None:
        self._config[str(key)] = str(value)

    def get_session_config_entry(self, key: str) -> str:
        if key not in self._config:
            from .errors import InvalidArgument
            raise InvalidArgument(f"SessionOptions does not have configuration with key: {key}")
        return self._config[key]

    def add_initializer(self, name: str, value) -> None:
        """Override an initializer (or feed an input once) with an array the caller keeps."""
        import numpy as np
        if not isinstance(value, np.ndarray):
            raise TypeError("add_initializer expects a numpy array (OrtValue in onnxruntime)")
        self._initializers[str(name)] = value

    def add_external_initializers(self, names: List[str], values: List[object]) -> None:
        for n, v in zip(names, values):
            self.add_initializer(n, v)

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
        if key not in self._config:
            from .errors import InvalidArgument
            raise InvalidArgument(f"RunOptions does not have configuration with key: {key}")
        return self._config[key]

    def add_active_adapter(self, adapter) -> None:
        from .errors import NotImplemented
        raise NotImplemented("LoRA adapters are not supported by onnxrun")
