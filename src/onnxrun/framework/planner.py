"""AllocationPlanner: turns a prepared graph with created kernels into an ExecutionPlan.

Values become integer slots. Constants sit in a template copied at the start of each run. Each
step records the slots it frees afterwards (the last use of each value), so memory is released
as early as the graph allows. Outputs that may share memory with constants or with the caller's
feeds are copied before they are handed back, so callers own what they get.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ..ir.graph import Graph, Node, Value


@dataclass
class Step:
    node: Node
    fn: object
    in_slots: Tuple[int, ...]
    out_slots: Tuple[int, ...]
    free_slots: Tuple[int, ...]
    multi: Optional[bool]  # True: kernel returns a tuple; None: decide at run time
    provider: str = "CPUExecutionProvider"
    #: the kernel before any in-place variant replaced it: in-place writes are planned for the
    #: sequential order, so executors running steps in another order call this one
    base_fn: object = None


@dataclass
class ExecutionPlan:
    graph: Graph
    steps: List[Step]
    n_slots: int
    template: list
    input_slots: List[int]
    outer_slots: List[int]
    output_slots: List[int]
    copy_outputs: List[bool]
    slot_of: Dict[str, int]
    names: List[str]
    # (fn, in_slots, out_slots, free_slots, multi, node) per step: what the run loop reads
    flat: List[tuple] = field(default_factory=list)
    fast: List[tuple] = field(default_factory=list)
    trash_slot: int = 0


def build_plan(graph: Graph, kernels: Sequence[Tuple[Node, object, Optional[bool]]],
               outer: Sequence[Value] = (), keep: Sequence[str] = ()) -> ExecutionPlan:
    """``kernels``: (node, callable, multi) in execution order. ``keep``: value names that must
    not be freed (fetchable intermediates)."""
    slot_of: Dict[str, int] = {}
    names: List[str] = []

    def slot(v: Value) -> int:
        s = slot_of.get(v.name)
        if s is None:
            s = slot_of[v.name] = len(names)
            names.append(v.name)
        return s

    input_slots = [slot(v) for v in graph.inputs]
    outer_slots = [slot(v) for v in outer]
    const_values = [v for v in graph.values.values() if v.const is not None]
    for v in const_values:
        slot(v)
    for node, _, _ in kernels:
        for v in node.inputs + node.implicit_inputs + node.outputs:
            if v is not None:
                slot(v)
    for v in graph.outputs:
        slot(v)
    # missing inputs read ``absent`` (always None); missing outputs are written to ``trash``
    # and dropped at once. Two slots: a kernel must never read another's dropped output.
    absent = len(names)
    names.append("")
    trash = len(names)
    names.append("")
    template = [None] * len(names)
    for v in const_values:
        template[slot_of[v.name]] = v.const

    # last use of every slot
    last_use: Dict[int, int] = {}
    for k, (node, _, _) in enumerate(kernels):
        for v in node.inputs + node.implicit_inputs:
            if v is not None:
                last_use[slot_of[v.name]] = k
    pinned = {slot_of[v.name] for v in graph.outputs}
    pinned |= {slot_of[v.name] for v in const_values}
    pinned |= {slot_of[n] for n in keep if n in slot_of}
    frees: List[List[int]] = [[] for _ in kernels]
    for k, (node, _, _) in enumerate(kernels):
        for v in node.outputs:
            if v is not None:
                s = slot_of[v.name]
                if s not in pinned and s not in last_use:
                    frees[k].append(s)  # produced but never read
    for s, k in last_use.items():
        if s not in pinned:
            frees[k].append(s)

    donatable = _donatable_inputs(graph, kernels, outer, slot_of, last_use, pinned)
    steps = []
    for k, (node, fn, multi) in enumerate(kernels):
        base_fn = fn
        variant = getattr(fn, "inplace_variant", None)
        if donatable[k] and variant is not None:
            fn = variant(donatable[k]) or fn
        ins = tuple(slot_of[v.name] if v is not None else absent for v in node.inputs)
        ins += tuple(slot_of[v.name] for v in node.implicit_inputs)
        outs = tuple(slot_of[v.name] if v is not None else trash for v in node.outputs)
        if trash in outs:
            frees[k].append(trash)
        steps.append(Step(node, fn, ins, outs, tuple(sorted(set(frees[k]))), multi,
                          node.provider or "CPUExecutionProvider", base_fn))

    copy_outputs = _outputs_needing_copy(graph, kernels, outer)
    plan = ExecutionPlan(graph, steps, len(names), template, input_slots, outer_slots,
                         [slot_of[v.name] for v in graph.outputs], copy_outputs, slot_of, names,
                         trash_slot=trash)
    plan.flat = [(s.fn, s.in_slots, s.out_slots, s.free_slots, s.multi, s.node) for s in steps]
    plan.fast = [_fast_step(s) for s in steps]
    return plan


def _no_args(values):
    return ()


def _fast_step(s: Step) -> tuple:
    """What the sequential loop reads per step: the kernel, a C-level gatherer of its
    arguments (returning a tuple), the output slot (or -1 for tuple results), and frees."""
    n = len(s.in_slots)
    if n == 0:
        get = _no_args
    elif n == 1:
        slot = s.in_slots[0]
        get = operator.itemgetter(slice(slot, slot + 1))  # a 1-tuple... of a list slice
    else:
        get = operator.itemgetter(*s.in_slots)
    single = s.out_slots[0] if (s.multi is False and len(s.out_slots) == 1) else -1
    return (s.fn, get, single, s.out_slots, s.free_slots, s.multi, s.node)


def _donatable_inputs(graph: Graph, kernels, outer, slot_of, last_use, pinned) -> List[tuple]:
    """For each step, the input positions whose buffer the kernel may overwrite: the buffer was
    allocated during the run (by a kernel declaring fresh outputs), and neither the value nor
    any view of it (outputs of non-fresh kernels alias their inputs) is read later, returned,
    or read twice by this step."""
    group: Dict[str, str] = {}

    def find(name: str) -> str:
        while group.get(name, name) != name:
            name = group[name]
        return name

    foreign_roots = set()
    for v in list(graph.inputs) + list(outer) + [v for v in graph.values.values()
                                                 if v.const is not None]:
        foreign_roots.add(v.name)
    for node, _, _ in kernels:
        fresh = bool(node.kernel_def is not None and node.kernel_def.fresh)
        outs = [v for v in node.outputs if v is not None]
        if fresh:
            continue
        ins = [v for v in node.inputs + node.implicit_inputs if v is not None]
        for o in outs:  # a non-fresh output may alias any input: one buffer group
            for i in ins:
                ro, ri = find(o.name), find(i.name)
                if ro != ri:
                    group[ro] = ri
        if not ins:
            for o in outs:
                foreign_roots.add(o.name)
    members: Dict[str, List[str]] = {}
    for name in slot_of:
        members.setdefault(find(name), []).append(name)
    tainted = {find(n) for n in foreign_roots}
    end_of_group: Dict[str, float] = {}
    for root, names in members.items():
        ends = []
        for n in names:
            s = slot_of[n]
            if s in pinned:
                ends.append(float("inf"))
            else:
                ends.append(last_use.get(s, -1))
        end_of_group[root] = max(ends) if ends else -1
    result = []
    for k, (node, _, _) in enumerate(kernels):
        ok = []
        counts: Dict[str, int] = {}
        for v in node.inputs + node.implicit_inputs:
            if v is not None:
                counts[v.name] = counts.get(v.name, 0) + 1
        for i, v in enumerate(node.inputs):
            if v is None or counts[v.name] != 1:
                continue
            root = find(v.name)
            if root in tainted or end_of_group.get(root) != k:
                continue
            ok.append(i)
        result.append(tuple(ok))
    return result


def _outputs_needing_copy(graph: Graph, kernels, outer) -> List[bool]:
    """An output may share memory with a constant, a feed or an outer value unless every
    kernel on its way declared fresh outputs."""
    foreign = {v.name for v in graph.inputs} | {v.name for v in outer}
    foreign |= {v.name for v in graph.values.values() if v.const is not None}
    shares: Dict[str, bool] = {n: True for n in foreign}
    for node, _, _ in kernels:
        fresh = bool(node.kernel_def is not None and node.kernel_def.fresh)
        reads_foreign = any(shares.get(v.name, False) for v in node.inputs + node.implicit_inputs
                            if v is not None)
        for v in node.outputs:
            if v is not None:
                shares[v.name] = (not fresh) and reads_foreign
    return [shares.get(v.name, True) for v in graph.outputs]
