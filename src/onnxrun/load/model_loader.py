"""Read a model from a path, bytes or an ``onnx.ModelProto``, with onnxruntime's errors."""

from __future__ import annotations

import mmap
import os
from typing import Optional, Tuple

import onnx
from google.protobuf.message import DecodeError

from ..errors import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, NoSuchFile
from .inline_data import InlineData, strip_large_raw_data

MAX_IR_VERSION = onnx.IR_VERSION

#: Deepest nesting of subgraphs (If/Loop/Scan bodies inside bodies) and of type descriptions
#: (sequence of sequence of ...) accepted. Models parsed from bytes cannot exceed about 32
#: levels anyway (protobuf's own recursion limit of 100 messages); this bounds models handed
#: over as ``ModelProto`` objects, so that no later stage can run out of Python stack.
MAX_NESTING = 64

#: protobuf's parser refuses messages nested more than 100 deep (the model itself is level 1).
#: A ModelProto built in memory can be deeper, but stages that copy parts of it through
#: protobuf (shape inference, saving) would then fail, so such a model is refused up front.
MAX_MESSAGE_DEPTH = 100

#: protobuf cannot parse a serialized message of 2 GiB or more; bigger inputs are refused
#: before being read into memory.
PROTOBUF_LIMIT = 2 ** 31

#: Most nodes the model may have once every call of a model-local function is replaced by the
#: function's body (a few lines of functions calling each other twice can otherwise describe
#: 2**40 nodes).
MAX_EXPANDED_NODES = 1_000_000

#: Models of at least this size have their large weights read past protobuf (inline_data).
INLINE_MIN_MODEL_BYTES = 1 << 20


def load_model(source) -> Tuple[onnx.ModelProto, Optional[str], Optional[InlineData]]:
    """Return ``(model, base_dir, inline)``; ``base_dir`` is the folder external data is read
    from (``None`` for a model given as bytes or as a proto without a known location);
    ``inline`` holds the large weights left out of ``model`` (see ``inline_data``), for the
    tensor decoder, or is None."""
    inline = None
    if isinstance(source, onnx.ModelProto):
        model, base_dir = source, None
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise NoSuchFile(f"Load model from {path} failed:Load model {path} failed. "
                             "File doesn't exist")
        size = os.path.getsize(path)
        if size >= PROTOBUF_LIMIT:
            raise InvalidProtobuf(_too_big(size))
        with open(path, "rb") as f:
            stripped = _strip_file(f) if size >= INLINE_MIN_MODEL_BYTES else None
            if stripped is not None:
                data, segments, token = stripped
                inline = InlineData(os.dup(f.fileno()), segments, token)
            else:
                # read(n) allocates n bytes up front: ask for the size seen (+1 to notice
                # growth), never for the 2 GiB limit (that costs milliseconds per load)
                data = f.read(size + 1)
                if len(data) >= PROTOBUF_LIMIT:
                    raise InvalidProtobuf(_too_big(len(data)))
        model = _parse(data)
        base_dir = os.path.dirname(os.path.abspath(path))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        size = memoryview(source).nbytes
        if size >= PROTOBUF_LIMIT:
            raise InvalidProtobuf(_too_big(size))
        data = bytes(source)  # the same object for bytes; a private copy of anything mutable
        stripped = strip_large_raw_data(data) if size >= INLINE_MIN_MODEL_BYTES else None
        if stripped is not None:
            inline = InlineData(data, stripped[1], stripped[2])
            model = _parse(stripped[0])
        else:
            model = _parse(data)
        base_dir = None
    else:
        raise TypeError(f"Unable to load from type '{type(source)}'")
    check_model_header(model)
    check_nesting(model)
    check_functions(model)
    return model, base_dir, inline


def _strip_file(f):
    """strip_large_raw_data over the file mapped into memory (only the pages holding message
    headers are read), or None where the file cannot be mapped or nothing is cut out."""
    try:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty, or a file system without mapping
        return None
    try:
        if len(mapped) >= PROTOBUF_LIMIT:
            raise InvalidProtobuf(_too_big(len(mapped)))
        return strip_large_raw_data(mapped)
    finally:
        try:
            mapped.close()
        except BufferError:  # a view still alive: the mapping goes when it does
            pass


def _too_big(size: int) -> str:
    return (f"Failed to load model because protobuf parsing failed. The model is {size} bytes; "
            "protobuf cannot parse a message of 2 GiB or more (store large weights as external "
            "data)")


