"""GraphPartitioner: assign each node to the first provider (in priority order) that has a
kernel for it, then insert copy nodes wherever a value crosses from one device to another."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

from ..ir.graph import Graph, Node, Value
from .memcpy import FROM_HOST, TO_HOST, memcpy_kernel_def

HOST = "cpu"


def assign(graph: Graph, providers: List, info_for: Callable[[Node, Graph], object]) -> List[Node]:
    """Set ``provider`` and ``kernel_def`` on every node of the tree; returns unassigned nodes."""
    missing = []
    for g, node in graph.walk():
        if node.kernel_def is not None and node.provider is not None:
            continue
        node.provider, node.kernel_def = None, None
        for p in providers:
            kdef = p.get_capability(node, lambda n, g=g: info_for(n, g))
            if kdef is not None:
                node.provider, node.kernel_def = p.name, kdef
                break
        if node.kernel_def is None:
            missing.append(node)
    return missing


def insert_copies(graph: Graph, providers_by_name: Dict, outer_device: str = HOST) -> int:
    """Insert MemcpyFromHost / MemcpyToHost nodes at device boundaries (this graph and all
    subgraphs). Returns the number of copy nodes inserted."""
    device_of: Dict[int, str] = {}
    for v in graph.inputs:
        device_of[id(v)] = HOST
    for v in graph.values.values():
        if v.const is not None:
            device_of[id(v)] = HOST
    for v in graph.outer_refs:
        device_of[id(v)] = outer_device
    copies: Dict[Tuple[int, str], Value] = {}
    count = 0
    for node in list(graph.nodes):
        dev = providers_by_name[node.provider].device
        for i, v in enumerate(node.inputs):
            if v is None:
                continue
            src = device_of.get(id(v), HOST)
            if src != dev:
                moved, n = _copy_value(graph, v, src, dev, node, providers_by_name, copies,
                                       device_of)
                count += n
                graph.replace_input(node, i, moved)
        for v in node.outputs:
            if v is not None:
                device_of[id(v)] = dev
        for _, sub in node.subgraphs():
            count += insert_copies(sub, providers_by_name, dev)
    for k, v in enumerate(list(graph.outputs)):
        src = device_of.get(id(v), HOST)
        if src != HOST:
            # the host copy takes the output's name, so callers see the names they expect
            original = v.name
            existing = copies.get((id(v), HOST))
            v.name = graph.unique_name(original + "_" + src)
            graph.values[v.name] = v
            if existing is not None:  # a host copy made for a CPU consumer serves too
                del graph.values[existing.name]
                existing.name = original
                graph.values[original] = existing
                graph.outputs[k] = existing
                continue
            host = Value(original, v.type)
            graph.values[original] = host
            node = Node(TO_HOST, [v], [host], name=f"{TO_HOST}_{original}", domain="")
            _place_copy(graph, node, providers_by_name, src)
            graph.outputs[k] = host
            count += 1
    return count


def _copy_value(graph, v, src, dev, consumer, providers_by_name, copies, device_of):
    key = (id(v), dev)
    if key in copies:
        return copies[key], 0
    n = 0
    cur = v
    if src != HOST:  # device -> host first
        host = graph.add_value(Value(graph.unique_name(v.name + "_host"), v.type))
        node = Node(TO_HOST, [cur], [host], name=f"{TO_HOST}_{host.name}")
        _place_copy(graph, node, providers_by_name, src, before=consumer)
        device_of[id(host)] = HOST
        cur, n = host, n + 1
    if dev != HOST:
        moved = graph.add_value(Value(graph.unique_name(v.name + "_" + dev), v.type))
        node = Node(FROM_HOST, [cur], [moved], name=f"{FROM_HOST}_{moved.name}")
        _place_copy(graph, node, providers_by_name, dev, before=consumer)
        device_of[id(moved)] = dev
        cur, n = moved, n + 1
    copies[key] = cur
    return cur, n


def _place_copy(graph, node, providers_by_name, device, before: Optional[Node] = None):
    provider = next(p for p in providers_by_name.values() if p.device == device)
    node.provider = provider.name
    node.kernel_def = memcpy_kernel_def(node.op_type, provider.name)
    node.since_version = 1
    index = graph.nodes.index(before) if before is not None else len(graph.nodes)
    graph.add_node(node, index)
