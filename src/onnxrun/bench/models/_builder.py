"""A small helper for writing ONNX graphs by hand, the way exporters lay them out."""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class GraphBuilder:
    """Collects nodes and initializers; ``op`` adds a node and returns its output name(s)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: List[onnx.NodeProto] = []
        self.initializers: List[onnx.TensorProto] = []
        self._count = 0
        self._consts = {}

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def weight(self, shape: Sequence[int], std: float = 0.02, prefix: str = "w",
               mean: float = 0.0) -> str:
        """A float32 initializer drawn from N(mean, std)."""
        arr = (self.rng.standard_normal(tuple(shape), dtype=np.float32) * np.float32(std)
               + np.float32(mean))
        return self.tensor(arr, prefix)

    def tensor(self, arr: np.ndarray, prefix: str = "c") -> str:
        n = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def const(self, value, dtype=np.float32) -> str:
        """A shared initializer for a scalar or small constant array."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            self._consts[key] = self.tensor(arr, "const")
        return self._consts[key]

    def op(self, op_type: str, inputs: Sequence[str], n_out: int = 1,
           out: Optional[Sequence[str]] = None, **attrs):
        outs = list(out) if out else [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name=self.name(op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def model(self, inputs, outputs, opset: int, name: str,
              doc: Optional[str] = None) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="onnxrun-bench")
        m.ir_version = 8
        if doc:
            m.doc_string = doc
        onnx.checker.check_model(m, full_check=False)
        return m


def tensor_info(name: str, elem: int, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
BOOL = TensorProto.BOOL