def _parse(data: bytes) -> onnx.ModelProto:
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise InvalidProtobuf("Failed to load model because protobuf parsing failed.") from exc
    return model


def check_model_header(model: onnx.ModelProto) -> None:
    """The model-level checks onnxruntime makes before it looks at the graph."""
    if not model.HasField("graph"):
        raise InvalidArgument("No graph was found in the protobuf.")
    if model.ir_version > MAX_IR_VERSION:
        raise Fail(f"Unsupported model IR version: {model.ir_version}, "
                   f"max supported IR version: {MAX_IR_VERSION}")
    if not model.opset_import and model.ir_version >= 3:
        raise InvalidGraph("Missing opset in the model. All ModelProtos MUST have at least one "
                           "entry that specifies which version of the ONNX OperatorSet is being "
                           "imported.")


def check_nesting(model: onnx.ModelProto, limit: int = MAX_NESTING) -> None:
    """Walk every message of the model once, without recursing, and refuse:

    * messages nested deeper than protobuf's own parser accepts (``MAX_MESSAGE_DEPTH``): a
      model given as a ModelProto can be built deeper than any file could be parsed;
    * subgraphs nested more than ``limit`` graphs deep, and type descriptions (sequence of
      sequence of ...) nested more than ``limit`` deep: later stages recurse over both;
    * string fields that are not valid UTF-8 (ONNX requires UTF-8; protobuf hands such fields
      to Python as ``bytes``, which no later stage expects).
    """
    # ``where`` is a linked list (parent's where, message), described only for an error
    stack = [(model, 0, 0, None, 1)]
    categories = _CATEGORIES
    while stack:
        msg, graphs, types, where, depth = stack.pop()
        desc = msg.DESCRIPTOR
        if desc is _TENSOR:
            _check_tensor_strings(msg, where)  # never touch raw_data: it may be gigabytes
            continue
        if (desc is _TYPE and types < limit and depth + 3 <= MAX_MESSAGE_DEPTH
                and _plain_tensor_type(msg)):
            continue  # the common case, without visiting its four nested messages
        for field, value in msg.ListFields():
            cat = categories.get(field)
            if cat is None:
                cat = categories[field] = _category(field)
            if cat is _SCALAR:
                continue
            if cat is _STR or cat is _STRS:
                if (type(value) is not str) if cat is _STR else (
                        value and not _all_str(value)):
                    bad = value if cat is _STR else next(
                        v for v in value if type(v) is not str)
                    raise InvalidProtobuf(
                        f"Failed to load model: field {field.full_name} of "
                        f"{_where(where)} is not valid UTF-8 ({bytes(bad)[:40]!r})")
                continue
            kind = field.message_type.full_name
            g = graphs + (kind == "onnx.GraphProto")
            t = types + (kind == "onnx.TypeProto")
            if g > limit + 1:  # the main graph is level 1
                raise InvalidGraph(f"subgraphs are nested more than {limit} levels deep (in "
                                   f"{_where(where)}); onnxrun refuses such models")
            if t > limit:
                raise InvalidGraph(f"types are nested more than {limit} levels deep (in "
                                   f"{_where(where)}); onnxrun refuses such models")
            if depth + 1 > MAX_MESSAGE_DEPTH:
                raise InvalidProtobuf(
                    f"Failed to load model because protobuf parsing failed. Messages are "
                    f"nested more than {MAX_MESSAGE_DEPTH} deep (protobuf's limit; in "
                    f"{_where(where)}), e.g. subgraphs nested more than about 30 levels")
            if cat is _MSGS:
                for child in value:
                    stack.append((child, g, t, (where, child), depth + 1))
            else:
                stack.append((value, g, t, (where, value), depth + 1))


# what check_nesting does with a field, decided once per field descriptor
_SCALAR, _STR, _STRS, _MSG, _MSGS = "scalar", "str", "strs", "msg", "msgs"
_CATEGORIES: dict = {}


def _category(field) -> str:
    if field.type == _STRING:
        return _STRS if _is_repeated(field) else _STR
    if field.type in (_MESSAGE, _GROUP):
        return _MSGS if _is_repeated(field) else _MSG
    return _SCALAR


def _plain_tensor_type(tp) -> bool:
    """True for a tensor type whose strings (denotations, dimension names) are all text;
    False sends the type through the general walk (other kinds, and for its error)."""
    if tp.WhichOneof("value") != "tensor_type" or type(tp.denotation) is not str:
        return False
    for d in tp.tensor_type.shape.dim:
        if type(d.dim_param) is not str or type(d.denotation) is not str:
            return False
    return True


