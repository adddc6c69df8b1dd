"""RNN/GRU/LSTM kernels against onnxruntime on random inputs (variants the backend suite
misses: sequence_lens with reverse/bidirectional, layout=1, activations with alpha/beta, clip,
peepholes, input_forget, linear_before_reset) and error cases."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import InvalidArgument


def _model(op, attrs, shapes, n_out, opset=14, dtype=TensorProto.FLOAT):
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"][:len(shapes)]
    ins = []
    node_in = []
    for n, s in zip(names, shapes):
        if s is None:
            node_in.append("")
            continue
        node_in.append(n)
        et = TensorProto.INT32 if n == "sequence_lens" else dtype
        ins.append(helper.make_tensor_value_info(n, et, s))
    outs = ["Y", "Y_h", "Y_c"][:n_out]
    node = helper.make_node(op, node_in, outs, **attrs)
    g = helper.make_graph([node], "g", ins,
                          [helper.make_tensor_value_info(o, dtype, None) for o in outs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def _compare(op, attrs, feeds, n_out, opset=14, rtol=1e-4, atol=1e-5):
    shapes = [None if v is None else list(v.shape) for v in feeds]
    m = _model(op, attrs, shapes, n_out, opset)
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    fd = {n: v for n, v in zip(names, feeds) if v is not None}
    if attrs.get("layout", 0) == 1:  # onnxruntime lacks layout=1: run it batch-second
        a0 = dict(attrs, layout=0)
        f0 = {k: (v.transpose(1, 0, 2) if k in ("X", "initial_h", "initial_c") else v)
              for k, v in fd.items()}
        m0 = _model(op, a0, [None if v is None else list(v.shape) for v in
                             [f0.get(n) for n in names[:len(feeds)]]], n_out, opset)
        exp = ort.InferenceSession(m0, providers=["CPUExecutionProvider"]).run(None, f0)
        exp = [e.transpose(2, 0, 1, 3) if i == 0 else e.transpose(1, 0, 2)
               for i, e in enumerate(exp)]
    else:
        exp = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, fd)
    got = onnxrun.InferenceSession(m).run(None, fd)
    for e, g in zip(exp, got):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


def _feeds(G, D, S=5, N=3, I=4, H=6, lens=True, init=True, cell=False, peep=False, layout=0,
           seed=0):
    r = np.random.default_rng(seed)
    f = lambda *s: r.standard_normal(s).astype(np.float32) * 0.5  # noqa: E731
    X = f(S, N, I) if layout == 0 else f(N, S, I)
    st = (D, N, H) if layout == 0 else (N, D, H)
    feeds = [X, f(D, G * H, I), f(D, G * H, H), f(D, 2 * G * H),
             np.array([5, 2, 3][:N], dtype=np.int32) if lens else None,
             f(*st) if init else None]
    if cell:
        feeds.append(f(*st) if init else None)
        feeds.append(f(D, 3 * H) if peep else None)
    return feeds


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout", [0, 1])
def test_rnn_variants(direction, layout):
    D = 2 if direction == "bidirectional" else 1
    _compare("RNN", dict(hidden_size=6, direction=direction, layout=layout),
             _feeds(1, D, layout=layout), 2)


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("lbr", [0, 1])
def test_gru_variants(direction, lbr):
    D = 2 if direction == "bidirectional" else 1
    _compare("GRU", dict(hidden_size=6, direction=direction, linear_before_reset=lbr),
             _feeds(3, D), 2)


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("peep", [False, True])
def test_lstm_variants(direction, peep):
    D = 2 if direction == "bidirectional" else 1
    _compare("LSTM", dict(hidden_size=6, direction=direction),
             _feeds(4, D, cell=True, peep=peep), 3)


def test_lstm_input_forget_clip_layout():
    _compare("LSTM", dict(hidden_size=6, input_forget=1, clip=0.7, layout=1),
             _feeds(4, 1, cell=True, peep=True, layout=1), 3)


def test_activations_alpha_beta():
    acts = ["LeakyRelu", "ScaledTanh", "HardSigmoid", "Affine", "Elu", "Softsign"]
    _compare("LSTM", dict(hidden_size=6, direction="bidirectional", activations=acts,
                          activation_alpha=[0.1, 0.9, 0.3, 0.5, 0.8],
                          activation_beta=[1.1, 0.4, 0.2]),
             _feeds(4, 2, cell=True), 3)
    _compare("GRU", dict(hidden_size=6, activations=["Softplus", "ThresholdedRelu"],
                         activation_alpha=[0.2]), _feeds(3, 1), 2)


def test_only_y_h_and_no_optional_inputs():
    f = _feeds(1, 1, lens=False, init=False)
    _compare("RNN", dict(hidden_size=6), f[:3], 2)


def test_float16_keeps_dtype():
    f = _feeds(3, 1)
    shapes = [list(v.shape) if v is not None else None for v in f]
    m = _model("GRU", dict(hidden_size=6), shapes, 2, dtype=TensorProto.FLOAT16)
    fd = {n: (v.astype(np.float16) if v.dtype == np.float32 else v)
          for n, v in zip(["X", "W", "R", "B", "sequence_lens", "initial_h"], f)}
    y, yh = onnxrun.InferenceSession(m).run(None, fd)
    assert y.dtype == np.float16 and yh.dtype == np.float16
    ref = onnxrun.InferenceSession(_model("GRU", dict(hidden_size=6), shapes, 2)).run(
        None, {k: v.astype(np.float32) if v.dtype == np.float16 else v for k, v in fd.items()})
    np.testing.assert_allclose(yh.astype(np.float32), ref[1], atol=1e-2)


def test_bad_sequence_lens():
    f = _feeds(1, 1)
    f[4] = np.array([9, 1, 1], dtype=np.int32)
    shapes = [list(v.shape) if v is not None else None for v in f]
    sess = onnxrun.InferenceSession(_model("RNN", dict(hidden_size=6), shapes, 2))
    fd = {n: v for n, v in zip(["X", "W", "R", "B", "sequence_lens", "initial_h"], f)}
    with pytest.raises(InvalidArgument, match="sequence_lens"):
        sess.run(None, fd)


def test_bad_activation():
    f = _feeds(1, 1)
    shapes = [list(v.shape) if v is not None else None for v in f]
    with pytest.raises(Exception, match="activation"):
        onnxrun.InferenceSession(_model("RNN", dict(hidden_size=6, activations=["Nope"]),
                                        shapes, 2))


@pytest.mark.parametrize("op,G,n", [("RNN", 1, 2), ("GRU", 3, 2), ("LSTM", 4, 3)])
def test_zero_length_sequence_and_clip(op, G, n):
    f = _feeds(G, 2, cell=op == "LSTM")
    f[4] = np.array([0, 2, 5], dtype=np.int32)
    _compare(op, dict(hidden_size=6, direction="bidirectional", clip=0.5), f, n)


@pytest.mark.parametrize("op,G", [("RNN", 1), ("GRU", 3), ("LSTM", 4)])
def test_opset1_matches_opset7(op, G):
    f = _feeds(G, 1, cell=op == "LSTM")
    shapes = [None if v is None else list(v.shape) for v in f]
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    fd = {n: v for n, v in zip(names, f) if v is not None}
    old = onnxrun.InferenceSession(_model(op, dict(hidden_size=6), shapes, 2, opset=1))
    new = onnxrun.InferenceSession(_model(op, dict(hidden_size=6), shapes, 2, opset=7))
    for a, b in zip(old.run(None, fd), new.run(None, fd)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("init,layout", [(True, 0), (False, 0), (True, 1)])
def test_lstm_fast_path(direction, init, layout):
    """Default activations, no sequence_lens / peepholes / clip: the dedicated time loop."""
    D = 2 if direction == "bidirectional" else 1
    f = _feeds(4, D, S=7, lens=False, init=init, cell=True, layout=layout)
    _compare("LSTM", dict(hidden_size=6, direction=direction, layout=layout), f, 3)
    acts = ["sigmoid", "Tanh", "TANH"] * D  # spelled out, still the defaults
    _compare("LSTM", dict(hidden_size=6, direction=direction, layout=layout, activations=acts),
             f, 3)


def test_lstm_fast_path_without_y():
    """Only Y_h and Y_c wanted: h is kept in the kernel's own buffers, inputs untouched."""
    f = _feeds(4, 2, S=6, lens=False, cell=True)
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c"]
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape))
           for n, v in zip(names, f) if v is not None]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "initial_h", "initial_c"],
                            ["", "Y_h", "Y_c"], hidden_size=6, direction="bidirectional")
    g = helper.make_graph([node], "g", ins,
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
                           for o in ("Y_h", "Y_c")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 8
    fd = {n: v for n, v in zip(names, f) if v is not None}
    keep = {k: v.copy() for k, v in fd.items()}
    exp = ort.InferenceSession(m.SerializeToString(),
                               providers=["CPUExecutionProvider"]).run(None, fd)
    got = onnxrun.InferenceSession(m.SerializeToString()).run(None, fd)
    for e, gv in zip(exp, got):
        np.testing.assert_allclose(gv, e, rtol=1e-4, atol=1e-5)
    for k, v in fd.items():
        np.testing.assert_array_equal(v, keep[k])


def _with_constants(model: bytes, feeds: dict, names) -> bytes:
    """``model`` with the inputs ``names`` turned into initializers (taken out of ``feeds``)."""
    from onnx import ModelProto, numpy_helper
    m = ModelProto()
    m.ParseFromString(model)
    for n in names:
        if n in feeds:
            m.graph.initializer.append(numpy_helper.from_array(feeds.pop(n), n))
    keep = [i for i in m.graph.input if i.name in feeds]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    return m.SerializeToString()


@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("init,bias,N", [(True, True, 1), (False, True, 3), (True, False, 2)])
@pytest.mark.parametrize("want_y", [True, False])
def test_lstm_one_step(direction, init, bias, N, want_y):
    """A single time step (a streaming model's call): one GEMM against the stacked weights."""
    f = _feeds(4, 1, S=1, N=N, lens=False, init=init, cell=True, seed=3)
    if not bias:
        f[3] = None
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c"]
    fd = {n: v for n, v in zip(names, f) if v is not None}
    m = _model("LSTM", dict(hidden_size=6, direction=direction),
               [None if v is None else list(v.shape) for v in f], 3)
    if not want_y:
        from onnx import ModelProto
        p = ModelProto()
        p.ParseFromString(m)
        p.graph.node[0].output[0] = ""
        del p.graph.output[0]
        m = p.SerializeToString()
    exp = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, fd)
    sess = onnxrun.InferenceSession(_with_constants(m, fd, ("W", "R", "B")))
    assert sess._core.plan.steps[0].fn.stacked is not None
    keep = {k: v.copy() for k, v in fd.items()}
    got = sess.run(None, fd)
    assert len(got) == len(exp)
    for e, g in zip(exp, got):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    for k, v in fd.items():
        np.testing.assert_array_equal(v, keep[k])


