"""The parts of onnxruntime's InferenceSession API beyond ``run``: IO binding, OrtValue runs,
asynchronous runs, memory/device queries, EP assignment info, and the native-session object
(``sess._sess``) that programs reach for. Mixed into :class:`InferenceSession`."""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, List

from ..errors import Fail
from . import logging_callback
from .devices import CPU_MEMORY_INFO, get_ep_devices
from .iobinding import CSessionIOBinding, IOBinding
from .ortvalue import COrtValue, OrtValue, OrtValueVector
from .sparse import CSparseTensor

RECORD_ASSIGNMENT_KEY = "session.record_ep_graph_assignment_info"


class OrtEpAssignedNode:
    """A node as the partitioner assigned it: ``name``, ``domain``, ``op_type``."""

    def __init__(self, name: str, domain: str, op_type: str) -> None:
        self.name, self.domain, self.op_type = name, domain, op_type

    def __repr__(self) -> str:
        return f"OrtEpAssignedNode({self.domain}:{self.op_type}/{self.name})"


class OrtEpAssignedSubgraph:
    """The nodes one execution provider runs together."""

    def __init__(self, ep_name: str, nodes: List[OrtEpAssignedNode]) -> None:
        self.ep_name = ep_name
        self._nodes = nodes

    def get_nodes(self) -> List[OrtEpAssignedNode]:
        return list(self._nodes)


class NativeSession:
    """``sess._sess``: the native-session object of onnxruntime's Python layer."""

    def __init__(self, session) -> None:
        self._session = session

    def run(self, output_names, input_feed, run_options=None):
        return self._session.run(output_names, input_feed, run_options)

    def run_with_ort_values(self, input_dict_ort_values: Dict[str, Any], output_names,
                            run_options=None) -> OrtValueVector:
        return OrtValueVector(self._session._run_ort_values(output_names, input_dict_ort_values,
                                                            run_options))

    def run_with_iobinding(self, iobinding, run_options=None) -> None:
        binding = getattr(iobinding, "_iobinding", iobinding)
        if not isinstance(binding, CSessionIOBinding):
            raise TypeError("run_with_iobinding expects an IOBinding")
        binding._run(run_options)

    def __getattr__(self, name: str):
        return getattr(self._session, name)


