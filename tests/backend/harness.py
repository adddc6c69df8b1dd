"""The official ONNX backend suite, run through onnxrun the way onnx's own runner compares.

Cases: node cases from ``onnx.backend.test.case.node.collect_testcases`` (cached in
``.cache/`` at the repo root, keyed by the versions of onnx, NumPy and ml_dtypes, which compute
their references), model cases shipped as data under
``onnx/backend/test/data/{simple,pytorch-converted,pytorch-operator}``, and the light models.
"""

from __future__ import annotations

import glob
import os
import pickle
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

import numpy as np
import onnx
from onnx import numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(REPO, ".cache")
DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
EXCLUDED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "excluded.txt")


@dataclass
class Case:
    name: str
    kind: str  # node | simple | pytorch-converted | pytorch-operator | light
    model: Any  # ModelProto, or a path
    data_sets: List[Tuple[list, list]] = field(default_factory=list)
    rtol: float = 1e-3
    atol: float = 1e-7


def node_cases() -> List[Case]:
    os.makedirs(CACHE, exist_ok=True)
    import ml_dtypes  # the references of some cases are computed with it (and NumPy)
    path = os.path.join(CACHE, f"node_cases_onnx{onnx.__version__}_np{np.__version__}_"
                               f"mld{ml_dtypes.__version__}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    from onnx.backend.test.case.node import collect_testcases
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        raw = collect_testcases(None)
    cases = []
    for c in raw:
        sets = [([_norm(x) for x in ins], [_norm(x) for x in outs]) for ins, outs in c.data_sets]
        cases.append(Case(c.name, "node", c.model, sets, c.rtol, c.atol))
    tmp = path + f".{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(cases, f)
    os.replace(tmp, path)
    return cases


def _norm(x):
    if isinstance(x, onnx.TensorProto):
        return numpy_helper.to_array(x)
    return x


def _load_pb(path: str):
    data = open(path, "rb").read()
    for proto_cls, convert in ((onnx.TensorProto, numpy_helper.to_array),
                               (onnx.SequenceProto, numpy_helper.to_list),
                               (onnx.OptionalProto, numpy_helper.to_optional),
                               (onnx.MapProto, numpy_helper.to_dict)):
        p = proto_cls()
        try:
            p.ParseFromString(data)
        except Exception:
            continue
        if proto_cls is onnx.TensorProto and not (p.dims or p.raw_data or p.float_data
                                                   or p.int32_data or p.int64_data or
                                                   p.double_data or p.string_data):
            if not p.data_type:
                continue
        try:
            return convert(p)
        except Exception:
            continue
    raise ValueError(f"cannot read {path}")


def data_cases(kind: str) -> List[Case]:
    cases = []
    for d in sorted(glob.glob(os.path.join(DATA, kind, "test_*"))):
        model = os.path.join(d, "model.onnx")
        if not os.path.exists(model):
            continue
        sets = []
        for ds in sorted(glob.glob(os.path.join(d, "test_data_set_*"))):
            ins = [_load_pb(p) for p in sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                                               key=_index)]
            outs = [_load_pb(p) for p in sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                                                key=_index)]
            sets.append((ins, outs))
        cases.append(Case(os.path.basename(d), kind, model, sets))
    return cases


def _index(path: str) -> int:
    return int(os.path.basename(path).split("_")[1].split(".")[0])


def light_cases() -> List[Case]:
    cases = []
    for model in sorted(glob.glob(os.path.join(DATA, "light", "light_*.onnx"))):
        name = os.path.basename(model)[:-5]
        proto = onnx.load(model)
        inits = {i.name for i in proto.graph.initializer}
        ins = []
        for x in proto.graph.input:
            if x.name in inits:
                continue
            shape = tuple(d.dim_value if d.HasField("dim_value") else 1
                          for d in x.type.tensor_type.shape.dim)
            n = int(np.prod(shape))
            ins.append((np.arange(n).reshape(shape) / n).astype(np.float32))
        outs = [numpy_helper.to_array(onnx.load_tensor(p)) for p in
                sorted(glob.glob(os.path.join(DATA, "light", f"{name}_output_*.pb")))]
        cases.append(Case(name, "light", model, [(ins, outs)]))
    return cases