def _all_str(values) -> bool:
    return set(map(type, values)) == {str}


def _where(where) -> str:
    """The description of a message from check_nesting's (parent, message) chain."""
    chain = []
    while where is not None:
        where, msg = where
        chain.append(msg)
    text = "model"
    for msg in reversed(chain):
        text = _describe(msg, text)
    return text


_TENSOR = onnx.TensorProto.DESCRIPTOR
_TYPE = onnx.TypeProto.DESCRIPTOR


def _check_tensor_strings(t: onnx.TensorProto, where) -> None:
    """The string fields of a TensorProto (name, doc string, external data entries)."""
    if type(t.name) is str and type(t.doc_string) is str and not t.external_data:
        return
    values = [("name", t.name), ("doc_string", t.doc_string)]
    for e in t.external_data:
        values += [("external_data.key", e.key), ("external_data.value", e.value)]
    for field, v in values:
        if not isinstance(v, str):
            raise InvalidProtobuf(f"Failed to load model: field onnx.TensorProto.{field} of "
                                  f"{_where(where)} is not valid UTF-8 ({bytes(v)[:40]!r})")


_FD = onnx.AttributeProto.DESCRIPTOR.fields_by_name["name"]
_STRING = _FD.TYPE_STRING
_MESSAGE = _FD.TYPE_MESSAGE
_GROUP = _FD.TYPE_GROUP


def _is_repeated(field) -> bool:
    rep = getattr(field, "is_repeated", None)
    if rep is not None:
        return bool(rep)
    return field.label == field.LABEL_REPEATED


def _describe(msg, parent: str) -> str:
    kind = msg.DESCRIPTOR.name
    if kind == "NodeProto":
        name = msg.name if isinstance(msg.name, str) else "?"
        op = msg.op_type if isinstance(msg.op_type, str) else "?"
        return f"node '{name}' ({op})"
    if kind == "AttributeProto":
        name = msg.name if isinstance(msg.name, str) else "?"
        return f"{parent} attribute '{name}'"
    if kind in ("GraphProto", "FunctionProto", "TensorProto", "ValueInfoProto"):
        name = msg.name if isinstance(msg.name, str) else "?"
        return f"{kind[:-5].lower()} '{name}'"
    return parent


def check_functions(model: onnx.ModelProto, max_nodes: int = MAX_EXPANDED_NODES) -> None:
    """Refuse model-local functions that call themselves (directly or not), as onnxruntime
    does, and models whose function calls would expand to more than ``max_nodes`` nodes.
    Iterative; sizes are Python ints."""
    if not model.functions:
        return
    funcs = {}
    for f in model.functions:
        funcs[(f.domain or "", f.name, getattr(f, "overload", "") or "")] = f

    def calls_and_size(nodes_of):
        """(direct size, list of called function keys with multiplicity) of a node list."""
        size, calls = 0, []
        stack = [nodes_of]
        while stack:
            for node in stack.pop():
                key = (node.domain if node.domain != "ai.onnx" else "", node.op_type,
                       getattr(node, "overload", "") or "")
                if key in funcs:
                    calls.append(key)
                else:
                    size += 1
                for a in node.attribute:
                    if a.HasField("g"):
                        stack.append(a.g.node)
                    for g in a.graphs:
                        stack.append(g.node)
        return size, calls

    direct = {k: calls_and_size(f.node) for k, f in funcs.items()}
    # cycle check and expanded sizes: iterative depth-first search with colours
    expanded = {}
    state = {}
    for root in funcs:
        if root in expanded:
            continue
        stack = [(root, iter(direct[root][1]))]
        state[root] = "active"
        path = [root]
        while stack:
            key, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                size, calls = direct[key]
                expanded[key] = size + sum(expanded[c] for c in calls)
                state[key] = "done"
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == "active":
                cycle = path[path.index(nxt):] + [nxt]
                raise InvalidGraph("Model local function definitions must not be recursive. "
                                   "Cycle detected: " + " -> ".join(
                                       f"{d}:{n}" for d, n, _ in cycle))
            if state.get(nxt) != "done":
                state[nxt] = "active"
                path.append(nxt)
                stack.append((nxt, iter(direct[nxt][1])))
    size, calls = calls_and_size(model.graph.node)
    total = size + sum(expanded[c] for c in calls)
    if total > max_nodes:
        raise InvalidGraph(f"the model's function calls expand to {total} nodes, more than "
                           f"the {max_nodes} onnxrun accepts")