def test_lstm_one_step_float16_and_longer_sequences():
    f = _feeds(4, 1, S=1, N=2, lens=False, cell=True, seed=4)
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c"]
    shapes = [None if v is None else list(v.shape) for v in f]
    shapes[0][0] = "S"
    m = _model("LSTM", dict(hidden_size=6), shapes, 3, dtype=TensorProto.FLOAT16)
    fd = {n: v.astype(np.float16) for n, v in zip(names, f) if v is not None}
    theirs = ort.InferenceSession(m, providers=["CPUExecutionProvider"])
    X3 = np.concatenate([fd["X"]] * 3)
    exp, exp3 = theirs.run(None, fd), theirs.run(None, dict(fd, X=X3))
    sess = onnxrun.InferenceSession(_with_constants(m, fd, ("W", "R", "B")))
    assert sess._core.plan.steps[0].fn.stacked is not None
    # one step, then the time loop on the same stacked weights (a 3-step sequence)
    for e_all, g_all in ((exp, sess.run(None, fd)), (exp3, sess.run(None, dict(fd, X=X3)))):
        for e, g in zip(e_all, g_all):
            assert g.dtype == np.float16 and g.shape == e.shape
            np.testing.assert_allclose(g.astype(np.float32), e.astype(np.float32), atol=2e-3)


def test_lstm_one_step_bad_state_shape_raises():
    f = _feeds(4, 1, S=1, N=2, lens=False, cell=True)
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c"]
    fd = {n: v for n, v in zip(names, f) if v is not None}
    shapes = [None if v is None else list(v.shape) for v in f]
    shapes[6] = [None, None, None]
    m = _model("LSTM", dict(hidden_size=6), shapes, 3)
    sess = onnxrun.InferenceSession(_with_constants(m, fd, ("W", "R", "B")))
    with pytest.raises(InvalidArgument, match="initial state"):
        sess.run(None, dict(fd, initial_c=fd["initial_c"][:, :1]))
