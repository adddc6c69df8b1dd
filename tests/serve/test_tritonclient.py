"""Triton's own HTTP client (tritonclient.http) speaks the protocol with the server."""

import numpy as np
import pytest

import onnxrun

from .models import scorer

httpclient = pytest.importorskip("tritonclient.http")


def test_tritonclient_metadata_and_infer(scorer_server):
    _, c = scorer_server
    url = f"{c.base_url.host}:{c.base_url.port}"
    client = httpclient.InferenceServerClient(url=url)
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("scorer")
        meta = client.get_model_metadata("scorer")
        assert [i["name"] for i in meta["inputs"]] == ["x", "idx"]
        assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
        rng = np.random.default_rng(4)
        x = rng.standard_normal((3, 4)).astype(np.float32)
        idx = np.array([4, 0, 2], np.int64)
        want = onnxrun.InferenceSession(scorer()).run(None, {"x": x, "idx": idx})
        for binary in (True, False):
            inputs = [httpclient.InferInput("x", list(x.shape), "FP32"),
                      httpclient.InferInput("idx", list(idx.shape), "INT64")]
            inputs[0].set_data_from_numpy(x, binary_data=binary)
            inputs[1].set_data_from_numpy(idx, binary_data=binary)
            outputs = [httpclient.InferRequestedOutput("y", binary_data=binary),
                       httpclient.InferRequestedOutput("cls", binary_data=not binary)]
            result = client.infer("scorer", inputs, outputs=outputs, request_id="t1")
            np.testing.assert_array_equal(result.as_numpy("y"), want[0])
            np.testing.assert_array_equal(result.as_numpy("cls"), want[1])
            assert result.get_response()["id"] == "t1"
        bad = httpclient.InferInput("x", [3, 5], "FP32")
        bad.set_data_from_numpy(np.zeros((3, 5), np.float32))
        with pytest.raises(Exception, match="the model expects"):
            client.infer("scorer", [bad, inputs[1]])
    finally:
        client.close()
