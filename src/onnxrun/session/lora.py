"""LoRA adapters: onnxruntime's adapter file format (a FlatBuffer, schema
``onnxruntime/lora/adapter_format/adapter_schema.fbs``) read and written in Python, and
``LoraAdapter`` / ``RunOptions.add_active_adapter`` feeding an adapter's parameters.

Schema (file identifier ``TORT``)::

    table Parameter { name:string; dims:[int64]; data_type:TensorDataType(int32);
                      raw_data:[uint8] (force_align: 8); }
    table Adapter { format_version:int; adapter_version:int; model_version:int;
                    parameters:[Parameter]; }

A FlatBuffer table starts with an int32 pointing back to its vtable (uint16: vtable bytes,
table bytes, then one field offset per field, 0 when absent); offsets to strings, vectors and
tables are uint32 relative to where they are stored. The writer lays objects out front to
back, each referenced object after what refers to it, every value at its natural alignment.
"""

from __future__ import annotations

import os
import struct
from typing import Dict, List, Tuple

import numpy as np

from ..errors import InvalidArgument
from ..ir.types import dtype_of
from .ortvalue import COrtValue, OrtValue, c_value

FORMAT_VERSION = 1
_IDENT = b"TORT"


# ---- reading -----------------------------------------------------------------------------------
class _Reader:
    def __init__(self, buf: bytes, path: str) -> None:
        self.buf, self.path = buf, path

    def fail(self, why: str) -> InvalidArgument:
        return InvalidArgument(f"Adapter file '{self.path}' is not a valid onnxruntime adapter: "
                               f"{why}")

    def u32(self, pos: int) -> int:
        if pos < 0 or pos + 4 > len(self.buf):
            raise self.fail(f"offset {pos} out of range")
        return struct.unpack_from("<I", self.buf, pos)[0]

    def table(self, pos: int) -> Tuple[int, List[int]]:
        """The table at ``pos`` and the absolute position of each field (0: absent)."""
        vt = pos - struct.unpack_from("<i", self.buf, pos)[0] if pos + 4 <= len(self.buf) else -1
        if vt < 0 or vt + 4 > len(self.buf):
            raise self.fail("bad vtable offset")
        vt_size, _ = struct.unpack_from("<HH", self.buf, vt)
        if vt_size < 4 or vt + vt_size > len(self.buf):
            raise self.fail("bad vtable size")
        offs = struct.unpack_from(f"<{(vt_size - 4) // 2}H", self.buf, vt + 4)
        return pos, [pos + o if o else 0 for o in offs]

    @staticmethod
    def field(fields: List[int], i: int) -> int:
        return fields[i] if i < len(fields) else 0

    def scalar(self, fields, i: int, fmt: str, default=0):
        pos = self.field(fields, i)
        if not pos:
            return default
        if pos + struct.calcsize(fmt) > len(self.buf):
            raise self.fail("scalar out of range")
        return struct.unpack_from("<" + fmt, self.buf, pos)[0]

    def vector(self, fields, i: int) -> Tuple[int, int]:
        """(position of the first element, element count) of a vector field ((0, 0): absent)."""
        pos = self.field(fields, i)
        if not pos:
            return 0, 0
        vec = pos + self.u32(pos)
        return vec + 4, self.u32(vec)

    def bytes_of(self, start: int, n: int) -> bytes:
        if start + n > len(self.buf):
            raise self.fail("vector out of range")
        return self.buf[start:start + n]


