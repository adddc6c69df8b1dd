"""Stage 4: graph transformers, applied by ``graph_optimization_level``.

A transformer is a module here exposing ``NAME``, ``LEVEL`` (1 basic, 2 extended, 3 layout) and
``apply(graph, ctx) -> bool`` (True when it changed the graph). Each applies to one graph; the
manager runs it over the main graph and every subgraph, repeating a level until nothing changes.
Transformers never remove or rename graph inputs or outputs.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from typing import List

from ..ir.graph import Graph

_TRANSFORMERS: List = []
_LOCK = threading.Lock()


def transformers() -> List:
    """Every transformer module, in (level, order, name) order; found once per process."""
    if _TRANSFORMERS:
        return _TRANSFORMERS
    with _LOCK:  # sessions may be created concurrently: publish the list whole, once
        if not _TRANSFORMERS:
            found = []
            for mod in pkgutil.iter_modules(__path__):
                if mod.name.startswith("_"):
                    continue
                m = importlib.import_module(f"{__name__}.{mod.name}")
                if hasattr(m, "apply") and hasattr(m, "LEVEL"):
                    found.append(m)
            found.sort(key=lambda m: (m.LEVEL, getattr(m, "ORDER", 50), m.NAME))
            _TRANSFORMERS.extend(found)
    return _TRANSFORMERS


def _graphs(graph: Graph) -> List[Graph]:
    """``graph`` and every subgraph in it, at any depth."""
    found, i = [graph], 0
    while i < len(found):
        for node in found[i].nodes:
            subs = node.subgraphs()
            if subs:
                found.extend(sub for _, sub in subs)
        i += 1
    return found


def optimize(graph: Graph, level: int, ctx) -> List[str]:
    """Apply every transformer whose level is <= ``level``; returns names of those that fired."""
    fired = []
    disabled = getattr(ctx, "disabled_optimizers", set())
    for lvl in (1, 2, 3):
        if level < lvl:
            break
        active = [t for t in transformers() if t.LEVEL == lvl and t.NAME not in disabled]
        for _ in range(8):
            changed = False
            graphs = _graphs(graph)  # transformers never add or remove subgraphs
            for t in active:
                for g in graphs:
                    if t.apply(g, ctx):
                        changed = True
                        fired.append(t.NAME)
            if not changed:
                break
    for g in _graphs(graph):
        _drop_unused_constants(g)
    return fired


def _drop_unused_constants(graph: Graph) -> None:
    """Forget constants nothing reads any more (weights replaced by folded copies, folded
    subgraphs' inputs), so the plan does not keep them alive."""
    outputs = {id(v) for v in graph.outputs}
    for name, v in list(graph.values.items()):
        if v.const is not None and not v.uses and id(v) not in outputs:
            del graph.values[name]
            if graph.initializers.get(name) is v:
                del graph.initializers[name]
