"""What a kernel is given at session initialization: :class:`OpKernelInfo`, and the optional
base class :class:`OpKernel`.

Contract for every kernel (function or class):

* Called as ``kernel(*inputs)`` with one positional argument per node input; a missing optional
  input is ``None``. Ops with subgraphs also receive the node's implicit (outer-scope) inputs as
  extra trailing arguments, in ``info.implicit_inputs`` order.
* Returns the single output for ops whose schema allows one output, else a tuple (one entry per
  output the kernel computes; entries beyond the node's declared outputs are ignored).
* Tensors are NumPy arrays (strings: ``object`` arrays of ``str``), sequences are lists, maps are
  dicts, an empty optional is ``None``.
* Never modify an input in place; never keep per-run state on the kernel (runs may be concurrent).
* Bad data raises ``onnxrun.errors.InvalidArgument`` (e.g. an index out of range); the executor
  adds the node's name and op to the message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from ..errors import InvalidArgument
from ..framework.intra_op import INLINE
from ..options import DEFAULT_MAX_TENSOR_BYTES


class OpKernelInfo:
    """Everything known about a node when its kernel is created."""

    def __init__(self, node, graph, session=None, provider=None) -> None:
        self.node = node
        self.graph = graph
        self.session = session  # framework.session_state.SessionContext (None in unit tests)
        self.provider = provider
        self.name: str = node.name
        self.op_type: str = node.op_type
        self.domain: str = node.domain
        self.since_version: int = node.since_version or 1
        self.opset: int = graph.opsets.get(node.domain, 1) if graph is not None else 1
        self.attrs: Dict[str, Any] = {k: v for k, v in node.attrs.items()}
        self.input_names: List[str] = [v.name if v is not None else "" for v in node.inputs]
        self.output_names: List[str] = [v.name if v is not None else "" for v in node.outputs]
        self.input_types = [v.type if v is not None else None for v in node.inputs]
        self.output_types = [v.type if v is not None else None for v in node.outputs]
        self.const_inputs: List[Optional[np.ndarray]] = [
            v.const if v is not None else None for v in node.inputs]
        self.implicit_inputs: List[str] = [v.name for v in node.implicit_inputs]
        #: byte cap for data-dependent allocations (session.max_tensor_bytes)
        self.max_tensor_bytes: int = getattr(session, "max_tensor_bytes", DEFAULT_MAX_TENSOR_BYTES)
        #: the session's intra-op thread pool: ``intra_op.parallel_for(n, fn)`` runs
        #: ``fn(begin, end)`` over blocks of ``range(n)`` (single-threaded outside a session)
        self.intra_op = getattr(session, "intra_op", None) or INLINE

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def require_attr(self, name: str) -> Any:
        if name not in self.attrs:
            raise InvalidArgument(f"{self.describe()}: required attribute '{name}' is missing")
        return self.attrs[name]

    @property
    def num_outputs(self) -> int:
        return len(self.output_names)

    def output_wanted(self, index: int) -> bool:
        return index < len(self.output_names) and self.output_names[index] != ""

    def subgraph(self, attr_name: str, graph=None):
        """A runner for a graph attribute: ``runner(inputs: list, outer: list) -> list``.

        ``outer`` is the list of implicit inputs the kernel was called with."""
        if self.session is None:
            raise RuntimeError("subgraphs need a session context")
        g = graph if graph is not None else self.attrs[attr_name]
        return self.session.build_subgraph(g, self)

    def describe(self) -> str:
        dom = self.domain or "ai.onnx"
        return f"{self.op_type} node '{self.name}' (domain {dom}, opset {self.opset})"


class OpKernel:
    """Convenience base: keeps ``info`` and parsed attributes; subclasses define ``__call__``."""

    def __init__(self, info: OpKernelInfo) -> None:
        self.info = info

    def __call__(self, *inputs):  # pragma: no cover - abstract
        raise NotImplementedError
