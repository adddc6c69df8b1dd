"""Reading tensor data stored outside the model file, confined to the model's folder.

A location may not be absolute, contain ``..``, name a URL, or resolve (through symbolic links in
any component) outside the model's folder; a file with more than one hard link is refused because
its other names may lie outside. Offsets and lengths are checked against the file and the tensor.
"""

from __future__ import annotations

import os
import stat
from typing import Optional

from ..errors import InvalidGraph


def read_external_bytes(tensor, base_dir: Optional[str], expected_nbytes: int) -> bytes:
    """The bytes of ``tensor``'s external data, after every safety check."""
    info = {e.key: e.value for e in tensor.external_data}
    location = info.get("location", "")
    name = tensor.name or "<unnamed>"

    def fail(why: str) -> InvalidGraph:
        return InvalidGraph(f"External data for tensor '{name}' (location '{location}'): {why}")

    if base_dir is None:
        raise fail("the model was not loaded from a file path, so external data has no folder "
                   "to be read from; load the model from its path")
    if not location:
        raise fail("no location given")
    if "://" in location or location.lower().startswith(("file:", "http:", "https:")):
        raise fail("URLs are not allowed; expected a path relative to the model's folder")
    if os.path.isabs(location) or location.startswith(("/", "\\")) or (
            len(location) > 1 and location[1] == ":"):
        raise fail("absolute paths are not allowed; expected a path relative to the model's folder")
    parts = location.replace("\\", "/").split("/")
    if ".." in parts:
        raise fail("'..' is not allowed; the data must lie inside the model's folder")
    root = os.path.realpath(base_dir)
    full = os.path.realpath(os.path.join(root, location))
    if os.path.commonpath([root, full]) != root:
        raise fail("resolves outside the model's folder (through a symbolic link)")
    try:
        st = os.stat(full)
    except OSError:
        raise fail("file does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise fail("not a regular file")
    if st.st_nlink > 1:
        raise fail("the file has several hard links; refusing a file that may be shared with "
                   "a path outside the model's folder")
    offset = _int_field(info, "offset", 0, fail)
    length = _int_field(info, "length", None, fail)
    if offset > st.st_size:
        raise fail(f"offset {offset} is past the end of the file ({st.st_size} bytes)")
    if length is None:
        length = st.st_size - offset
    if offset + length > st.st_size:
        raise fail(f"offset {offset} + length {length} is past the end of the file "
                   f"({st.st_size} bytes)")
    if expected_nbytes >= 0 and length != expected_nbytes:
        raise fail(f"length {length} does not match the tensor's dims and type "
                   f"({expected_nbytes} bytes expected)")
    with open(full, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise fail("short read")
    return data


def _int_field(info, key, default, fail):
    if key not in info:
        return default
    try:
        value = int(info[key])
    except ValueError:
        raise fail(f"{key} '{info[key]}' is not an integer") from None
    if value < 0:
        raise fail(f"{key} {value} is negative")
    return value