def read_adapter_bytes(buf: bytes, path: str = "<bytes>") -> Tuple[int, int, int, Dict[str, np.ndarray]]:
    """(format_version, adapter_version, model_version, {name: array}) from adapter bytes."""
    r = _Reader(bytes(buf), path)
    if len(buf) < 8 or buf[4:8] != _IDENT:
        raise r.fail("missing the 'TORT' file identifier")
    _, fields = r.table(r.u32(0))
    fmt_version = r.scalar(fields, 0, "i")
    if fmt_version != FORMAT_VERSION:
        raise r.fail(f"unsupported format version {fmt_version} (supported: {FORMAT_VERSION})")
    adapter_version, model_version = r.scalar(fields, 1, "i"), r.scalar(fields, 2, "i")
    start, count = r.vector(fields, 3)
    params: Dict[str, np.ndarray] = {}
    for k in range(count):
        slot = start + 4 * k
        _, pf = r.table(slot + r.u32(slot))
        s_start, s_len = r.vector(pf, 0)
        name = r.bytes_of(s_start, s_len).decode("utf-8")
        d_start, ndims = r.vector(pf, 1)
        dims = list(struct.unpack_from(f"<{ndims}q", r.bytes_of(d_start, 8 * ndims)))
        elem = r.scalar(pf, 2, "i")
        b_start, nbytes = r.vector(pf, 3)
        try:
            dt = np.dtype(dtype_of(elem))
        except (ValueError, KeyError):
            raise r.fail(f"parameter '{name}' has unsupported data type {elem}") from None
        if dt == object or any(d < 0 for d in dims) or int(np.prod(dims)) * dt.itemsize != nbytes:
            raise r.fail(f"parameter '{name}': {nbytes} bytes of data do not match dims {dims} "
                         f"of {dt}")
        params[name] = np.frombuffer(r.bytes_of(b_start, nbytes), dtype=dt).reshape(dims).copy()
    return fmt_version, adapter_version, model_version, params


# ---- writing -----------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.patches: List[Tuple[int, object]] = []  # (uoffset position, key of its target)
        self.where: Dict[object, int] = {}

    def align(self, n: int, extra: int = 0) -> None:
        """Pad so that the position after ``extra`` more bytes is a multiple of ``n``."""
        while (len(self.buf) + extra) % n:
            self.buf.append(0)

    def table(self, key, fields: List[Tuple[str, object]]) -> None:
        """A table: fields as (struct format, value) or ('ref', key of the referenced object)."""
        sizes = [4 if f == "ref" else struct.calcsize("<" + f) for f, _ in fields]
        layout, pos = [], 4
        for size in sizes:
            pos += (-pos) % size
            layout.append(pos)
            pos += size
        table_size = pos + (-pos) % 4
        vtable = struct.pack(f"<HH{len(fields)}H", 4 + 2 * len(fields), table_size, *layout)
        self.align(4, len(vtable))
        vt_pos = len(self.buf)
        self.buf += vtable
        self.align(8)  # the table's 8-byte fields stay aligned
        t_pos = len(self.buf)
        self.where[key] = t_pos
        body = bytearray(table_size)
        struct.pack_into("<i", body, 0, t_pos - vt_pos)
        for (f, value), off in zip(fields, layout):
            if f == "ref":
                self.patches.append((t_pos + off, value))
            else:
                struct.pack_into("<" + f, body, off, value)
        self.buf += body

    def vector(self, key, data: bytes, count: int, align: int = 4) -> None:
        self.align(max(align, 4), 4)
        self.where[key] = len(self.buf)
        self.buf += struct.pack("<I", count) + data

    def offsets(self, key, targets: List[object]) -> None:
        """A vector of references (uoffsets) to other objects."""
        self.align(4)
        self.where[key] = len(self.buf)
        self.buf += struct.pack("<I", len(targets))
        for i, t in enumerate(targets):
            self.patches.append((self.where[key] + 4 + 4 * i, t))
        self.buf += bytes(4 * len(targets))

    def finish(self) -> bytes:
        for pos, key in self.patches:
            struct.pack_into("<I", self.buf, pos, self.where[key] - pos)
        return bytes(self.buf)


