"""InferenceSession: onnxruntime's Python API over onnxrun's pipeline.

Construction runs every stage once (load -> IR -> resolve/expand -> optimize -> partition ->
kernels -> plan); ``run`` validates the feeds and walks the plan.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..errors import InvalidArgument
from ..framework import run_context, threads
from ..framework.executor import run_plan
from ..framework.init_memory import no_huge_page_advice
from ..framework.parallel import ParallelExecutor
from ..framework.session_state import SessionContext
from ..ir.convert import Converter, model_to_ir
from ..ir.graph import Graph
from ..ir.types import TensorType
from ..load import TensorDecoder, load_model
from ..options import ExecutionMode, RunOptions, SessionOptions
from .feeds import FeedSpec, check_names
from .lora import adapter_feeds
from .model_config import override_dims_by_denotation
from .node_arg import ModelMetadata, NodeArg
from .providers_config import check_provider_names, resolve_providers
from .session_api import SessionApiMixin
from .type_inference import infer_types


class _Core:
    """One prepared graph and its plan (the session keeps one per set of fetchable extras)."""

    def __init__(self, graph: Graph, ctx: SessionContext, options: SessionOptions) -> None:
        self.graph = graph
        ctx.prepare(graph)
        self.plan = ctx.build_plan(graph)
        self.output_index = {v.name: i for i, v in enumerate(graph.outputs)}
        self.parallel = None
        if options.execution_mode == ExecutionMode.ORT_PARALLEL:
            n_threads = options.inter_op_num_threads or min(4, os.cpu_count() or 1)
            self.parallel = ParallelExecutor(self.plan, n_threads, 1, options.parallel_min_gain)


class InferenceSession(SessionApiMixin):
    """Load a model and run it: ``InferenceSession(path_or_bytes, sess_options, providers)``."""

    def __init__(self, path_or_bytes, sess_options: Optional[SessionOptions] = None,
                 providers: Optional[Sequence] = None,
                 provider_options: Optional[Sequence[Dict[str, Any]]] = None,
                 **kwargs) -> None:
        self._model_path = os.fspath(path_or_bytes) if isinstance(
            path_or_bytes, (str, os.PathLike)) else None
        self._model, self._base_dir, self._inline = load_model(path_or_bytes)
        self._sess_options = sess_options if sess_options is not None else SessionOptions()
        self._prepare_model()  # options from the model, supplied initializers, thread pools
        self._disabled_optimizers = list(kwargs.get("disabled_optimizers") or [])
        self._providers = resolve_providers(providers, provider_options)
        self._lock = threading.Lock()
        self._profiler = None
        self._run_hooks: List = []
        self._initialize()

    # ---- initialization ----------------------------------------------------------------------
    def _initialize(self) -> None:
        from ..optimizer.saver import save_optimized
        from .profiler import Profiler
        opts = self._sess_options
        self._inferred, self._large_inits, self._stand_ins, self._originals = \
            infer_types(self._model)
        self._ctx = SessionContext(
            self._providers, int(opts.graph_optimization_level), opts.max_tensor_bytes,
            Converter(TensorDecoder(self._base_dir, opts.max_tensor_bytes, self._inline)),
            opts._config,
            disabled_optimizers=self._disabled_optimizers,
            intra_op_num_threads=opts.intra_op_num_threads)
        if opts.enable_profiling:
            self._profiler = Profiler(opts.profile_file_prefix)
        with self._profiler.span("session_initialization") if self._profiler else _null(), \
                no_huge_page_advice():
            graph = self._new_graph()
            self._original_values = set(graph.values)
            defaults = graph.input_defaults
            self._inputs = [NodeArg(v.name, v.type) for v in graph.inputs
                            if v.name not in defaults]
            self._overridable = [NodeArg(v.name, v.type) for v in graph.inputs
                                 if v.name in defaults]
            self._outputs = [NodeArg(v.name, v.type) for v in graph.outputs]
            self._feed_specs = {v.name: FeedSpec(v.name, v.type) for v in graph.inputs}
            self._required = [v.name for v in graph.inputs if v.name not in defaults
                              and not self._feed_specs[v.name].optional]
            self._input_order = [v.name for v in graph.inputs]
            self._defaults = dict(defaults)
            self._core = _Core(graph, self._ctx, opts)
            self._extra_cores: Dict[frozenset, _Core] = {}
        if opts.optimized_model_filepath:
            save_optimized(self._core.graph, self._model, opts.optimized_model_filepath,
                           opts._config)

    def _new_graph(self, extra_outputs: Sequence[str] = ()) -> Graph:
        graph = model_to_ir(self._inferred, self._ctx.converter, self._large_inits,
                            self._stand_ins, self._originals)
        opts = self._sess_options
        for name, arr in opts._initializers.items():
            v = graph.values.get(name)
            if v is None or (v.const is None and v not in graph.inputs):
                raise InvalidArgument(f"add_initializer: '{name}' is not an initializer or "
                                      "input of the model")
            v.const = arr
            graph.input_defaults.pop(name, None)
            graph.initializers[name] = v
        graph.inputs = [v for v in graph.inputs if v.name not in opts._initializers]
        if self._model.ir_version < 4:  # initializers listed as inputs are plain constants
            for v in graph.inputs:
                if v.name in graph.input_defaults:
                    v.const = graph.input_defaults.pop(v.name)
                    graph.initializers[v.name] = v
            graph.inputs = [v for v in graph.inputs if v.const is None]
        if opts._free_dims_by_name:
            for v in graph.inputs:
                if isinstance(v.type, TensorType) and v.type.shape is not None:
                    shape = tuple(opts._free_dims_by_name.get(d, d) if isinstance(d, str) else d
                                  for d in v.type.shape)
                    v.type = TensorType(v.type.elem, shape)
        if opts._free_dims_by_denotation:
            override_dims_by_denotation(graph, self._model, opts._free_dims_by_denotation)
        for name in extra_outputs:
            graph.outputs.append(graph.values[name])
        return graph

    def _core_for(self, names: Sequence[str]) -> _Core:
        extras = frozenset(n for n in names if n not in self._core.output_index)
        if not extras:
            return self._core
        with self._lock:
            core = self._extra_cores.get(extras)
            if core is None:
                for n in extras:
                    if n not in self._original_values:
                        raise InvalidArgument(f"Invalid output name:{n}")
                with no_huge_page_advice():
                    core = _Core(self._new_graph(sorted(extras)), self._ctx,
                                 self._sess_options)
                self._extra_cores[extras] = core
        return core

    # ---- running -----------------------------------------------------------------------------
    def run(self, output_names: Optional[Sequence[str]], input_feed: Dict[str, Any],
            run_options: Optional[RunOptions] = None) -> List[Any]:
        """Compute ``output_names`` (all outputs if None) from ``input_feed``."""
        if not isinstance(input_feed, dict):
            raise TypeError("input_feed must be a dict of input name -> value")
        if run_options is not None and run_options._active_adapters:
            input_feed = adapter_feeds(run_options._active_adapters, input_feed)
        check_names(list(input_feed), self._feed_specs, self._required)
        if output_names is None or len(output_names) == 0:
            output_names = [o.name for o in self._outputs]
        for n in output_names:
            if not isinstance(n, str):
                raise TypeError(f"output names must be strings, got {type(n).__name__}")
        core = self._core_for(output_names)
        feeds = []
        for name in self._input_order:
            if name in input_feed:
                feeds.append(self._feed_specs[name].convert(input_feed[name]))
            else:
                feeds.append(self._defaults.get(name))
        ctx = run_context.RunContext(run_options, self._hooks(run_options))
        if run_options is not None:
            ctx.check_terminate()
        token = run_context.activate(ctx)
        previous = threads.set_local(1)  # kernels split work on the intra-op pool instead
        try:
            with np.errstate(all="ignore"):
                if core.parallel is not None:
                    values = core.parallel.run(feeds, [], ctx)
                else:
                    values = run_plan(core.plan, feeds, [], ctx)
        finally:
            if previous is not None:
                threads.set_local(previous)
            run_context.deactivate(token)
        # outputs are views on session-owned results (``base`` set), as onnxruntime's are
        idx = core.output_index
        return [_view(v) if v.__class__ is _ndarray and v.base is None else v
                for v in [values[idx[n]] for n in output_names]]

    def add_run_hook(self, hook) -> None:
        """Observe every node of every later run: ``hook(NodeEvent)``. A hook with a
        ``start_run()`` method is told when each run begins. (onnxrun extension)"""
        self._run_hooks.append(hook)

    def remove_run_hook(self, hook) -> None:
        self._run_hooks.remove(hook)

    def _hooks(self, run_options: Optional[RunOptions]):
        hooks = list(getattr(run_options, "hooks", None) or []) + self._run_hooks
        for h in hooks:
            start = getattr(h, "start_run", None)
            if start is not None:
                start()
        if self._profiler is not None:
            hooks.append(self._profiler.on_node)
        return hooks

    # ---- introspection -----------------------------------------------------------------------
    def get_inputs(self) -> List[NodeArg]:
        return list(self._inputs)

    def get_outputs(self) -> List[NodeArg]:
        return list(self._outputs)

    def get_overridable_initializers(self) -> List[NodeArg]:
        return list(self._overridable)

    def get_modelmeta(self) -> ModelMetadata:
        return ModelMetadata(self._model)

    def get_providers(self) -> List[str]:
        return [p.name for p in self._providers]

    def get_provider_options(self) -> Dict[str, Dict[str, str]]:
        return {p.name: dict(p.options) for p in self._providers}

    def set_providers(self, providers: Optional[Sequence] = None,
                      provider_options: Optional[Sequence[Dict[str, Any]]] = None) -> None:
        """Re-initialize the session with other providers (as onnxruntime does)."""
        check_provider_names(providers)
        self._providers = resolve_providers(providers, provider_options)
        self._initialize()

    def get_session_options(self) -> SessionOptions:
        return self._sess_options

    def end_profiling(self) -> str:
        """Write the profile (Chrome trace JSON) and return its path ('' when not profiling)."""
        if self._profiler is None:
            return ""
        path = self._profiler.write()
        return path

    def get_profiling_start_time_ns(self) -> int:
        return self._profiler.start_ns if self._profiler is not None else 0

    def disable_fallback(self) -> None:
        """No-op: onnxrun never falls back silently."""

    def enable_fallback(self) -> None:
        """No-op: onnxrun never falls back silently."""


_ndarray = np.ndarray
_view = np.ndarray.view


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


