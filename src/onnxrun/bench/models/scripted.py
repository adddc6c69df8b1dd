"""Suite models built by scripts under ``scripts/models/`` (torch exports, onnxruntime
quantization): where their cached files live and which script writes each.

The runtime never imports torch; these files are made ahead of time (or by the suite, in a
subprocess, when torch is installed) and cached beside the generated models.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, Optional


@dataclass(frozen=True)
class Scripted:
    """A model file written by ``script`` (relative to the repository root)."""

    script: str
    needs: str = "torch"  # the package the script needs beyond onnxrun's own dependencies
    version: int = 1  # bump when the script's model changes so cached files are rebuilt


_OCR = Scripted("scripts/models/ocr.py")
_TF = Scripted("scripts/models/transformers.py")
_QUANT = Scripted("scripts/models/quantize.py", needs="torch and onnxruntime")

SCRIPTED: Dict[str, Scripted] = {
    "ocr_rec": _OCR,
    "ocr_det": _OCR,
    "ocr_cls": _OCR,
    "yolo_det": Scripted("scripts/models/yolo.py"),
    "bert_base_b4": _TF,
    "bert_base_b4_dynamo": _TF,
    "minilm_b4": _TF,
    "minilm_b4_dynamo": _TF,
    "gpt2_prompt": _TF,
    "gpt2_step": _TF,
    "magika_like": Scripted("scripts/models/magika.py"),
    "minilm_qdq": _QUANT,
    "minilm_dyn": _QUANT,
    "cnn_qdq": _QUANT,
    "cnn_dyn": _QUANT,
    "cnn_qop": _QUANT,
}


class ModelMissing(FileNotFoundError):
    """A scripted model is not in the cache and cannot be built here; the message says how."""


def path_of(name: str, directory: Optional[str] = None) -> str:
    """Where scripted model ``name`` is cached (whether or not it exists yet)."""
    from . import cache_dir
    if name not in SCRIPTED:
        raise ValueError(f"unknown scripted model '{name}' (known: {sorted(SCRIPTED)})")
    return os.path.join(directory or cache_dir(), f"{name}_s{SCRIPTED[name].version}.onnx")


def repo_root() -> Optional[str]:
    """The source checkout holding ``scripts/`` (an editable install), or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", "..", "..", ".."))
    return root if os.path.isdir(os.path.join(root, "scripts", "models")) else None


def _can_build(entry: Scripted) -> bool:
    return all(importlib.util.find_spec(pkg) is not None
               for pkg in ("torch", "onnxruntime") if pkg in entry.needs)


def missing_message(name: str, directory: Optional[str] = None) -> str:
    entry = SCRIPTED[name]
    return (f"{os.path.basename(path_of(name, directory))} is not built; run "
            f"`python {entry.script} {name}` (needs {entry.needs})")


def ensure(name: str, directory: Optional[str] = None, log=None) -> str:
    """The cached file of scripted model ``name``; built by its script in a subprocess when
    missing and the script's packages are installed, else ``ModelMissing`` saying what to run."""
    path = path_of(name, directory)
    if os.path.exists(path):
        return path
    entry = SCRIPTED[name]
    root = repo_root()
    if root is None or not _can_build(entry):
        raise ModelMissing(missing_message(name, directory))
    if log:
        log(f"  building {name}: python {entry.script} {name}")
    cmd = [sys.executable, os.path.join(root, entry.script), name,
           "--out", os.path.dirname(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(path):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelMissing(f"{entry.script} {name} failed (exit {proc.returncode}): "
                           f"{tail[0][:200]}")
    return path
