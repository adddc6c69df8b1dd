"""A model behind the server: its protocol signature, request checks and batched runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .protocol import DATATYPES, ONNX_TO_DATATYPE, BadRequest, InferRequest

Dim = Union[int, str, None]


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the protocol shows it."""

    name: str
    datatype: str
    shape: Tuple[Dim, ...]  # ints are fixed, str/None dynamic

    @property
    def dtype(self) -> np.dtype:
        return DATATYPES[self.datatype]

    def metadata(self) -> dict:
        return {"name": self.name, "datatype": self.datatype,
                "shape": [d if isinstance(d, int) else -1 for d in self.shape]}


def _spec(arg, what: str) -> TensorSpec:
    t = arg.type
    elem = t[len("tensor("):-1] if t.startswith("tensor(") else None
    if elem not in ONNX_TO_DATATYPE:
        raise ValueError(f"{what} '{arg.name}' has type {t}, which the Open Inference Protocol "
                         "cannot carry (tensors of bool, integers, floats or strings only)")
    return TensorSpec(arg.name, ONNX_TO_DATATYPE[elem], tuple(arg.shape))


def batching_support(inputs: Sequence[TensorSpec],
                     outputs: Sequence[TensorSpec]) -> Tuple[bool, str]:
    """Whether requests can be stacked along axis 0, and why (not)."""
    for s in list(inputs) + list(outputs):
        if not s.shape:
            return False, f"'{s.name}' has no known leading dimension"
        if isinstance(s.shape[0], int):
            return False, f"'{s.name}' has a fixed leading dimension {s.shape[0]}"
    names = {s.shape[0] for s in inputs if isinstance(s.shape[0], str)}
    if len(names) > 1:
        return False, f"the inputs' leading dimensions differ ({', '.join(sorted(names))})"
    return True, "every input and output has a dynamic leading (batch) dimension"


class ServedModel:
    """A session with its protocol signature; ``run`` may be called from several threads."""

    def __init__(self, session, name: str, version: str = "1") -> None:
        self.session = session
        self.name = name
        self.version = version
        self.inputs = [_spec(a, "input") for a in session.get_inputs()]
        self.outputs = [_spec(a, "output") for a in session.get_outputs()]
        self._inputs = {s.name: s for s in self.inputs}
        self._outputs = {s.name: s for s in self.outputs}
        self.batchable, self.batching_reason = batching_support(self.inputs, self.outputs)

    def metadata(self, max_batch: int) -> dict:
        """The model metadata response, with how requests are batched in ``parameters``."""
        batching = self.batchable and max_batch > 1
        reason = self.batching_reason if self.batchable else \
            f"no dynamic batching: {self.batching_reason}"
        if self.batchable and max_batch <= 1:
            reason = "dynamic batching is off (--max-batch 1)"
        return {"name": self.name, "versions": [self.version], "platform": "onnxrun",
                "inputs": [s.metadata() for s in self.inputs],
                "outputs": [s.metadata() for s in self.outputs],
                "parameters": {"dynamic_batching": batching,
                               "max_batch_size": max_batch if batching else 0,
                               "batching": reason}}

    def check(self, request: InferRequest) -> Tuple[str, ...]:
        """Check the request against the model; returns the output names to compute."""
        for name, value in request.inputs.items():
            spec = self._inputs.get(name)
            if spec is None:
                raise BadRequest(f"unknown input '{name}' (the model's inputs: "
                                 f"{', '.join(self._inputs)})")
            if value.dtype != spec.dtype:
                got = next(k for k, v in DATATYPES.items() if v == value.dtype)
                raise BadRequest(f"input '{name}' has datatype {got}, the model expects "
                                 f"{spec.datatype}")
            if value.ndim != len(spec.shape) or any(
                    isinstance(d, int) and d != g for d, g in zip(spec.shape, value.shape)):
                raise BadRequest(f"input '{name}' has shape {list(value.shape)}, the model "
                                 f"expects {spec.metadata()['shape']} (-1: any)")
        missing = [n for n in self._inputs if n not in request.inputs]
        if missing:
            raise BadRequest(f"missing inputs: {', '.join(missing)}")
        names = tuple(n for n, _ in request.outputs) or tuple(self._outputs)
        for n in names:
            if n not in self._outputs:
                raise BadRequest(f"unknown output '{n}' (the model's outputs: "
                                 f"{', '.join(self._outputs)})")
        if len(set(names)) != len(names):
            raise BadRequest("an output is requested twice")
        return names

    def run(self, feeds: Dict[str, np.ndarray], outputs: Sequence[str]) -> List[np.ndarray]:
        return self.session.run(list(outputs), feeds)

    def run_batch(self, feeds_list: List[Dict[str, np.ndarray]], outputs: Sequence[str],
                  rows: List[int]) -> Optional[List[List[np.ndarray]]]:
        """Run requests stacked along axis 0 and split the outputs back; None when an output's
        leading dimension is not the total row count (the model does not batch that way)."""
        feeds = {n: np.concatenate([f[n] for f in feeds_list]) for n in feeds_list[0]}
        values = self.run(feeds, outputs)
        total = sum(rows)
        if not all(isinstance(v, np.ndarray) and v.ndim and v.shape[0] == total
                   for v in values):
            return None
        bounds = np.cumsum(rows)[:-1]
        per_output = [np.split(v, bounds) for v in values]
        return [[np.ascontiguousarray(parts[i]) for parts in per_output]
                for i in range(len(rows))]
