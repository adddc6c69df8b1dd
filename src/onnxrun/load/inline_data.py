"""Large weights read straight from the model's bytes, without a protobuf copy of them.

Parsing a model file with protobuf copies every weight into the message; decoding the weights
into arrays copies them again, so for a model that is mostly weights (BERT-base: 415 MB) the
session held two copies at its peak. Before parsing, :func:`strip_large_raw_data` walks the
serialized model with the protobuf wire format, only through the messages that can hold a
large tensor (model -> graph -> initializer, node -> attribute -> tensor, subgraphs), skipping
every other field by its length. Each ``raw_data`` of at least ``min_bytes`` is cut out of the
bytes protobuf parses, and its tensor is marked as external data whose location is a token
known only to this load. :class:`InlineData` then hands those bytes to the tensor decoder:
read from the open model file into the array's own buffer (a path), or as a view into the
bytes the model was given as (bytes).

The walk only rewrites what it fully understands; anything unexpected (a malformed varint, a
length past its message, a tensor that already has external data or two ``raw_data`` fields)
leaves that message as it was, or the whole model to protobuf's own parser and errors.
"""

from __future__ import annotations

import os
import secrets
import weakref
from typing import Dict, List, Optional, Tuple

from ..errors import Fail

#: raw_data fields of at least this many bytes are read from the model's bytes directly
MIN_BYTES = 64 * 1024

# message kinds and, per kind, the length-delimited fields that can hold a large tensor
_MODEL, _GRAPH, _NODE, _ATTR, _TENSOR = range(5)
_CHILDREN = {
    _MODEL: {7: _GRAPH},                                      # ModelProto.graph
    _GRAPH: {1: _NODE, 5: _TENSOR},                           # GraphProto.node, .initializer
    _NODE: {5: _ATTR},                                        # NodeProto.attribute
    _ATTR: {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH},  # AttributeProto.t/g/tensors/graphs
}
_DATA_TYPE, _RAW_DATA, _EXTERNAL_DATA, _DATA_LOCATION = 2, 9, 13, 14  # TensorProto fields
#: fields after which the walk leaves a message as it is: an attribute's scalar and list values
#: (one attribute holds one value, so such an attribute holds no tensor; its lists may be a
#: million unpacked entries) and a tensor's typed data and segment (never cut out together
#: with raw_data)
_GIVE_UP = {_ATTR: {2, 3, 4, 7, 8, 9}, _TENSOR: {3, 4, 5, 6, 7, 10, 11}}
#: most fields the walk visits before it leaves the whole model to protobuf (a bound on its
#: Python time for graphs of very many small messages)
MAX_FIELDS = 200_000
_EXTERNAL, _STRING = 1, 8  # TensorProto.EXTERNAL, TensorProto.STRING


class _Malformed(Exception):
    """The bytes are not what the walk expects; protobuf's parser gets the original."""


class _GiveUp(Exception):
    """This message holds nothing to cut out: it is kept as it is."""


