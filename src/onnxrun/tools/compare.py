"""Compare onnxrun with onnxruntime on the same inputs, output by output or node by node.

    from onnxrun.tools.compare import compare_with_onnxruntime
    result = compare_with_onnxruntime("model.onnx")            # random inputs of the right type
    print(result.report())
    result = compare_with_onnxruntime("model.onnx", per_node=True)
    if result.first_divergence:                                # the FIRST node (topological
        print(result.first_divergence.node_name)               # order) whose output differs

onnxruntime is only imported here (it is the reference, never a dependency of the runtime).
Its intermediate values are read by adding them as graph outputs to a copy of the model, a
chunk at a time; onnxrun's by asking ``InferenceSession.run`` for them by name.

A value matches when ``|ours - theirs| <= atol + rtol * |theirs|`` everywhere, with NaNs and
infinities in the same places (integers, booleans and strings must be equal). The reported
relative error is ``|ours - theirs| / (|theirs| + atol)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import onnx

__all__ = ["compare_with_onnxruntime", "compare_values", "CompareResult", "ValueDiff",
           "ValueStats", "NodeDivergence"]

_LEVELS = {"disable": 0, "basic": 1, "extended": 2, "all": 99}


@dataclass
class ValueDiff:
    """How one value of onnxrun compares with onnxruntime's."""

    name: str
    shape: Optional[tuple]
    dtype: Optional[str]
    max_abs: float
    max_rel: float
    ok: bool
    reason: str = ""  # why it does not match, when not a tolerance matter (shape, type, NaN)


@dataclass
class ValueStats:
    """Statistics of one value (onnxrun's), with its difference to onnxruntime's."""

    name: str
    shape: Optional[tuple]
    dtype: Optional[str]
    min: Optional[float] = None
    max: Optional[float] = None
    mean: Optional[float] = None
    max_abs_diff: Optional[float] = None
    ok: Optional[bool] = None
    kind: str = "value"  # input, initializer, output


@dataclass
class NodeDivergence:
    """The first node whose output differs beyond tolerance."""

    index: int  # position in the model's (topological) node list
    node_name: str
    op_type: str
    domain: str
    output_name: str
    inputs: List[ValueStats]
    outputs: List[ValueStats]


@dataclass
class CompareResult:
    outputs: List[ValueDiff]
    rtol: float
    atol: float
    first_divergence: Optional[NodeDivergence] = None
    nodes_checked: int = 0
    per_node: bool = False
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.outputs) and self.first_divergence is None

    def report(self) -> str:
        """Human-readable text (tables)."""
        from .table import format_table
        lines = [f"tolerance: rtol={self.rtol:g} atol={self.atol:g}"]
        rows = [[d.name, _shape_text(d.shape), d.dtype or "", _num(d.max_abs), _num(d.max_rel),
                 "ok" if d.ok else "MISMATCH" + (f" ({d.reason})" if d.reason else "")]
                for d in self.outputs]
        lines.append(format_table(rows, ["output", "shape", "dtype", "max abs err",
                                         "max rel err", "status"], align="lllrrl"))
        if self.per_node:
            div = self.first_divergence
            if div is None:
                lines.append(f"all {self.nodes_checked} node outputs match onnxruntime")
            else:
                dom = f"{div.domain}::" if div.domain else ""
                lines.append(f"first diverging node (#{div.index} in topological order): "
                             f"'{div.node_name}' ({dom}{div.op_type}), output '{div.output_name}'")
                srows = []
                for s in div.inputs + div.outputs:
                    srows.append([s.kind, s.name, _shape_text(s.shape), s.dtype or "",
                                  _num(s.min), _num(s.max), _num(s.mean),
                                  _num(s.max_abs_diff),
                                  "" if s.ok is None else ("ok" if s.ok else "DIFFERS")])
                lines.append(format_table(srows, ["", "value", "shape", "dtype", "min", "max",
                                                  "mean", "max abs diff", "status"],
                                          align="llllrrrrl", indent="  "))
        lines.extend(self.notes)
        lines.append("result: " + ("MATCH" if self.ok else "DIFFERENT"))
        return "\n".join(lines)


