"""Translate RE2 patterns (the syntax RegexFullMatch specifies) to Python ``re`` patterns.

Handled: ``\\w \\d \\s \\b`` (and negations outside classes) keep RE2's ASCII meaning; POSIX
classes ``[[:alpha:]]``; ``\\x{HHHH}``; ``\\Q...\\E``; ``\\z``; ``(?<name>...)``. Rejected like
RE2 rejects them: lookarounds, atomic groups, backreferences, possessive quantifiers.
Rejected because Python ``re`` lacks them: ``\\p``/``\\P`` Unicode classes, ``\\C``, the ``U``
flag. Known remaining difference: ``\\W \\D \\S`` inside a bracket class keep Python's Unicode
meaning.
"""

from __future__ import annotations

import re

from ...errors import InvalidArgument

_WORD = "0-9A-Za-z_"
_SPACE = "\\t\\n\\f\\r "
_OUTSIDE = {"w": f"[{_WORD}]", "W": f"[^{_WORD}]", "d": "[0-9]", "D": "[^0-9]",
            "s": f"[{_SPACE}]", "S": f"[^{_SPACE}]",
            "b": f"(?:(?<![{_WORD}])(?=[{_WORD}])|(?<=[{_WORD}])(?![{_WORD}]))",
            "B": f"(?:(?<![{_WORD}])(?![{_WORD}])|(?<=[{_WORD}])(?=[{_WORD}]))",
            "z": "\\Z"}
_INSIDE = {"w": _WORD, "d": "0-9", "s": _SPACE}
_POSIX = {"alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
          "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
          "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": _SPACE, "upper": "A-Z",
          "word": _WORD, "xdigit": "0-9A-Fa-f"}


def _bad(pattern: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"RegexFullMatch pattern '{pattern}': {why}")


def translate(pattern: str) -> str:
    """The Python ``re`` equivalent of an RE2 ``pattern`` (raises InvalidArgument)."""
    out = []
    i, n = 0, len(pattern)
    in_class = False
    class_first = False  # at the first position of a class, where ']' is literal
    after_quant = False  # the previous token was a quantifier
    while i < n:
        c = pattern[i]
        quant = False
        if c == "\\":
            if i + 1 >= n:
                raise _bad(pattern, "trailing backslash")
            e = pattern[i + 1]
            if e == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:end if end >= 0 else n]
                out.append("".join("\\" + ch if not ch.isalnum() else ch for ch in literal))
                i = end + 2 if end >= 0 else n
                class_first = False
                after_quant = False
                continue
            if e == "x" and i + 2 < n and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                digits = pattern[i + 3:end] if end >= 0 else ""
                if not digits or not all(ch in "0123456789abcdefABCDEF" for ch in digits) or \
                        int(digits, 16) > 0x10FFFF:
                    raise _bad(pattern, "invalid \\x{...} escape")
                out.append("\\U%08x" % int(digits, 16))
                i = end + 1
            elif e in "pP":
                raise _bad(pattern, "Unicode classes (\\p, \\P) are not supported by this "
                                    "runtime's regex engine")
            elif e == "C":
                raise _bad(pattern, "\\C (any byte) is not supported")
            elif e.isdigit() and e != "0":
                raise _bad(pattern, "backreferences are not supported by RE2")
            elif in_class:
                out.append(_INSIDE.get(e, c + e))
                i += 2
            else:
                out.append(_OUTSIDE.get(e, c + e))
                i += 2
            class_first = False
            after_quant = False
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2:end] if end >= 0 else ""
                if name not in _POSIX:
                    raise _bad(pattern, f"unknown or negated POSIX class '[:{name}:]'")
                out.append(_POSIX[name])
                i = end + 2
            elif c in "[&~|":
                out.append("\\" + c)  # literal in RE2 classes; Python may read set operations
                i += 1
            else:
                if c == "]" and not class_first:
                    in_class = False
                out.append(c)
                i += 1
            class_first = False
            continue
        if c == "[":
            in_class, class_first = True, True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            after_quant = False
            continue
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2:i + 4]
            if rest[:1] in ("=", "!", ">") or rest in ("<=", "<!"):
                raise _bad(pattern, "lookarounds and atomic groups are not supported by RE2")
            if rest[:1] == "<":
                out.append("(?P<")
                i += 3
                after_quant = False
                continue
            m = re.match(r"\(\?([a-zA-Z-]*)[:)]", pattern[i:])
            if m and "U" in m.group(1):
                raise _bad(pattern, "the U (ungreedy) flag is not supported")
        if c in "*+?":
            if after_quant and c == "+":
                raise _bad(pattern, "possessive quantifiers are not supported by RE2")
            quant = not (after_quant and c == "?")  # 'x+?' is lazy, then nothing may follow
        elif c == "}" and re.search(r"\{\d*,?\d*$", "".join(out)):
            quant = True
        out.append(c)
        i += 1
        after_quant = quant
    return "".join(out)