def _varint(buf, pos: int, end: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise _Malformed
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _entry(key: str, value: str) -> bytes:
    """A StringStringEntryProto as TensorProto.external_data."""
    return _field(_EXTERNAL_DATA, _field(1, key.encode()) + _field(2, value.encode()))


class _Walk:
    def __init__(self, buf, min_bytes: int, token: str) -> None:
        self.buf = buf
        self.min_bytes = min_bytes
        self.token = token
        self.segments: Dict[int, int] = {}  # offset -> length of every raw_data cut out
        self.budget = MAX_FIELDS

    def fields(self, start: int, end: int, kind: int):
        """(field number, wire type, start of the field's tag, payload start, payload end);
        stops early (raising _GiveUp) at a field that rules out a tensor to cut out."""
        buf, pos = self.buf, start
        give_up = _GIVE_UP.get(kind, ())
        while pos < end:
            self.budget -= 1
            if self.budget < 0:
                raise _Malformed  # too many fields to walk in Python: protobuf parses it all
            key, p = _varint(buf, pos, end)
            wire = key & 7
            if wire == 2:
                n, p = _varint(buf, p, end)
                q = p + n
            elif wire == 0:
                _, q = _varint(buf, p, end)
            elif wire == 1:
                q = p + 8
            elif wire == 5:
                q = p + 4
            else:  # groups: not used by ONNX
                raise _Malformed
            if q > end:
                raise _Malformed
            if key >> 3 in give_up:
                raise _GiveUp
            yield key >> 3, wire, pos, p, q
            pos = q

    def message(self, start: int, end: int, kind: int) -> Optional[List]:
        """The rewritten message as pieces (bytes and views), or None if it is unchanged."""
        try:
            if kind == _TENSOR:
                return self.tensor(start, end)
            return self.container(start, end, kind)
        except _GiveUp:
            return None

    def container(self, start: int, end: int, kind: int) -> Optional[List]:
        children = _CHILDREN[kind]
        pieces: List = []
        last = start
        for number, wire, tag, p, q in self.fields(start, end, kind):
            child = children.get(number) if wire == 2 else None
            if child is None or q - p < self.min_bytes:
                continue
            sub = self.message(p, q, child)
            if sub is None:
                continue
            pieces.append(self.buf[last:tag])
            pieces.append(_encode_varint(number << 3 | 2) +
                          _encode_varint(sum(len(x) for x in sub)))
            pieces.extend(sub)
            last = q
        if not pieces:
            return None
        pieces.append(self.buf[last:end])
        return pieces

    def tensor(self, start: int, end: int) -> Optional[List]:
        raw = []
        elem = 0
        for number, wire, tag, p, q in self.fields(start, end, _TENSOR):
            if number in (_EXTERNAL_DATA, _DATA_LOCATION):
                return None  # already external (or marked so): left as it is
            if number == _DATA_TYPE and wire == 0:
                elem = _varint(self.buf, p, q)[0]
            if number == _RAW_DATA:
                if wire != 2:
                    return None
                raw.append((tag, p, q))
        if len(raw) != 1 or elem in (0, _STRING):
            return None  # none, repeated (protobuf keeps the last), or not a numeric tensor
        tag, p, q = raw[0]
        if q - p < self.min_bytes:
            return None
        self.segments[p] = q - p
        marker = (_entry("location", self.token) + _entry("offset", str(p)) +
                  _entry("length", str(q - p)) +
                  _encode_varint(_DATA_LOCATION << 3) + _encode_varint(_EXTERNAL))
        return [self.buf[start:tag], self.buf[q:end], marker]


def strip_large_raw_data(buf, min_bytes: Optional[int] = None
                         ) -> Optional[Tuple[bytes, Dict[int, int], str]]:
    """``(bytes to parse, {offset: length} of the raw_data cut out, location token)`` for the
    serialized model ``buf`` (bytes or mmap; raw_data of at least ``min_bytes``, default
    ``MIN_BYTES``), or None when nothing is cut out or the bytes are
    not a well-formed model (protobuf's parser then reads them as they are). No view into
    ``buf`` outlives the call, so an mmap can be closed afterwards."""
    view = memoryview(buf)
    try:
        return _strip(view, MIN_BYTES if min_bytes is None else min_bytes)
    finally:
        view.release()


def _strip(view: memoryview, min_bytes: int):
    token = f"onnxrun-inline-{secrets.token_hex(8)}"
    walk = _Walk(view, min_bytes, token)
    try:
        pieces = walk.message(0, len(view), _MODEL)
    except _Malformed:
        return None
    if pieces is None:
        return None
    return b"".join(pieces), walk.segments, token


class InlineData:
    """The raw_data cut out of one model's bytes, handed to the tensor decoder on request.

    ``source`` is either a file descriptor of the model file, owned (closed) by this object,
    whose bytes are read into a new buffer for each tensor (no mapping, no copy of the whole
    file), or a bytes object (each tensor is a read-only view into it).
    """

    def __init__(self, source, segments: Dict[int, int], token: str) -> None:
        self.source = source
        self.segments = segments
        self.token = token
        if isinstance(source, int):
            weakref.finalize(self, os.close, source)

    def take(self, tensor) -> Optional[memoryview]:
        """The bytes of ``tensor`` when it is one this load cut out, else None."""
        entries = tensor.external_data
        if len(entries) != 3 or entries[0].key != "location" or entries[0].value != self.token:
            return None
        try:
            offset, length = int(entries[1].value), int(entries[2].value)
        except ValueError:
            return None
        if self.segments.get(offset) != length:
            return None
        if not isinstance(self.source, int):
            return memoryview(self.source)[offset:offset + length]
        data = bytearray(length)
        view = memoryview(data)
        pos = 0
        while pos < length:
            n = _read_at(self.source, view[pos:pos + (1 << 30)], offset + pos)
            if not n:
                break
            pos += n
        view.release()
        if pos != length:
            raise Fail(f"tensor '{tensor.name}': the model file became shorter after it was "
                       f"loaded ({pos} of {length} bytes read at offset {offset})")
        return memoryview(data)


def _read_at(fd: int, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], offset)
    chunk = os.pread(fd, len(view), offset) if hasattr(os, "pread") else _seek_read(
        fd, len(view), offset)
    view[:len(chunk)] = chunk
    return len(chunk)


def _seek_read(fd: int, n: int, offset: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)
