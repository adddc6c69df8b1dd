"""The models of ``onnxrun bench --suite``: two groups, each with its targets.

``user``: models shaped like what users run (mobile OCR and YOLO CNNs, a streaming VAD, torch
exports of transformer encoders and a GPT-2 decoder, a byte classifier, quantized models),
measured at both runtimes' default thread settings and at one thread. ``classic``: the
earlier suite (the onnx package's light CNNs and onnx.helper-built models).
The table and summary are in ``report``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from .runner import Stream


@dataclass(frozen=True)
class Targets:
    """What a group is held to (docs/benchmarks.md)."""

    geomean: float = 1.5  # geometric mean of the latency ratios
    max_ratio: float = 2.5  # no (non-stream) model above
    stream: Optional[float] = None  # per-call ratio of stream models
    init: float = 2.0
    memory: float = 1.5
    node_us: Optional[float] = None  # per-node overhead of per_node models


TARGETS: Dict[str, Targets] = {
    "user": Targets(geomean=1.5, max_ratio=2.5, stream=2.0),
    "classic": Targets(geomean=1.5, max_ratio=3.0, node_us=2.0),
}


@dataclass
class SuiteModel:
    """One suite entry: where its file comes from and how many timed runs it gets by default."""

    name: str
    path: Callable[..., str]
    runs: int
    kind: str  # "light" (onnx's light models), "generated" (onnx.helper) or "scripted" (torch)
    group: str = "user"
    per_node: bool = False  # report latency / node count (the overhead model)
    dims: Optional[Dict[str, int]] = None
    level: Optional[str] = None  # optimization level for both runtimes (None: --level)
    diagnostic: bool = False  # shown, but not in the means and targets
    inputs: Optional[Callable] = None  # realistic values for some inputs (runner.compare)
    stream: Optional[Stream] = None  # called frame by frame with state fed back
    expect_fail: Optional[str] = None  # why onnxrun cannot run it yet (kept out of the means)
    tolerance: float = 1e-2  # max abs diff from onnxruntime above which the summary flags it
    what: str = ""  # what it exercises (--list)


def _light(name: str) -> Callable[..., str]:
    def path(log=None) -> str:
        import onnx
        p = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light",
                         f"light_{name}.onnx")
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p} (the installed onnx package has no light models)")
        return p
    return path


def _generated(name: str) -> Callable[..., str]:
    def path(log=None) -> str:
        from .models import ensure
        return ensure(name)
    return path


def _scripted(name: str) -> Callable[..., str]:
    def path(log=None) -> str:
        from .models.scripted import ensure
        return ensure(name, log=log)
    return path


def _vad_stream() -> Stream:
    from .models.vad import stream_feeds
    return Stream(make=stream_feeds, feedback={"stateN": "state"})


def _user() -> List[SuiteModel]:
    from .models.feeds import file_bytes, tokens
    text = dict(dims={"batch": 4, "sequence": 128}, inputs=tokens(30522, {"batch": 4,
                                                                          "sequence": 128}))

    def sc(name: str, runs: int, what: str, **kw) -> SuiteModel:
        return SuiteModel(name, _scripted(name), runs, "scripted", what=what, **kw)

    return [
        sc("ocr_rec", 20, "PP-LCNet text recognizer 1x3x48x320, SVTR-like neck, CTC head"),
        sc("ocr_det", 5, "MobileNetV3 DB text detector 1x3x640x640, FPN, ConvTranspose head"),
        sc("ocr_cls", 20, "PP-LCNet x1.0 orientation classifier 1x3x224x224"),
        sc("yolo_det", 5, "YOLOv8n-like detector 1x3x640x640: C2f, SiLU, SPPF, DFL decode"),
        SuiteModel("vad", _generated("vad"), 200, "generated", stream=_vad_stream(),
                   what="Silero-VAD-like, If on sr, STFT conv, LSTM state fed back; per call"),
        SuiteModel("vad_fp16", _generated("vad_fp16"), 200, "generated",
                   stream=_vad_stream(), what="the same in float16; per call"),
        sc("bert_base_b4", 3, "BERT-base 4x128 with mask, TorchScript export (dynamic axes)",
           **text),
        sc("bert_base_b4_dynamo", 3, "the same, torch.onnx dynamo export", **text),
        sc("minilm_b4", 10, "MiniLM-L6-H384-like 4x128, sdpa attention, TorchScript export",
           **text),
        sc("minilm_b4_dynamo", 10, "the same, dynamo export", **text),
        sc("gpt2_prompt", 5, "GPT-2-small-like decoder, 32-token prompt, dynamo export",
           dims={"batch": 1, "sequence": 32},
           inputs=tokens(50257, {"batch": 1, "sequence": 32})),
        sc("gpt2_step", 20, "one token with 32 past positions (past/present key-values)",
           dims={"past_sequence": 32}, inputs=tokens(50257, {})),
        sc("magika_like", 50, "byte classifier: embedding, Conv1d, max pool, dense, LayerNorm",
           inputs=file_bytes),
        # quantized encoders: one-step rounding differences compound over 6 layers; on
        # minilm_qdq onnxruntime's own levels (disable against all) differ by 0.23
        sc("minilm_qdq", 5, "minilm_b4 quantize_static, QDQ format", tolerance=0.5, **text),
        sc("minilm_dyn", 5, "minilm_b4 quantize_dynamic: DynamicQuantizeLinear, MatMulInteger",
           tolerance=0.1, **text),
        sc("cnn_qdq", 10, "ocr_cls quantize_static, QDQ format, per-channel"),
        sc("cnn_dyn", 10, "ocr_cls quantize_dynamic with Conv: ConvInteger"),
        sc("cnn_qop", 10, "ocr_cls quantize_static, QOperator format (com.microsoft QLinear*)",
           expect_fail="QOperator format: needs com.microsoft QLinear* kernels"),
    ]


def _classic() -> List[SuiteModel]:
    light = [("resnet50", 10), ("vgg19", 5), ("densenet121", 10), ("inception_v1", 10),
             ("inception_v2", 10), ("squeezenet", 20), ("shufflenet", 20),
             ("bvlc_alexnet", 10), ("zfnet512", 10)]
    out = [SuiteModel(n, _light(n), r, "light", group="classic") for n, r in light]
    g = _generated
    out += [
        SuiteModel("bert_base", g("bert_base"), 10, "generated", group="classic"),
        SuiteModel("gpt2_small", g("gpt2_small"), 5, "generated", group="classic"),
        SuiteModel("mobilenet_v2", g("mobilenet_v2"), 20, "generated", group="classic"),
        SuiteModel("lstm", g("lstm"), 20, "generated", group="classic"),
        SuiteModel("detector", g("detector"), 20, "generated", group="classic"),
        SuiteModel("elementwise_1000", g("elementwise_1000"), 50, "generated",
                   group="classic", per_node=True),
        # the same model with no graph optimization in either runtime: 1,000 nodes really
        # run, so latency / nodes is the executor's per-node overhead (the fused model above
        # runs one ElementwiseChain node)
        SuiteModel("elementwise_1000_unfused", g("elementwise_1000"), 50, "generated",
                   group="classic", per_node=True, level="disable", diagnostic=True),
        SuiteModel("random_forest", g("random_forest"), 10, "generated", group="classic",
                   dims={"N": 10_000}),
    ]
    return out


SUITE: List[SuiteModel] = _user() + _classic()

#: ``--quick``: a few small user models, for development
QUICK = ["ocr_rec", "vad", "minilm_b4", "magika_like", "cnn_qdq"]

GROUPS = ("user", "classic", "all")


def select(only: Optional[List[str]] = None, group: str = "user",
           quick: bool = False) -> List[SuiteModel]:
    """The models to run: ``only`` by name, else ``QUICK`` with ``quick``, else ``group``."""
    known = {m.name: m for m in SUITE}
    if quick and not only:
        only = QUICK
    if only:
        unknown = [n for n in only if n not in known]
        if unknown:
            raise ValueError(f"--only: unknown suite models {unknown} (known: {sorted(known)})")
        return [known[n] for n in only]
    if group not in GROUPS:
        raise ValueError(f"unknown group '{group}' (known: {', '.join(GROUPS)})")
    return [m for m in SUITE if group == "all" or m.group == group]
