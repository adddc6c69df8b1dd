"""Inspect a model without running it: inputs/outputs, opsets, op histogram, ops onnxrun has no
kernel for, parameter count and bytes, metadata.

    from onnxrun.tools.inspect import model_info, format_info
    info = model_info("model.onnx")
    print(info["parameters"], info["missing_kernels"])
    print(format_info(info))
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

import numpy as np
import onnx

__all__ = ["model_info", "format_info", "type_text"]


def type_text(tp: onnx.TypeProto) -> str:
    """``tensor(float)``, ``seq(tensor(int64))``, ``map(string,tensor(float))``, ..."""
    which = tp.WhichOneof("value")
    if which == "tensor_type":
        return f"tensor({_elem(tp.tensor_type.elem_type)})"
    if which == "sparse_tensor_type":
        return f"sparse_tensor({_elem(tp.sparse_tensor_type.elem_type)})"
    if which == "sequence_type":
        return f"seq({type_text(tp.sequence_type.elem_type)})"
    if which == "map_type":
        return f"map({_elem(tp.map_type.key_type)},{type_text(tp.map_type.value_type)})"
    if which == "optional_type":
        return f"optional({type_text(tp.optional_type.elem_type)})"
    return "?"


def _elem(code: int) -> str:
    from ..ir.types import ELEM_TYPE_NAMES
    return ELEM_TYPE_NAMES.get(code, str(code))


def _shape(tp: onnx.TypeProto):
    which = tp.WhichOneof("value")
    if which not in ("tensor_type", "sparse_tensor_type"):
        return None
    t = getattr(tp, which)
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value") and d.dim_value >= 0:  # exporters write -1 for "any size"
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append("?")
    return dims


def _tensor_numel_bytes(t: onnx.TensorProto):
    numel = int(np.prod(t.dims, dtype=np.int64)) if len(t.dims) else 1
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    except Exception:  # noqa: BLE001 - unknown or string types
        itemsize = 0
    if t.data_type == onnx.TensorProto.STRING:
        return numel, sum(len(s) for s in t.string_data)
    if t.data_type in (onnx.TensorProto.INT4, onnx.TensorProto.UINT4):
        return numel, (numel + 1) // 2
    return numel, numel * itemsize


def _load(model) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(str(model), load_external_data=False)


def _walk(graph: onnx.GraphProto, depth: int = 0):
    for node in graph.node:
        yield node, depth
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _walk(attr.g, depth + 1)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _walk(g, depth + 1)


def _subgraph_inits(graph: onnx.GraphProto):
    for t in graph.initializer:
        yield t
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _subgraph_inits(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _subgraph_inits(g)


def kernel_status(op_type: str, domain: str, opsets: Dict[str, int],
                  functions: Dict[tuple, Any]) -> str:
    """'kernel', 'function' (runs by expanding its function body), 'custom' (a kernel for a
    domain onnx does not define) or 'missing'."""
    from ..framework.resolver import get_schema
    from ..kernels import REGISTRY, load_all
    load_all()
    dom = "" if domain == "ai.onnx" else domain
    opset = opsets.get(dom, 1)
    schema = get_schema(op_type, opset, dom)
    since = schema.since_version if schema is not None else opset
    if REGISTRY.lookup(dom, op_type, since) is not None:
        return "kernel" if schema is not None else "custom"
    if (dom, op_type) in functions:
        return "function"
    if schema is not None and (schema.has_function or schema.has_context_dependent_function):
        return "function"
    return "missing"


def model_info(model) -> Dict[str, Any]:
    """A dict describing ``model`` (path, bytes or ModelProto); see :func:`format_info`."""
    proto = _load(model)
    g = proto.graph
    init_names = {t.name for t in g.initializer}
    opsets = {("" if o.domain == "ai.onnx" else o.domain): int(o.version)
              for o in proto.opset_import}
    functions = {(f.domain, f.name): f for f in proto.functions}  # any overload
    ios = lambda vis: [{"name": v.name, "type": type_text(v.type), "shape": _shape(v.type)}  # noqa
                       for v in vis]
    ops: Counter = Counter()
    nodes = 0
    subgraph_nodes = 0
    for node, depth in _walk(g):
        ops[(node.domain if node.domain != "ai.onnx" else "", node.op_type)] += 1
        nodes += 1
        subgraph_nodes += depth > 0
    status = {key: kernel_status(key[1], key[0], opsets, functions) for key in ops}
    params = 0
    nbytes = 0
    external = 0
    n_inits = 0
    for t in _subgraph_inits(g):
        n, b = _tensor_numel_bytes(t)
        params += n
        nbytes += b
        n_inits += 1
        external += t.data_location == onnx.TensorProto.EXTERNAL
    for node, _ in _walk(g):
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for a in node.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    n, b = _tensor_numel_bytes(a.t)
                    params += n
                    nbytes += b
    return {
        "graph_name": g.name,
        "ir_version": int(proto.ir_version),
        "producer": (proto.producer_name + " " + proto.producer_version).strip(),
        "domain": proto.domain,
        "model_version": int(proto.model_version),
        "doc_string": proto.doc_string,
        "opsets": opsets,
        "inputs": ios([v for v in g.input if v.name not in init_names]),
        "outputs": ios(g.output),
        "nodes": nodes,
        "subgraph_nodes": subgraph_nodes,
        "ops": [{"domain": d, "op_type": o, "count": c, "status": status[(d, o)]}
                for (d, o), c in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))],
        "missing_kernels": sorted(f"{d + '::' if d else ''}{o}" for (d, o), s in status.items()
                                  if s == "missing"),
        "initializers": n_inits,
        "external_initializers": int(external),
        "parameters": int(params),
        "parameter_bytes": int(nbytes),
        "local_functions": sorted(f"{d}::{n}" for d, n in functions),
        "metadata": {p.key: p.value for p in proto.metadata_props},
    }


def _bytes_text(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def format_info(info: Dict[str, Any]) -> str:
    """Text for ``onnxrun info``."""
    from .table import format_table
    lines: List[str] = []
    lines.append(f"graph: {info['graph_name'] or '(unnamed)'}   ir_version: {info['ir_version']}"
                 f"   producer: {info['producer'] or '-'}")
    if info["model_version"] or info["domain"]:
        lines.append(f"model domain: {info['domain'] or '-'}   "
                     f"model version: {info['model_version']}")
    if info["doc_string"]:
        lines.append(f"doc: {info['doc_string'].strip().splitlines()[0][:100]}")
    lines.append("opsets: " + ", ".join(f"{d or 'ai.onnx'} {v}"
                                        for d, v in sorted(info["opsets"].items())))

    def io_rows(items):
        return [[i["name"], i["type"],
                 "-" if i["shape"] is None else "[" + ", ".join(map(str, i["shape"])) + "]"]
                for i in items]
    lines.append("")
    lines.append(f"inputs ({len(info['inputs'])}):")
    lines.append(format_table(io_rows(info["inputs"]), ["name", "type", "shape"], "lll", "  "))
    lines.append(f"outputs ({len(info['outputs'])}):")
    lines.append(format_table(io_rows(info["outputs"]), ["name", "type", "shape"], "lll", "  "))
    lines.append("")
    sub = f" ({info['subgraph_nodes']} in subgraphs)" if info["subgraph_nodes"] else ""
    lines.append(f"nodes: {info['nodes']}{sub}, op types: {len(info['ops'])}")
    rows = [[(o["domain"] + "::" if o["domain"] else "") + o["op_type"], o["count"],
             {"kernel": "", "custom": "custom kernel", "function": "via function body",
              "missing": "NO KERNEL"}[o["status"]]] for o in info["ops"]]
    lines.append(format_table(rows, ["op", "count", "note"], "lrl", "  "))
    if info["missing_kernels"]:
        lines.append("ops without a kernel in onnxrun: " + ", ".join(info["missing_kernels"]))
    else:
        lines.append("every op has a kernel in onnxrun")
    if info["local_functions"]:
        lines.append("model-local functions: " + ", ".join(info["local_functions"]))
    lines.append("")
    ext = (f", {info['external_initializers']} in external files"
           if info["external_initializers"] else "")
    lines.append(f"parameters: {info['parameters']:,} in {info['initializers']} initializers"
                 f"{ext} ({_bytes_text(info['parameter_bytes'])})")
    if info["metadata"]:
        lines.append("metadata:")
        lines.append(format_table([[k, v] for k, v in sorted(info["metadata"].items())],
                                  None, "ll", "  "))
    return "\n".join(lines)
