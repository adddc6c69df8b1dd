"""Mirror of ``onnxruntime.capi`` so that ``from onnxrun.capi.onnxruntime_pybind11_state import
InvalidArgument`` works as it does with onnxruntime."""
