"""Kernels of the NumbaExecutionProvider (``providers/numba_ep.py``).

The public modules here only register kernels (importing them must not import numba); each
kernel imports its compiled code (the private ``_*.py`` modules, which import numba) when it
is created, at session initialization."""

#: the provider these kernels are registered under
PROVIDER = "NumbaExecutionProvider"