def _num(x) -> str:
    if x is None:
        return "-"
    return f"{x:.4g}"


def _shape_text(shape) -> str:
    return "-" if shape is None else "[" + ",".join(str(d) for d in shape) + "]"


# ---- value comparison --------------------------------------------------------------------------
def compare_values(name: str, ours: Any, theirs: Any, rtol: float, atol: float) -> ValueDiff:
    """Compare one value (arrays; sequences element by element)."""
    if isinstance(ours, list) or isinstance(theirs, list):
        if not (isinstance(ours, list) and isinstance(theirs, list)) or len(ours) != len(theirs):
            return ValueDiff(name, None, "sequence", np.inf, np.inf, False, "sequence length")
        diffs = [compare_values(f"{name}[{i}]", a, b, rtol, atol)
                 for i, (a, b) in enumerate(zip(ours, theirs))]
        bad = [d for d in diffs if not d.ok]
        return ValueDiff(name, (len(ours),), "sequence",
                         max([d.max_abs for d in diffs], default=0.0),
                         max([d.max_rel for d in diffs], default=0.0), not bad,
                         bad[0].reason if bad else "")
    if isinstance(ours, dict) or isinstance(theirs, dict):
        same = isinstance(ours, dict) and isinstance(theirs, dict) and ours.keys() == theirs.keys()
        return ValueDiff(name, None, "map", 0.0 if same else np.inf, 0.0 if same else np.inf,
                         same, "" if same else "keys differ")
    if ours is None or theirs is None:
        ok = ours is None and theirs is None
        return ValueDiff(name, None, None, 0.0 if ok else np.inf, 0.0 if ok else np.inf, ok,
                         "" if ok else "one side is missing")
    a, b = np.asarray(ours), np.asarray(theirs)
    shape, dtype = tuple(a.shape), str(a.dtype)
    if a.shape != b.shape:
        return ValueDiff(name, shape, dtype, np.inf, np.inf, False,
                         f"shape {list(a.shape)} vs {list(b.shape)}")
    if a.dtype != b.dtype:
        return ValueDiff(name, shape, dtype, np.inf, np.inf, False, f"dtype {a.dtype} vs {b.dtype}")
    if a.dtype == object or a.dtype.kind in "USb":
        neq = int(np.sum(a != b)) if a.size else 0
        return ValueDiff(name, shape, dtype, float(neq > 0), float(neq > 0), neq == 0,
                         f"{neq} elements differ" if neq else "")
    if a.size == 0:
        return ValueDiff(name, shape, dtype, 0.0, 0.0, True)
    if a.dtype.kind in "iu":
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        m = float(d.max())
        rel = float((d / (np.abs(b.astype(np.float64)) + atol)).max())
        return ValueDiff(name, shape, dtype, m, rel, m == 0, "" if m == 0 else "integers differ")
    af = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    bf = b.astype(af.dtype)
    nan_a, nan_b = np.isnan(af), np.isnan(bf)
    if (nan_a != nan_b).any():
        where = "onnxrun" if (nan_a & ~nan_b).any() else "onnxruntime"
        return ValueDiff(name, shape, dtype, np.inf, np.inf, False, f"NaN only in {where}")
    inf_a, inf_b = np.isinf(af), np.isinf(bf)
    if (inf_a != inf_b).any() or (af[inf_a] != bf[inf_b]).any():
        return ValueDiff(name, shape, dtype, np.inf, np.inf, False, "infinities differ")
    fin = ~(nan_a | inf_a)
    if not fin.any():
        return ValueDiff(name, shape, dtype, 0.0, 0.0, True)
    d = np.abs(af[fin] - bf[fin])
    ref = np.abs(bf[fin])
    ok = bool((d <= atol + rtol * ref).all())
    return ValueDiff(name, shape, dtype, float(d.max()), float((d / (ref + atol)).max()), ok)


