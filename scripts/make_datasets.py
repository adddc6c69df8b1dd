"""Build the example models of ``onnxrun.datasets`` (the names onnxruntime ships):

* ``mul_1.onnx``: ``Y = X * W`` with X float[3, 2] and W = [[1, 2], [3, 4], [5, 6]];
* ``sigmoid.onnx``: ``y = Sigmoid(x)`` with x float[3, 4, 5];
* ``logreg_iris.onnx``: a 3-class logistic regression on two features (LinearClassifier ->
  Normalizer -> ZipMap), fitted here on a fixed synthetic data set of three clusters.

    python scripts/make_datasets.py [--out src/onnxrun/datasets]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper


def mul_1() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.array([[1, 2], [3, 4], [5, 6]], np.float32), "W")
    g = h.make_graph([h.make_node("Mul", ["X", "W"], ["Y"])], "mul test",
                     [h.make_tensor_value_info("X", T.FLOAT, [3, 2])],
                     [h.make_tensor_value_info("Y", T.FLOAT, [3, 2])], [w])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 7)], ir_version=4,
                        producer_name="onnxrun")


def sigmoid() -> onnx.ModelProto:
    g = h.make_graph([h.make_node("Sigmoid", ["x"], ["y"])], "test_sigmoid",
                     [h.make_tensor_value_info("x", T.FLOAT, [3, 4, 5])],
                     [h.make_tensor_value_info("y", T.FLOAT, [3, 4, 5])])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 9)], ir_version=3,
                        producer_name="onnxrun")


def _fit_logreg(x: np.ndarray, y: np.ndarray, classes: int, steps: int = 2000):
    """One-vs-rest logistic regression by gradient descent (coefficients, intercepts)."""
    coef = np.zeros((classes, x.shape[1]))
    bias = np.zeros(classes)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ coef.T + bias)))
        err = p - (y[:, None] == np.arange(classes))
        coef -= 0.1 * err.T @ x / len(x)
        bias -= 0.1 * err.mean(axis=0)
    return coef, bias


def logreg_iris() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    centers = np.array([[5.0, 3.4], [5.9, 2.8], [6.6, 3.0]])
    x = np.concatenate([c + 0.3 * rng.standard_normal((50, 2)) for c in centers])
    y = np.repeat(np.arange(3), 50)
    coef, bias = _fit_logreg(x - x.mean(axis=0), y, 3)
    bias = bias - coef @ x.mean(axis=0)  # undo the centring
    nodes = [
        h.make_node("LinearClassifier", ["float_input"], ["label", "probability_tensor"],
                    domain="ai.onnx.ml", classlabels_ints=[0, 1, 2],
                    coefficients=coef.astype(np.float32).reshape(-1).tolist(),
                    intercepts=bias.astype(np.float32).tolist(), multi_class=0,
                    post_transform="LOGISTIC"),
        h.make_node("Normalizer", ["probability_tensor"], ["probability_tensor_normalized"],
                    domain="ai.onnx.ml", norm="L1"),
        h.make_node("ZipMap", ["probability_tensor_normalized"], ["probabilities"],
                    domain="ai.onnx.ml", classlabels_int64s=[0, 1, 2]),
    ]
    probs = h.make_value_info("probabilities", h.make_sequence_type_proto(
        h.make_map_type_proto(T.INT64, h.make_tensor_type_proto(T.FLOAT, []))))
    g = h.make_graph(nodes, "logreg_iris", [h.make_tensor_value_info("float_input", T.FLOAT, [3, 2])],
                     [h.make_tensor_value_info("label", T.INT64, [3]), probs])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 9), h.make_opsetid("ai.onnx.ml", 1)],
                        ir_version=3, producer_name="onnxrun")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "src", "onnxrun", "datasets"))
    args = ap.parse_args()
    for name, build in (("mul_1.onnx", mul_1), ("sigmoid.onnx", sigmoid),
                        ("logreg_iris.onnx", logreg_iris)):
        model = build()
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(args.out, name))
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