def all_cases(kinds=("node", "simple", "pytorch-converted", "pytorch-operator", "light")):
    out = []
    for k in kinds:
        if k == "node":
            out += node_cases()
        elif k == "light":
            out += light_cases()
        else:
            out += data_cases(k)
    return out


#: Cast / CastLike cases from floats to 4- and 2-bit integers: their inputs run from -9 to 15
#: (-3 to 3), so out-of-range values decide the expected output.
_NARROW_CAST = re.compile(r"test_cast(like)?_(FLOAT|FLOAT16)_to_U?INT[42](_expanded)?$")


def environment_exclusions() -> dict:
    """Cases whose expected outputs depend on an installed package rather than on ONNX, with
    why: the suite computes Cast-to-INT4/UINT4/INT2/UINT2 references with ml_dtypes, and
    ml_dtypes 0.7 maps out-of-range floats to 0 where ONNX's rule (and onnxruntime) keeps the
    low bits, as ml_dtypes 0.5 did. onnxrun's rule is tested on its own in
    tests/kernels/test_cast_narrow_int.py."""
    import ml_dtypes
    with np.errstate(all="ignore"):
        wraps = int(np.array([-9.0], np.float32).astype(ml_dtypes.int4).astype(np.int8)[0]) == 7
    if wraps:
        return {}
    reason = (f"expected output made by ml_dtypes {ml_dtypes.__version__}, which maps "
              "out-of-range floats to 0; ONNX (docs/technical/int4.md) and onnxruntime keep "
              "the low bits, as onnxrun does (tests/kernels/test_cast_narrow_int.py)")
    return {c.name: reason for c in node_cases() if _NARROW_CAST.match(c.name)}


def excluded() -> dict:
    """case name -> reason, from excluded.txt (``name: reason`` per line, # comments), and the
    environment-dependent cases of :func:`environment_exclusions`."""
    result = environment_exclusions()
    if os.path.exists(EXCLUDED_FILE):
        for line in open(EXCLUDED_FILE):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(":")
            result[name.strip()] = reason.strip()
    return result


def input_names(sess) -> List[str]:
    return [i.name for i in sess.get_inputs()]


def run_case(case: Case, **session_kwargs) -> None:
    """Run every data set of ``case``; raises AssertionError (or the runtime's error)."""
    import onnxrun
    model = case.model
    sess = onnxrun.InferenceSession(model, **session_kwargs)
    names = input_names(sess)
    for ins, refs in case.data_sets:
        feeds = {n: v for n, v in zip(names, ins)}
        outs = sess.run(None, feeds)
        assert_similar(refs, outs, case.rtol, case.atol)


def assert_similar(refs, outs, rtol, atol) -> None:
    """onnx's runner comparison: same count, shapes, dtypes; allclose; strings exact."""
    assert len(outs) == len(refs), f"{len(outs)} outputs, expected {len(refs)}"
    for i, (ref, out) in enumerate(zip(refs, outs)):
        if isinstance(ref, (list, tuple)):
            assert isinstance(out, (list, tuple)), f"output {i}: {type(out)} is not a sequence"
            assert len(out) == len(ref), f"output {i}: sequence of {len(out)}, expected {len(ref)}"
            assert_similar(list(ref), list(out), rtol, atol)
            continue
        if ref is None:
            assert out is None, f"output {i}: expected an empty optional, got {type(out)}"
            continue
        if isinstance(ref, dict):
            assert isinstance(out, dict) and out.keys() == ref.keys(), f"output {i}: map differs"
            continue
        assert isinstance(out, np.ndarray), f"output {i}: {type(out).__name__} is not an array"
        ref = np.asarray(ref)
        np.testing.assert_array_equal(out.shape, ref.shape, err_msg=f"Output {i} has incorrect shape")
        if ref.dtype == object:
            np.testing.assert_array_equal(out, ref)
            continue
        np.testing.assert_equal(out.dtype, ref.dtype)
        r = rtol
        if out.dtype.name == "bfloat16" or out.dtype.itemsize == 1 and out.dtype.kind == "V" or \
                out.dtype.type.__module__.startswith("ml_dtypes"):
            if out.dtype.name == "bfloat16":
                r = max(rtol, 2 ** -6)
            out, ref = out.astype(np.float32), ref.astype(np.float32)
        np.testing.assert_allclose(out, ref, rtol=r, atol=atol)