def _stats(name: str, value: Any, other: Any, kind: str, rtol: float, atol: float) -> ValueStats:
    if not isinstance(value, (np.ndarray, np.generic)):
        text = type(value).__name__ if value is not None else None
        return ValueStats(name, None, text, kind=kind)
    a = np.asarray(value)
    st = ValueStats(name, tuple(a.shape), str(a.dtype), kind=kind)
    if a.size and a.dtype.kind in "fiub":
        af = a.astype(np.float64)
        fin = af[np.isfinite(af)]
        if fin.size:
            st.min, st.max, st.mean = float(fin.min()), float(fin.max()), float(fin.mean())
    if other is not None:
        d = compare_values(name, value, other, rtol, atol)
        st.max_abs_diff, st.ok = d.max_abs, d.ok
    return st


# ---- sessions ------------------------------------------------------------------------------
def _load(model) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(str(model))


def _ort_session(model: onnx.ModelProto, level: Optional[int]):
    """An onnxruntime session on CPU (onnxruntime's own errors become onnxrun.Fail)."""
    from ..errors import Fail
    try:
        return _ort_session_raw(model, level)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime's exception classes
        raise Fail(f"onnxruntime could not run the model: {exc}") from exc


def _ort_session_raw(model: onnx.ModelProto, level: Optional[int]):
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("comparing needs the onnxruntime package (pip install onnxruntime)") \
            from exc
    opts = ort.SessionOptions()
    if level is not None:
        opts.graph_optimization_level = {
            0: ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            1: ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            2: ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        }.get(level, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(model.SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - retried once below when it is the IR version
        found = re.search(r"max supported IR version: (\d+)", str(exc))
        if not found or model.ir_version <= int(found.group(1)):
            raise
    older = onnx.ModelProto()  # a newer IR version than onnxruntime reads: say it is older
    older.CopyFrom(model)
    older.ir_version = int(found.group(1))
    return ort.InferenceSession(older.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def _with_outputs(model: onnx.ModelProto, names: Sequence[str],
                  types: Dict[str, onnx.ValueInfoProto]) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    existing = {o.name for o in copy.graph.output}
    for n in names:
        if n in existing:
            continue
        vi = types.get(n)
        if vi is not None:
            copy.graph.output.append(vi)
        else:
            copy.graph.output.append(onnx.ValueInfoProto(name=n))
    return copy


def _value_types(model: onnx.ModelProto) -> Dict[str, onnx.ValueInfoProto]:
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - inference is a help, not a requirement
        inferred = model
    out = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        out[vi.name] = vi
    return out


def _is_tensor_or_unknown(vi: Optional[onnx.ValueInfoProto]) -> bool:
    if vi is None or not vi.HasField("type"):
        return True
    return vi.type.WhichOneof("value") == "tensor_type"


def compare_with_onnxruntime(model, feeds: Optional[Dict[str, Any]] = None,
                             per_node: bool = False, rtol: float = 1e-4, atol: float = 1e-5,
                             dims: Optional[Dict[str, int]] = None, seed: int = 0,
                             level: str = "all", ort_level: Optional[str] = None,
                             chunk_size: int = 64, session_options=None,
                             progress: Optional[Callable[[int, int], None]] = None,
                             show_progress: bool = False) -> CompareResult:
    """Run ``model`` (path, bytes or ModelProto) with onnxrun and onnxruntime on the same inputs.

    ``feeds``: input values (missing inputs are random, of the right type and shape; symbolic
    dimensions from ``dims``, else 1). ``level``: onnxrun's graph optimization level (disable,
    basic, extended, all); ``ort_level`` onnxruntime's (default: the same).
    ``per_node=True`` also compares every node's outputs in topological order and reports the
    first node that differs beyond tolerance, with its inputs' and outputs' statistics.
    ``progress(done, total)`` is called as node chunks are checked; ``show_progress=True`` draws
    a progress bar on stderr when it is a terminal.
    """
    import onnxrun
    from ..cli.inputs import make_feeds

    proto = _load(model)
    opts = session_options or onnxrun.SessionOptions()
    if session_options is None:
        opts.graph_optimization_level = _LEVELS[level] if isinstance(level, str) else int(level)
    ours = onnxrun.InferenceSession(proto.SerializeToString(), opts)
    given = dict(feeds or {})
    random_feeds = make_feeds(_FeedView(ours, given), {}, dict(dims or {}), seed)
    all_feeds = {**random_feeds, **given}
    ort_lvl = ort_level if ort_level is not None else level
    ort_lvl = _LEVELS[ort_lvl] if isinstance(ort_lvl, str) else int(ort_lvl)

    output_names = [o.name for o in ours.get_outputs()]
    our_out = ours.run(output_names, all_feeds)
    theirs_sess = _ort_session(proto, ort_lvl)
    their_out = theirs_sess.run(output_names, all_feeds)
    diffs = [compare_values(n, a, b, rtol, atol)
             for n, a, b in zip(output_names, our_out, their_out)]
    result = CompareResult(diffs, rtol, atol, per_node=per_node)
    if per_node:
        _per_node(proto, ours, all_feeds, result, ort_lvl, chunk_size, progress, show_progress)
    return result


class _FeedView:
    """A session view listing only the inputs not given (for make_feeds)."""

    def __init__(self, sess, given) -> None:
        self._inputs = [a for a in sess.get_inputs() if a.name not in given]

    def get_inputs(self):
        return self._inputs


def _per_node(proto, ours, feeds, result: CompareResult, ort_level, chunk_size, progress,
              show_progress) -> None:
    from .progress import Progress
    graph = proto.graph
    types = _value_types(proto)
    init_names = {t.name for t in graph.initializer}
    produced = []  # (node index, output name)
    for i, node in enumerate(graph.node):
        for o in node.output:
            if o and _is_tensor_or_unknown(types.get(o)):
                produced.append((i, o))
    total = len(produced)
    bar = Progress(total, "comparing nodes", enabled=None if show_progress else False)
    rtol, atol = result.rtol, result.atol
    try:
        for start in range(0, total, max(1, chunk_size)):
            chunk = produced[start:start + chunk_size]
            names = [o for _, o in chunk]
            ours_vals = ours.run(names, feeds)
            ort_sess = _ort_session(_with_outputs(proto, names, types), ort_level)
            theirs_vals = ort_sess.run(names, feeds)
            del ort_sess
            for (idx, name), a, b in zip(chunk, ours_vals, theirs_vals):
                d = compare_values(name, a, b, rtol, atol)
                result.nodes_checked = idx + 1
                if not d.ok:
                    result.first_divergence = _divergence(proto, idx, name, ours, feeds, types,
                                                          init_names, ort_level, rtol, atol)
                    return
            bar.update(len(chunk))
            if progress is not None:
                progress(min(start + len(chunk), total), total)
    finally:
        bar.close()
    result.nodes_checked = len(graph.node)


def _divergence(proto, idx, out_name, ours, feeds, types, init_names, ort_level, rtol, atol):
    node = proto.graph.node[idx]
    inits = {t.name: t for t in proto.graph.initializer}
    runtime_inputs = [n for n in node.input if n and n not in inits]
    outputs = [n for n in node.output if n and _is_tensor_or_unknown(types.get(n))]
    wanted = list(dict.fromkeys(runtime_inputs + outputs))
    fetch = [n for n in wanted if n not in feeds]
    ours_vals = dict(zip(fetch, ours.run(fetch, feeds)))
    ort_sess = _ort_session(_with_outputs(proto, fetch, types), ort_level)
    theirs_vals = dict(zip(fetch, ort_sess.run(fetch, feeds)))
    for n in wanted:
        ours_vals.setdefault(n, feeds.get(n))
        theirs_vals.setdefault(n, feeds.get(n))
    in_stats = []
    for n in node.input:
        if not n:
            continue
        if n in inits:
            from onnx import numpy_helper
            try:
                value = numpy_helper.to_array(inits[n])
            except Exception:  # noqa: BLE001 - external data etc.: shape only
                value = None
            in_stats.append(_stats(n, value, None, "initializer", rtol, atol))
        else:
            in_stats.append(_stats(n, ours_vals[n], theirs_vals.get(n),
                                   "input", rtol, atol))
    out_stats = [_stats(n, ours_vals[n], theirs_vals.get(n), "output", rtol, atol)
                 for n in outputs]
    return NodeDivergence(idx, node.name, node.op_type, node.domain, out_name, in_stats,
                          out_stats)
