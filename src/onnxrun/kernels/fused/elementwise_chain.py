"""ElementwiseChain (com.onnxrun): a run of float elementwise nodes as one kernel, created by the
optimizer's elementwise-chain fusion (optimizer/fuse_elementwise.py).

Attributes (one entry per link, in order): ``ops`` and ``versions`` (ONNX op type and resolved
since-version; the link runs the ``float_out`` form its CPU kernel registered), ``operand``
(index of the node input a two-input link reads besides the running value; -1 for one-input
links), ``swap`` (1 when the running value is the right operand) and ``inplace`` (1 when the
link may write into the running value). Input 0 is the chain's input. The first link allocates
the running value; the others update it in place where allowed.

At init the links are resolved to (function, operand index, kind) triples; a run is one loop
over them, one NumPy call per link.
"""

from __future__ import annotations

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import REGISTRY, kernel

DOMAIN = "com.onnxrun"

# link kinds
_UNARY, _LEFT_INPLACE, _RIGHT_INPLACE, _LEFT_NEW, _RIGHT_NEW = range(5)


def resolve_links(ops, versions, operand, swap, inplace, n_inputs: int, registry=REGISTRY):
    """[(float_out function, operand index, kind)] for the links; checks the attributes."""
    if not ops or not (len(ops) == len(versions) == len(operand) == len(swap) == len(inplace)):
        raise InvalidArgument("ElementwiseChain: ops, versions, operand, swap and inplace must "
                              "be non-empty lists of one length")
    links = []
    for k, (op, ver, j, sw, ip) in enumerate(zip(ops, versions, operand, swap, inplace)):
        kdef = registry.lookup("", op, int(ver))
        fn = kdef.float_out if kdef is not None else None
        if fn is None:
            raise InvalidArgument(f"ElementwiseChain: link {k} ({op}, version {ver}) has no "
                                  "registered in-place float form")
        j = int(j)
        if j < 0:
            links.append((fn, 0, _UNARY))
            continue
        if j >= n_inputs:
            raise InvalidArgument(f"ElementwiseChain: link {k} ({op}) reads input {j}, "
                                  f"expected an index in [0, {n_inputs})")
        if k > 0 and ip:
            kind = _RIGHT_INPLACE if sw else _LEFT_INPLACE
        else:
            kind = _RIGHT_NEW if sw else _LEFT_NEW
        links.append((fn, j, kind))
    return links


def compile_chain(links):
    """The function running ``links`` on the node's inputs."""
    first_fn, first_j, first_kind = links[0]
    rest = tuple(links[1:])

    def chain(*xs):
        # ``out=...`` makes a ufunc return a 0-d array rather than a scalar for 0-d inputs
        x = xs[0]
        if first_kind == _UNARY:
            acc = first_fn(x, out=...)
        elif first_kind == _RIGHT_NEW:
            acc = first_fn(xs[first_j], x, out=...)
        else:
            acc = first_fn(x, xs[first_j], out=...)
        for fn, j, kind in rest:
            if kind == _LEFT_INPLACE:
                fn(acc, xs[j], out=acc)
            elif kind == _UNARY:
                fn(acc, out=acc)
            elif kind == _RIGHT_INPLACE:
                fn(xs[j], acc, out=acc)
            elif kind == _LEFT_NEW:
                acc = fn(acc, xs[j], out=...)
            else:
                acc = fn(xs[j], acc, out=...)
        return acc

    return chain


@kernel("ElementwiseChain", since=1, domain=DOMAIN, fresh=True)
class ElementwiseChain(OpKernel):
    """Links resolved once; instances are the chain function itself."""

    def __new__(cls, info):
        a = info.attrs
        registry = getattr(info.session, "registry", None) or REGISTRY
        links = resolve_links(list(a.get("ops", [])), list(a.get("versions", [])),
                              list(a.get("operand", [])), list(a.get("swap", [])),
                              list(a.get("inplace", [])), len(info.node.inputs), registry)
        return compile_chain(links)
