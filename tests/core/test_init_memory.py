"""The huge-page advice is off while sessions initialize and restored afterwards, also when
initializations overlap or fail."""

from __future__ import annotations

import contextlib
import threading

import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import OnnxRuntimeError
from onnxrun.framework import init_memory
from onnxrun.session import inference_session

switch = init_memory._switch()
pytestmark = pytest.mark.skipif(switch is None, reason="this NumPy has no huge-page switch")


def _current() -> bool:
    value = switch(True)
    switch(value)
    return bool(value)


def _model(op="Relu") -> bytes:
    g = helper.make_graph([helper.make_node(op, ["X"], ["Y"])], "g",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.mark.parametrize("before", [True, False])
def test_setting_restored_after_init(before, monkeypatch):
    seen = []
    real = init_memory.no_huge_page_advice

    @contextlib.contextmanager
    def spy():
        with real():
            seen.append(_current())
            yield

    monkeypatch.setattr(inference_session, "no_huge_page_advice", spy)
    old = switch(before)
    try:
        onnxrun.InferenceSession(_model())
        assert seen == [False]
        assert _current() is before
        with pytest.raises(OnnxRuntimeError):
            onnxrun.InferenceSession(_model("NoSuchOp"))
        assert _current() is before
    finally:
        switch(old)


def test_overlapping_blocks_restore_once():
    old = switch(True)
    try:
        inner_done = threading.Event()
        outer_left = threading.Event()
        states = []

        def worker():
            with init_memory.no_huge_page_advice():
                outer_left.wait(5)
                states.append(_current())  # the other block has ended: still off here
            inner_done.set()

        with init_memory.no_huge_page_advice():
            t = threading.Thread(target=worker)
            t.start()
            states.append(_current())
        outer_left.set()
        inner_done.wait(5)
        t.join(5)
        assert states == [False, False]
        assert _current() is True
    finally:
        switch(old)