def write_adapter_bytes(adapter_version: int, model_version: int,
                        params: Dict[str, np.ndarray]) -> bytes:
    """The adapter file's bytes for ``params`` (name -> numeric array)."""
    from .ortvalue import _elem_of_array
    w = _Writer()
    w.buf += struct.pack("<I", 0) + _IDENT  # root offset, patched below
    w.patches.append((0, "adapter"))
    names = list(params)
    w.table("adapter", [("i", FORMAT_VERSION), ("i", int(adapter_version)),
                        ("i", int(model_version)), ("ref", "params")])
    w.offsets("params", [("p", i) for i in range(len(names))])
    for i, name in enumerate(names):
        arr = np.ascontiguousarray(params[name])
        elem = _elem_of_array(arr)
        if arr.dtype == object:
            raise InvalidArgument(f"adapter parameter '{name}': string tensors are not supported")
        w.table(("p", i), [("ref", ("name", i)), ("ref", ("dims", i)), ("i", elem),
                           ("ref", ("raw", i))])
        encoded = name.encode("utf-8")
        w.vector(("name", i), encoded + b"\0", len(encoded))
        w.vector(("dims", i), struct.pack(f"<{arr.ndim}q", *arr.shape), arr.ndim, align=8)
        raw = arr.tobytes()
        w.vector(("raw", i), raw, len(raw), align=8)
    return w.finish()


# ---- public API --------------------------------------------------------------------------------
class AdapterFormat:
    """An adapter file's content: versions and parameters (name -> OrtValue)."""

    def __init__(self) -> None:
        self.format_version = FORMAT_VERSION
        self.adapter_version = 0
        self.model_version = 0
        self.parameters: Dict[str, COrtValue] = {}

    @staticmethod
    def read_adapter(file_path) -> "AdapterFormat":
        path = os.fspath(file_path)
        with open(path, "rb") as f:
            fmt, adapter_v, model_v, params = read_adapter_bytes(f.read(), path)
        a = AdapterFormat()
        a.format_version, a.adapter_version, a.model_version = fmt, adapter_v, model_v
        a.parameters = {k: COrtValue(v) for k, v in params.items()}
        return a

    def export_adapter(self, file_path) -> None:
        data = write_adapter_bytes(self.adapter_version, self.model_version,
                                   {k: c_value(v)._tensor("export_adapter")
                                    for k, v in self.parameters.items()})
        with open(os.fspath(file_path), "wb") as f:
            f.write(data)

    def get_format_version(self) -> int:
        return self.format_version

    def set_adapter_version(self, adapter_version: int) -> None:
        self.adapter_version = int(adapter_version)

    def get_adapter_version(self) -> int:
        return self.adapter_version

    def set_model_version(self, model_version: int) -> None:
        self.model_version = int(model_version)

    def get_model_version(self) -> int:
        return self.model_version

    def set_parameters(self, params: Dict[str, OrtValue]) -> None:
        self.parameters = {str(k): c_value(v) for k, v in params.items()}

    def get_parameters(self) -> Dict[str, OrtValue]:
        return {k: OrtValue(v) for k, v in self.parameters.items()}


class LoraAdapter:
    """Adapter parameters loaded from a file; activate with ``RunOptions.add_active_adapter``:
    each parameter is fed as the graph input of the same name."""

    def __init__(self) -> None:
        self._params: Dict[str, np.ndarray] = {}
        self._path = ""

    def Load(self, adapter_file_path) -> None:  # noqa: N802 - onnxruntime's name
        path = os.fspath(adapter_file_path)
        with open(path, "rb") as f:
            _, _, _, self._params = read_adapter_bytes(f.read(), path)
        self._path = path

    @staticmethod
    def create_lora_adapter(file_path, allocator=None) -> "LoraAdapter":
        adapter = LoraAdapter()
        adapter.Load(file_path)
        return adapter


def adapter_feeds(adapters, input_feed: dict) -> dict:
    """``input_feed`` with the parameters of the active adapters added (the caller's own
    feeds win, as in onnxruntime, where a named input overrides an adapter parameter)."""
    merged = {}
    for adapter in adapters:
        merged.update(adapter._params)
    merged.update(input_feed)
    return merged
