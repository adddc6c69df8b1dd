"""SessionState: everything decided at initialization, for the main graph and every subgraph.

Order, as in onnxruntime: resolve opsets -> expand functions that have no kernel -> graph
transformers by level -> partition across providers and insert copy nodes -> create kernels ->
build the execution plan. ``run`` then only walks the plan.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from ..errors import InvalidGraph, NotImplemented, OnnxRuntimeError, Fail
from ..ir.convert import Converter
from ..ir.graph import Graph, Node, Value
from ..kernels import load_all
from ..kernels.base import OpKernelInfo
from ..kernels.registry import REGISTRY
from .function_expansion import expand, function_body
from .intra_op import IntraOpPool, resolve_threads
from .partitioner import assign, insert_copies
from .planner import ExecutionPlan, build_plan
from .resolver import MAX_OPSETS, check_opsets, get_schema, resolve_graph, resolve_node
from .executor import run_plan
from . import run_context


class SessionContext:
    """Session-wide facts kernels and subgraph builders need."""

    def __init__(self, providers: List, level: int = 99, max_tensor_bytes: int = 4 * 1024 ** 3,
                 converter: Optional[Converter] = None, config: Optional[Dict[str, str]] = None,
                 registry=None, disabled_optimizers: Sequence[str] = (),
                 intra_op_num_threads: int = 0) -> None:
        load_all()
        self.providers = providers
        self.providers_by_name = {p.name: p for p in providers}
        self.level = int(level)
        self.max_tensor_bytes = int(max_tensor_bytes)
        self.converter = converter or Converter()
        self.config = dict(config or {})
        self.registry = registry or REGISTRY
        self.disabled_optimizers = set(disabled_optimizers)
        #: the session's intra-op thread pool (kernels reach it as ``info.intra_op``)
        self.intra_op = IntraOpPool(resolve_threads(intra_op_num_threads))

    # ---- kernels ---------------------------------------------------------------------------
    def info_for(self, node: Node, graph: Graph, provider=None) -> OpKernelInfo:
        return OpKernelInfo(node, graph, self, provider)

    def create_kernel(self, node: Node, graph: Graph):
        provider = self.providers_by_name.get(node.provider)
        info = self.info_for(node, graph, provider)
        try:
            return node.kernel_def.factory(info)
        except OnnxRuntimeError as exc:
            raise exc.with_prefix(f"{info.describe()}: ") from exc
        except Exception as exc:  # a kernel rejecting its attributes or constant inputs
            raise Fail(f"{info.describe()}: could not create kernel: "
                       f"{type(exc).__name__}: {exc}") from exc

    def cpu_kernel(self, node: Node, graph: Graph):
        """A CPU kernel for ``node`` outside any plan (constant folding), or None."""
        kdef = self.registry.lookup(node.domain, node.op_type, node.since_version or 1)
        if kdef is None:
            return None
        info = self.info_for(node, graph, self.providers_by_name.get("CPUExecutionProvider"))
        if kdef.supports is not None and not kdef.supports(info):
            return None
        return kdef.factory(info)

    # ---- initialization stages ---------------------------------------------------------------
    def prepare(self, graph: Graph) -> None:
        """Resolve, expand functions, optimize and partition the whole graph tree, in place."""
        check_opsets(graph)
        resolve_graph(graph)
        self.expand_functions(graph)
        from ..optimizer import optimize
        optimize(graph, self.level, self)
        self.partition(graph)

    def expand_functions(self, graph: Graph) -> None:
        for _ in range(64):  # function bodies may use function ops themselves
            pending = [(g, n) for g, n in graph.walk() if not self._has_kernel(n, g)]
            expanded = False
            for g, node in pending:
                fn = function_body(node, g)
                if fn is None:
                    continue
                for new in expand(node, g, fn, self.converter):
                    resolve_node(new, g)
                expanded = True
            if not expanded:
                return
        raise InvalidGraph("function expansion did not terminate (recursive functions?)")

    def _has_kernel(self, node: Node, graph: Graph) -> bool:
        info = None
        for p in self.providers:
            kdef = self.registry.lookup(node.domain, node.op_type, node.since_version or 1, p.name)
            if kdef is None:
                continue
            if kdef.supports is None:
                return True
            info = info or self.info_for(node, graph, p)
            if kdef.supports(info):
                return True
        return False

    def partition(self, graph: Graph) -> None:
        missing = assign(graph, self.providers, lambda n, g: self.info_for(n, g))
        if missing:
            raise _missing_kernels_error(missing, lambda n: self._graph_of(graph, n))
        insert_copies(graph, self.providers_by_name)

    @staticmethod
    def _graph_of(root: Graph, node: Node) -> Graph:
        for g, n in root.walk():
            if n is node:
                return g
        return root

    def build_plan(self, graph: Graph, outer: Sequence[Value] = (),
                   keep: Sequence[str] = ()) -> ExecutionPlan:
        kernels = []
        for node in graph.nodes:
            fn = self.create_kernel(node, graph)
            kernels.append((node, fn, _returns_tuple(node, graph)))
        return build_plan(graph, kernels, outer, keep)

    def build_subgraph(self, graph: Graph, info: OpKernelInfo) -> "SubgraphRunner":
        plan = self.build_plan(graph, outer=graph.outer_refs)
        return SubgraphRunner(plan, info.implicit_inputs)


class SubgraphRunner:
    """Runs a subgraph plan: ``runner(inputs, outer)``, ``outer`` in the owning node's
    implicit-input order (the kernel passes on what it was called with)."""

    def __init__(self, plan: ExecutionPlan, implicit_names: List[str]) -> None:
        self.plan = plan
        self.graph = plan.graph
        index = {n: i for i, n in enumerate(implicit_names)}
        self.outer_index = [index[v.name] for v in plan.graph.outer_refs]
        self.input_names = [v.name for v in plan.graph.inputs]
        self.output_names = [v.name for v in plan.graph.outputs]

    def __call__(self, inputs: list, outer: Sequence = ()) -> list:
        ctx = run_context.current()
        ctx.depth += 1
        try:
            return run_plan(self.plan, inputs, [outer[i] for i in self.outer_index], ctx)
        finally:
            ctx.depth -= 1


def _returns_tuple(node: Node, graph: Graph) -> Optional[bool]:
    if node.kernel_def is not None and node.kernel_def.single_output:
        return False
    schema = get_schema(node.op_type, graph.opsets.get(node.domain, 1), node.domain)
    if schema is None:
        return None
    return schema.max_output > 1


#: node names listed per missing op in the all-missing-ops error
NAMES_PER_OP = 3


def _missing_kernels_error(missing: List[Node], graph_of) -> OnnxRuntimeError:
    """onnxruntime's error for the first node without a kernel (its class and message), then
    every missing (domain, op, opset) once, with how many nodes use it and the first few
    names: one error shows all that a model needs."""
    first = _missing_kernel_error(missing[0], graph_of(missing[0]))
    if len(missing) == 1:
        return first
    nodes: Dict[tuple, List[str]] = {}
    for node in missing:
        key = (node.domain or "ai.onnx", node.op_type, node.since_version or 1)
        nodes.setdefault(key, []).append(node.name)
    parts = []
    for (domain, op, version), names in nodes.items():
        shown = ", ".join(repr(n) for n in names[:NAMES_PER_OP])
        more = ", ..." if len(names) > NAMES_PER_OP else ""
        count = f"{len(names)} node{'s' if len(names) > 1 else ''}"
        parts.append(f"{domain}::{op}({version}) [{count}: {shown}{more}]")
    err = type(first)(f"{first.message}. Ops without a kernel in onnxrun ({len(nodes)}): "
                      + ", ".join(parts))
    return err


def _missing_kernel_error(node: Node, graph: Graph) -> OnnxRuntimeError:
    opset = graph.opsets.get(node.domain, 1)
    schema = get_schema(node.op_type, opset, node.domain)
    if schema is None and node.domain not in MAX_OPSETS:
        return Fail(f"Fatal error: {node.domain}:{node.op_type}(-1) is not a registered "
                    f"function/op (node '{node.name}')")
    if schema is None:
        return InvalidGraph(
            f"This is an invalid model. In Node, (\"{node.name}\", {node.op_type}, "
            f"\"{node.domain}\", -1) : Error No Op registered for {node.op_type} with "
            f"domain_version of {opset}")
    return NotImplemented(f"Could not find an implementation for {node.op_type}"
                          f"({node.since_version}) node with name '{node.name}'")
