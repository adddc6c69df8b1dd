"""The copy kernels the partitioner places at device boundaries."""

from __future__ import annotations

from ..kernels.registry import KernelDef

FROM_HOST = "MemcpyFromHost"
TO_HOST = "MemcpyToHost"


class _Memcpy:
    def __init__(self, info) -> None:
        provider = info.provider
        self.fn = provider.from_host if info.op_type == FROM_HOST else provider.to_host

    def __call__(self, x):
        return self.fn(x)


def memcpy_kernel_def(op_type: str, provider: str) -> KernelDef:
    return KernelDef(domain="", op_type=op_type, since=1, until=None, provider=provider,
                     factory=_Memcpy, fresh=True, source=__name__, single_output=True)