class SessionApiMixin:
    """IO binding, OrtValue runs and queries of :class:`InferenceSession`."""

    @property
    def _sess(self) -> NativeSession:
        native = self.__dict__.get("_native")
        if native is None:
            native = self.__dict__.setdefault("_native", NativeSession(self))
        return native

    # ---- IO binding and OrtValue runs ------------------------------------------------------
    def io_binding(self) -> IOBinding:
        """An IOBinding for this session."""
        return IOBinding(self)

    def run_with_iobinding(self, iobinding, run_options=None) -> None:
        """Run with the inputs and outputs bound in ``iobinding``."""
        self._sess.run_with_iobinding(iobinding, run_options)

    def run_with_ort_values(self, output_names, input_dict_ort_values: Dict[str, Any],
                            run_options=None) -> List[OrtValue]:
        """Run with OrtValue feeds; outputs come back as OrtValues (a sparse graph output as a
        sparse tensor)."""
        return [OrtValue(v) for v in self._run_ort_values(output_names, input_dict_ort_values,
                                                          run_options)]

    def _run_ort_values(self, output_names, feeds, run_options) -> List[COrtValue]:
        if output_names is None or len(output_names) == 0:
            output_names = [o.name for o in self._outputs]
        values = type(self).run(self, list(output_names), dict(feeds), run_options)
        return [COrtValue(v) for v in self._sparse_outputs(output_names, values)]

    def _sparse_outputs(self, output_names, values) -> list:
        """Graph outputs declared sparse, as sparse tensors (COO, linear indices)."""
        sparse = {o.name for o in self._outputs if o.type.startswith("sparse_tensor(")}
        return [CSparseTensor.from_dense(v) if n in sparse else v
                for n, v in zip(output_names, values)]

    def _run_returning_sparse(self, output_names, input_feed, run_options=None):
        """``run`` of a session with sparse graph outputs: those come back as SparseTensors,
        as onnxruntime returns them."""
        names = output_names or [o.name for o in self._outputs]
        return self._sparse_outputs(names, type(self).run(self, names, input_feed, run_options))

    def run_async(self, output_names, input_feed, callback, user_data, run_options=None):
        """Run on another thread; ``callback(results, user_data, error_message)`` is called
        with the outputs (error_message empty) or with None and the error's text."""
        if not callable(callback):
            raise TypeError("run_async: callback must be callable")

        def work():
            try:
                results = self.run(output_names, input_feed, run_options)
            except Exception as exc:  # reported through the callback, as onnxruntime does
                callback(None, user_data, str(exc))
                return
            callback(results, user_data, "")

        thread = threading.Thread(target=work, name="onnxrun-run-async", daemon=True)
        thread.start()
        return thread

    # ---- memory and devices ----------------------------------------------------------------
    def get_input_memory_infos(self) -> list:
        return [CPU_MEMORY_INFO for _ in self._inputs]

    def get_output_memory_infos(self) -> list:
        return [CPU_MEMORY_INFO for _ in self._outputs]

    def get_input_epdevices(self) -> list:
        cpu = next(d for d in get_ep_devices() if d.ep_name == "CPUExecutionProvider")
        return [cpu for _ in self._inputs]

    # ---- partitioning info -----------------------------------------------------------------
    def get_provider_graph_assignment_info(self) -> List[OrtEpAssignedSubgraph]:
        """The nodes each provider runs (needs the session config entry
        ``session.record_ep_graph_assignment_info`` = ``1``)."""
        if self._sess_options._config.get(RECORD_ASSIGNMENT_KEY) != "1":
            raise Fail(f"Session configuration entry '{RECORD_ASSIGNMENT_KEY}' must be set to "
                       "\"1\" to retrieve EP graph assignment information.")
        out = []
        for node in self._core.graph.nodes:
            for name, domain, op_type in _original_nodes(node):
                out.append(OrtEpAssignedSubgraph(node.provider or "CPUExecutionProvider",
                                                 [OrtEpAssignedNode(name, domain, op_type)]))
        return out

    # ---- tuning (onnxrun has no tunable kernels) -------------------------------------------
    def get_tuning_results(self) -> list:
        return []

    def set_tuning_results(self, results, *, error_on_invalid: bool = False) -> None:
        if error_on_invalid and results:
            ep = results[0].get("ep") if isinstance(results[0], dict) else None
            raise RuntimeError(f"Cannot find execution provider {ep} with tunable ops")

    # ---- creation-time hooks ---------------------------------------------------------------
    def _prepare_model(self) -> None:
        """Creation steps before the graph is built (see :mod:`.model_config`)."""
        from .model_config import (apply_thread_settings, options_from_model,
                                   with_supplied_initializers)
        self._log(0, f"Creating session for model '{self._model_path or '<in memory>'}'")
        opts = options_from_model(self._model, self._sess_options)
        self._sess_options = apply_thread_settings(opts)
        self._model = with_supplied_initializers(self._model, self._sess_options)
        if any(o.type.HasField("sparse_tensor_type") for o in self._model.graph.output):
            self.run = self._run_returning_sparse  # other sessions keep the plain run
        self._log(1, f"Model: ir_version {self._model.ir_version}, "
                     f"{len(self._model.graph.node)} nodes")

    def _log(self, severity: int, message: str) -> None:
        if logging_callback.enabled(severity):
            logging_callback.log(severity, self._sess_options.logid, message)


def _original_nodes(node):
    """(name, domain, op_type) of the ONNX nodes a node stands for: onnxrun's own elementwise
    chains (a fusion onnxruntime does not make) report the nodes they were made from."""
    origin = node.origin or ""
    if node.op_type == "ElementwiseChain" and origin and "more" not in origin:
        return [(name, "", op) for op, name in re.findall(r"(\w+)\(([^)]*)\)", origin)]
    return [(node.name, node.domain, node.op_type)]


