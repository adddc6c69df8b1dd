"""``set_default_logger_callback``: route onnxrun's log records to a Python callable.

A record is ``(severity, category, logid, code_location, message)`` with onnxruntime's
severities (0 verbose, 1 info, 2 warning, 3 error, 4 fatal). Sessions report their stages
while they are created; a callback that raises is ignored (logging never breaks a session).
"""

from __future__ import annotations

import sys
from typing import Callable, Optional

_callback: Optional[Callable] = None
_min_severity = 2


def set_default_logger_callback(callback, severity: int = 2) -> None:
    """Send records of at least ``severity`` to ``callback`` (None restores the default)."""
    global _callback, _min_severity
    if callback is not None and not callable(callback):
        raise RuntimeError("set_default_logger_callback: callback must be callable or None")
    severity = int(severity)
    if not 0 <= severity <= 4:
        raise RuntimeError("Invalid logging severity. 0:Verbose, 1:Info, 2:Warning, 3:Error, "
                           "4:Fatal")
    _callback, _min_severity = callback, severity
    if callback is not None:
        from .. import set_default_logger_severity
        set_default_logger_severity(severity)


def enabled(severity: int) -> bool:
    """Whether a record of ``severity`` would reach a callback (cheap check for callers)."""
    return _callback is not None and severity >= _min_severity


def log(severity: int, logid: str, message: str, category: str = "onnxrun") -> None:
    """Report one record to the callback, if any wants it."""
    callback = _callback
    if callback is None or severity < _min_severity:
        return
    frame = sys._getframe(1)
    location = f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"
    try:
        callback(int(severity), category, logid or "", location, message)
    except Exception:  # a user callback must not break the session
        pass
