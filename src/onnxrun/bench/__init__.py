"""Side-by-side benchmarks of onnxrun against onnxruntime (a peer, imported lazily here only).

``runner.compare`` times one model (interleaved runs, medians, init, output agreement),
``memory`` measures peak memory in a separate process per runtime, ``suite`` lists the models
of ``onnxrun bench --suite``.
"""
