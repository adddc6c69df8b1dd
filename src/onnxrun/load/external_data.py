"""Reading tensor data stored outside the model file, confined to the model's folder.

A location may not be absolute, contain ``..``, name a URL, contain a NUL character, or resolve
(through symbolic links in any component) outside the model's folder; a file with more than one
hard link is refused because its other names may lie outside. The file is opened without
following a final symbolic link and without blocking (a FIFO or device never hangs the load),
then checked again through the open descriptor, so a path swapped between the check and the
read is caught. Offsets and lengths are checked against the file and the tensor.

Every refusal is an :class:`onnxrun.errors.Fail`, as in onnxruntime.
"""

from __future__ import annotations

import os
import stat
from typing import Optional

from ..errors import Fail

_URL_PREFIXES = ("file:", "http:", "https:", "ftp:", "s3:", "gs:", "data:")


def read_external_bytes(tensor, base_dir: Optional[str], expected_nbytes: int) -> bytearray:
    """The bytes of ``tensor``'s external data, after every safety check."""
    info = {e.key: e.value for e in tensor.external_data}
    location = info.get("location", "")
    name = tensor.name or "<unnamed>"

    def fail(why: str) -> Fail:
        return Fail(f"External data for tensor '{name}' (location {location!r}): {why}")

    if base_dir is None:
        raise fail("the model was not loaded from a file path, so external data has no folder "
                   "to be read from; load the model from its path")
    if not location:
        raise fail("no location given")
    if "\0" in location:
        raise fail("the location contains a NUL character")
    if "://" in location or location.lower().startswith(_URL_PREFIXES):
        raise fail("URLs are not allowed; expected a path relative to the model's folder")
    if os.path.isabs(location) or location.startswith(("/", "\\")) or (
            len(location) > 1 and location[1] == ":"):
        raise fail("absolute paths are not allowed; expected a path relative to the model's folder")
    parts = location.replace("\\", "/").split("/")
    if ".." in parts:
        raise fail("'..' is not allowed; the data must lie inside the model's folder")
    root = os.path.realpath(base_dir)
    full = os.path.realpath(os.path.join(root, location))
    if not _inside(root, full):
        raise fail("resolves outside the model's folder (through a symbolic link)")
    offset = _int_field(info, "offset", 0, fail)
    length = _int_field(info, "length", None, fail)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(
        os, "O_BINARY", 0)
    try:
        fd = os.open(full, flags)
    except FileNotFoundError:
        raise fail("file does not exist") from None
    except OSError as exc:
        raise fail(f"cannot be opened ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise fail("not a regular file")
        if st.st_nlink > 1:
            raise fail("the file has several hard links; refusing a file that may be shared with "
                       "a path outside the model's folder")
        opened = _path_of_fd(fd)
        if opened is not None and not _inside(root, opened):
            raise fail("resolves outside the model's folder (the path changed while loading)")
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
        data = bytearray(length)  # one buffer, filled in place (no joined copies)
        view = memoryview(data)
        pos = 0
        os.lseek(fd, offset, os.SEEK_SET)
        while pos < length:
            n = os.readv(fd, [view[pos:pos + (1 << 30)]]) if hasattr(os, "readv") else \
                _read_into(fd, view[pos:pos + (1 << 30)])
            if not n:
                break
            pos += n
        view.release()
    finally:
        os.close(fd)
    if pos != length:
        raise fail(f"short read: {pos} of {length} bytes (the file shrank while loading)")
    return data


def _read_into(fd: int, view: memoryview) -> int:
    chunk = os.read(fd, len(view))
    view[:len(chunk)] = chunk
    return len(chunk)


def _inside(root: str, path: str) -> bool:
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:  # different drives (Windows)
        return False


def _path_of_fd(fd: int) -> Optional[str]:
    """The real path of an open file where the OS tells it (Linux ``/proc``), else None."""
    link = f"/proc/self/fd/{fd}"
    try:
        return os.path.realpath(os.readlink(link))
    except OSError:
        return None


def _int_field(info, key, default, fail):
    if key not in info:
        return default
    raw = info[key].strip()
    if not raw.lstrip("+-").isdigit() or not raw.isascii():
        raise fail(f"{key} {info[key]!r} is not an integer")
    value = int(raw)
    if value < 0:
        raise fail(f"{key} {value} is negative")
    return value
