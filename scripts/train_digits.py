"""Train the bundled default model: a small digit classifier on scikit-learn's digits data.

Writes src/onnxrun/data/digits.onnx (input 'image': float32 [N, 64], pixel values 0..16;
outputs 'logits' [N, 10] and 'label' [N]) and src/onnxrun/data/digits_samples.npz (held-out
images and their true labels). Needs scikit-learn (a development dependency only).

    python scripts/train_digits.py
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "onnxrun", "data")


def main() -> None:
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0,
                                                        stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=400, random_state=0)
    clf.fit(x_train / 16.0, y_train)
    print(f"held-out accuracy (scikit-learn): {clf.score(x_test / 16.0, y_test):.4f}")

    w1, w2 = (w.astype(np.float32) for w in clf.coefs_)
    b1, b2 = (b.astype(np.float32) for b in clf.intercepts_)
    inits = [numpy_helper.from_array(np.array(16.0, np.float32), "scale"),
             numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(b1, "B1"),
             numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(b2, "B2")]
    nodes = [
        helper.make_node("Div", ["image", "scale"], ["x"], name="normalize"),
        helper.make_node("Gemm", ["x", "W1", "B1"], ["h"], name="dense1"),
        helper.make_node("Relu", ["h"], ["a"], name="relu1"),
        helper.make_node("Gemm", ["a", "W2", "B2"], ["logits"], name="dense2"),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0, name="argmax"),
    ]
    graph = helper.make_graph(
        nodes, "digits_mlp",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10]),
         helper.make_tensor_value_info("label", TensorProto.INT64, ["N"])],
        inits, doc_string="8x8 digit classifier (scikit-learn digits), MLP 64-64-10")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="onnxrun-train-digits", ir_version=8)
    model.doc_string = "onnxrun's bundled default model"
    helper.set_model_props(model, {"task": "digit classification", "dataset": "sklearn digits"})
    onnx.checker.check_model(model)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(model, os.path.join(OUT, "digits.onnx"))
    pick = np.arange(0, len(x_test), len(x_test) // 24)[:24]
    np.savez(os.path.join(OUT, "digits_samples.npz"), images=x_test[pick], labels=y_test[pick])
    print(f"wrote digits.onnx and {len(pick)} held-out samples to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
