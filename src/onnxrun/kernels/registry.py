"""KernelRegistry: kernels keyed by (domain, op, since-version range, provider).

Kernels register themselves next to their code with the :func:`kernel` decorator::

    @kernel("Relu", since=6)                 # a function: inputs positional, attributes keyword
    def relu(x):
        return np.maximum(x, 0)

    @kernel("Conv", since=1, fresh=True)     # a class: built once per node with OpKernelInfo
    class Conv(OpKernel):
        def __init__(self, info): ...
        def __call__(self, X, W, B=None): ...

A node matches a registration when ``since <= node.since_version <= until`` (the node's
since-version is its resolved schema's). Registering an overlapping range for the same
(domain, op, provider) is an error.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from ..errors import KernelRegistrationError

CPU = "CPUExecutionProvider"


@dataclass
class KernelDef:
    """One registration. ``factory(info)`` returns the callable run for a node."""

    domain: str
    op_type: str
    since: int
    until: Optional[int]
    provider: str
    factory: Callable
    supports: Optional[Callable] = None  # info -> bool: can this kernel take that node?
    fresh: bool = False  # outputs are always new buffers (never views of inputs/weights)
    may_alias: Dict[int, int] = field(default_factory=dict)
    source: str = ""
    single_output: bool = False  # for ops without a schema (copy nodes): returns one value
    #: for float32/float64 inputs the kernel's result is ``float_out(*inputs, out=...)``, and
    #: ``float_out(*inputs, out=arr)`` writes it into ``arr`` (a ufunc or a function of that
    #: form): lets the elementwise-chain fusion run the op in place. None: not declared.
    float_out: Optional[Callable] = None

    def covers(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version <= self.until)


class KernelRegistry:
    """All kernel registrations of one provider family (normally the process-wide one)."""

    def __init__(self) -> None:
        self._defs: Dict[Tuple[str, str, str], List[KernelDef]] = {}
        self._found: Dict[Tuple[str, str, int, str], Optional[KernelDef]] = {}  # lookup cache

    def register(self, kdef: KernelDef) -> None:
        key = (kdef.domain, kdef.op_type, kdef.provider)
        for other in self._defs.get(key, []):
            hi_a = kdef.until if kdef.until is not None else 10**9
            hi_b = other.until if other.until is not None else 10**9
            if kdef.since <= hi_b and other.since <= hi_a:
                raise KernelRegistrationError(
                    f"kernel for {kdef.domain or 'ai.onnx'}::{kdef.op_type} on {kdef.provider} "
                    f"versions {kdef.since}-{kdef.until} overlaps the one registered by "
                    f"{other.source} (versions {other.since}-{other.until})")
        self._defs.setdefault(key, []).append(kdef)
        self._found.clear()

    def unregister(self, domain: str, op_type: str, provider: str = CPU) -> None:
        self._defs.pop((domain, op_type, provider), None)
        self._found.clear()

    def lookup(self, domain: str, op_type: str, version: int,
               provider: str = CPU) -> Optional[KernelDef]:
        key = (domain, op_type, version, provider)
        try:
            return self._found[key]
        except KeyError:
            pass
        found = None
        for kdef in self._defs.get((domain, op_type, provider), ()):
            if kdef.covers(version):
                found = kdef
                break
        self._found[key] = found
        return found

    def has_op(self, domain: str, op_type: str) -> bool:
        return any(d == domain and o == op_type for (d, o, _) in self._defs)

    def all(self) -> List[KernelDef]:
        return [k for defs in self._defs.values() for k in defs]


#: The process-wide registry every provider looks kernels up in.
REGISTRY = KernelRegistry()


def kernel(op_type: str, since: int = 1, until: Optional[int] = None, domain: str = "",
           provider: str = CPU, supports: Optional[Callable] = None, fresh: bool = False,
           may_alias: Optional[Dict[int, int]] = None, registry: Optional[KernelRegistry] = None,
           float_out: Optional[Callable] = None):
    """Register the decorated function or OpKernel class for ``op_type`` versions since..until.

    ``fresh=True`` promises every output is a newly allocated array (lets the planner reuse it
    in place). ``may_alias={out: in}`` declares outputs that may be views of an input.
    ``float_out`` declares an elementwise float kernel's in-place form (see KernelDef).
    """

    def deco(obj):
        factory = obj if inspect.isclass(obj) else function_kernel_factory(obj)
        kdef = KernelDef(domain="" if domain == "ai.onnx" else domain, op_type=op_type,
                         since=since, until=until, provider=provider, factory=factory,
                         supports=supports, fresh=fresh, may_alias=dict(may_alias or {}),
                         source=f"{obj.__module__}.{obj.__qualname__}", float_out=float_out)
        (registry or REGISTRY).register(kdef)
        return obj

    return deco


def function_kernel_factory(fn: Callable) -> Callable:
    """A factory binding the node's attributes to ``fn`` as keyword arguments."""
    params = inspect.signature(fn).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    known = {n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}

    def factory(info):
        attrs = info.attrs
        if not accepts_any:
            attrs = {k: v for k, v in attrs.items() if k in known}
        return functools.partial(fn, **attrs) if attrs else fn

    factory.__name__ = f"factory_of_{fn.__name__}"
    factory.__wrapped__ = fn
    return factory
