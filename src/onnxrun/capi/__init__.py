"""Mirror of ``onnxruntime.capi``: ``onnxruntime_pybind11_state`` (alias ``_pybind_state``)
and ``onnxruntime_inference_collection``, so that programs importing from there run
unchanged."""
