"""RunOptions.terminate set while a run is under way: the executor stops before the next node
(the sequential loop checks the flag between nodes when the run has RunOptions)."""

import numpy as np
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import Fail
from onnxrun.tools.custom_ops import remove_custom_op

DOMAIN = "com.example.terminate"


@pytest.fixture
def ops():
    """``Stop`` sets the terminate flag of the RunOptions in ``state``; ``Count`` counts its
    runs."""
    state = {"ro": None, "count": 0}

    @onnxrun.custom_op(DOMAIN, "Stop")
    def stop(x):
        if state["ro"] is not None:
            state["ro"].terminate = True
        return x

    @onnxrun.custom_op(DOMAIN, "Count")
    def count(x):
        state["count"] += 1
        return x

    yield state
    remove_custom_op(DOMAIN, "Stop")
    remove_custom_op(DOMAIN, "Count")


def _model():
    nodes = [helper.make_node("Stop", ["x"], ["a"], domain=DOMAIN),
             helper.make_node("Count", ["a"], ["y"], domain=DOMAIN)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(DOMAIN, 1)])
    return m.SerializeToString()


def test_terminate_set_during_a_run_stops_before_the_next_node(ops):
    sess = onnxrun.InferenceSession(_model())
    x = np.ones(2, np.float32)
    np.testing.assert_array_equal(sess.run(None, {"x": x})[0], x)  # no RunOptions
    assert ops["count"] == 1
    ro = onnxrun.RunOptions()
    ops["ro"] = ro
    with pytest.raises(Fail, match="terminate flag"):
        sess.run(None, {"x": x}, ro)
    assert ops["count"] == 1
    ro.terminate = False
    ops["ro"] = None
    sess.run(None, {"x": x}, ro)
    assert ops["count"] == 2
