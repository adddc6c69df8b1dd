"""Tools beyond onnxruntime's API: tracing, custom ops, comparison with onnxruntime, model
inspection, profiling reports, progress bars and table formatting.

* :class:`onnxrun.tools.tracing.Tracer` - per-node records of a run (also ``onnxrun.Tracer``)
* :func:`onnxrun.tools.custom_ops.custom_op` - Python kernels for any domain (``onnxrun.custom_op``)
* :func:`onnxrun.tools.compare.compare_with_onnxruntime` - outputs or first diverging node
* :func:`onnxrun.tools.inspect.model_info` - what a model contains (``onnxrun info``)
* :func:`onnxrun.tools.profile_report.profile_model` - time by op type (``onnxrun profile``)
* :class:`onnxrun.tools.progress.Progress` - a progress bar on stderr (TTY only)
* :func:`onnxrun.tools.table.format_table` - aligned text tables
"""

from __future__ import annotations

from .custom_ops import custom_op, remove_custom_op  # noqa: F401
from .progress import Progress  # noqa: F401
from .table import format_table  # noqa: F401
from .tracing import TraceRecord, Tracer  # noqa: F401
