"""Build the tool-made models: the models users get from onnxruntime's own tools, into a cache
folder (not committed; default .cache/toolmade), with the inputs to run them on.

    pip install -e '.[toolmade]'      # torch, transformers, onnxscript, onnxruntime-genai
    python scripts/toolmade_models.py [--cache DIR] [-k SUBSTR] [--force]
    python scripts/conformance.py --toolmade [--cache DIR] [-k SUBSTR]    # run them

Float models, random weights, built offline (no hub downloads):

* bert, gpt2, vit, llama: transformers models from small configs (2 layers, hidden 64, 4 heads;
  llama with 2 key/value heads), exported by torch.onnx.export (the dynamo exporter, opset 18;
  gpt2 with the TorchScript exporter, opset 17: onnxruntime's gpt2 optimizer fails on the
  dynamo export);
* cnn: a MobileNetV2-like CNN built with onnx.helper (tests/tools/toolmade.py);
* resnet: a small ResNet-like CNN (conv/BN/ReLU, residual blocks) exported from torch.

Each becomes the variants of tests/tools/toolmade.py's VARIANTS: plain; optimize_model with
its model type (bert, gpt2, vit; llama as gpt2), without and with opt_level=99; quantize_dynamic;
quantize_static in QOperator and QDQ formats (4 random calibration batches); MatMulNBitsQuantizer
at 4 and 8 bits (block 32, symmetric; gpt2 after optimize_model, since the quantizer takes MatMul
nodes only and GPT-2's projections export as Gemm); saved by onnxruntime
(optimized_model_filepath) at ORT_ENABLE_BASIC, EXTENDED and ALL. The CNNs take the plain,
quantization and saved variants (the transformer optimizer and MatMulNBits have nothing to do
on them). Plus the onnxruntime-genai model builder's fp32 CPU
output for the llama config, where it installs and runs. manifest.json lists every model with
its feeds file, or why it could not be built.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
import warnings

import numpy as np
import onnx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
from tests.tools import toolmade as tm  # noqa: E402

DEFAULT_CACHE = os.path.join(ROOT, ".cache", "toolmade")
SEQ = 8
CNN_VARIANTS = ("plain", "qdyn", "qstatic_qop", "qstatic_qdq", "ort_basic", "ort_extended",
                "ort_all")
FAMILIES = {
    "bert": tm.Family("bert", "bert", 4, 64, {"batch": 1, "sequence": SEQ}),
    "gpt2": tm.Family("gpt2", "gpt2", 4, 64, {"batch": 1, "sequence": SEQ},
                      nbits_after_opt=True),
    "vit": tm.Family("vit", "vit", 4, 64, {"batch": 1}),
    "llama": tm.Family("llama", "gpt2", 4, 64, {"batch": 1, "sequence": SEQ}),
    "cnn": tm.Family("cnn", "", dims={"batch": 1}),
    "resnet": tm.Family("resnet", "", dims={"batch": 1}),
}


# ---- float models ----------------------------------------------------------------------------
def _export(module, args, names, out_names, dynamic, path, dynamo=True):
    """torch.onnx.export to one self-contained file (the dynamo exporter unless told)."""
    import torch
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path + ".tmp.onnx", input_names=names,
                          output_names=out_names, dynamic_axes=dynamic,
                          opset_version=18 if dynamo else 17, dynamo=dynamo, verbose=False)
    model = onnx.load(path + ".tmp.onnx")
    onnx.save(model, path)
    for leftover in (path + ".tmp.onnx", path + ".tmp.onnx.data"):
        if os.path.exists(leftover):
            os.remove(leftover)


def _text_wrapper(model, with_types=False):
    """The model as a module of tensors in, last_hidden_state out (no cache)."""
    import torch

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          use_cache=False).last_hidden_state

    class Encoder(Decoder):
        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    return Encoder() if with_types else Decoder()


def _text_model(model, path, with_types=False, dynamo=True):
    import torch
    ids = torch.randint(0, 100, (1, SEQ))
    mask = torch.ones(1, SEQ, dtype=torch.int64)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    args = (ids, mask) + ((torch.zeros(1, SEQ, dtype=torch.int64),) if with_types else ())
    dynamic = {n: {0: "batch", 1: "sequence"} for n in names}
    _export(_text_wrapper(model, with_types), args, names, ["last_hidden_state"], dynamic, path,
            dynamo)


def build_bert(path):
    import transformers
    cfg = transformers.BertConfig(vocab_size=100, hidden_size=64, num_hidden_layers=2,
                                  num_attention_heads=4, intermediate_size=128,
                                  max_position_embeddings=64)
    _text_model(transformers.BertModel(cfg), path, with_types=True)


def build_gpt2(path):
    import transformers
    cfg = transformers.GPT2Config(vocab_size=100, n_embd=64, n_layer=2, n_head=4,
                                  n_positions=64)
    # the TorchScript exporter: onnxruntime's gpt2 optimizer fails (IndexError in its Gemm
    # postprocessing) on the dynamo export's bias-less Gemm nodes
    _text_model(transformers.GPT2Model(cfg), path, dynamo=False)


def llama_config():
    import transformers
    return transformers.LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=128,
                                    num_hidden_layers=2, num_attention_heads=4,
                                    num_key_value_heads=2, max_position_embeddings=64)


def build_llama(path):
    import transformers
    _text_model(transformers.LlamaModel(llama_config()), path)


def build_vit(path):
    import torch
    import transformers
    cfg = transformers.ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=64,
                                 num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=128)
    model = transformers.ViTModel(cfg, add_pooling_layer=False)

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, pixel_values):
            return self.m(pixel_values=pixel_values).last_hidden_state

    _export(Wrapped(), (torch.randn(1, 3, 32, 32),), ["pixel_values"], ["last_hidden_state"],
            {"pixel_values": {0: "batch"}}, path)


def build_resnet(path):
    import torch
    from torch import nn

    def block(cin, cout, stride):
        body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                             nn.BatchNorm2d(cout))
        skip = (nn.Identity() if cin == cout and stride == 1 else
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))
        return body, skip

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32),
                                      nn.ReLU(), nn.MaxPool2d(3, 2, 1))
            pairs = [block(32, 32, 1), block(32, 64, 2), block(64, 64, 1)]
            self.bodies = nn.ModuleList(p[0] for p in pairs)
            self.skips = nn.ModuleList(p[1] for p in pairs)
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            x = self.stem(x)
            for body, skip in zip(self.bodies, self.skips):
                x = torch.relu(body(x) + skip(x))
            return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    torch.manual_seed(0)
    net = ResNet()
    with torch.no_grad():  # random batch norm statistics, so the folding matters
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    _export(net, (torch.randn(1, 3, 64, 64),), ["x"], ["logits"], {"x": {0: "batch"}}, path)


def build_cnn(path):
    onnx.save(tm.cnn_model(), path)


BUILDERS = {"bert": build_bert, "gpt2": build_gpt2, "vit": build_vit, "llama": build_llama,
            "cnn": build_cnn, "resnet": build_resnet}


# ---- onnxruntime-genai -------------------------------------------------------------------
def build_genai(cache, entries):
    """The onnxruntime-genai model builder on a local random-weight Llama folder (fp32, CPU)."""
    name = "llama.genai_fp32"
    try:
        import torch
        import transformers
        torch.manual_seed(0)
        src = os.path.join(cache, "llama_hf")
        transformers.LlamaForCausalLM(llama_config()).save_pretrained(src)
        _tiny_tokenizer().save_pretrained(src)  # the builder saves the tokenizer beside it
        out = os.path.join(cache, "llama_genai")
        cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", "llama-random",
               "-i", src, "-o", out, "-p", "fp32", "-e", "cpu", "-c",
               os.path.join(cache, "genai_cache")]
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        path = os.path.join(out, "model.onnx")
        if proc.returncode != 0 or not os.path.exists(path):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError("model builder failed: " + " | ".join(tail))
        dims = {"batch_size": 1, "sequence_length": SEQ, "total_sequence_length": SEQ,
                "past_sequence_length": 0, "kv_cache_dim": 16}
        entries.append(_entry(cache, name, path, "genai", dims))
    except Exception as exc:  # noqa: BLE001 - reported in the manifest
        entries.append({"name": name, "error": tm._line(exc)})


def _tiny_tokenizer():
    """A 100-token word-level tokenizer made offline (the builder needs one in the folder)."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    vocab.update({f"w{i}": i for i in range(3, 100)})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>",
                                                bos_token="<s>", eos_token="</s>")


# ---- driver ----------------------------------------------------------------------------------
def _entry(cache, name, path, variant, dims):
    """The manifest entry of a built model (paths relative to ``cache``), its feeds saved."""
    feeds_path = path[:-5] + ".feeds.npz"
    np.savez(feeds_path, **tm.random_feeds(path, dims))
    return {"name": name, "path": os.path.relpath(path, cache),
            "feeds": os.path.relpath(feeds_path, cache), "quantized": variant in tm.QUANTIZED}


def build_family(fam_name, cache, force, entries, pattern):
    fam = FAMILIES[fam_name]
    src = tm.model_path(cache, fam_name, "float")
    variants = CNN_VARIANTS if fam_name in ("cnn", "resnet") else tm.VARIANTS
    wanted = [v for v in variants if not pattern or pattern in f"{fam_name}.{v}"]
    if not wanted:
        return
    try:
        if force or not os.path.exists(src):
            BUILDERS[fam_name](src)
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        entries.extend({"name": f"{fam_name}.{v}", "error": "float model: " + tm._line(exc)}
                       for v in wanted)
        return
    dims = fam.dims

    def calib():
        return [tm.random_feeds(src, dims, seed=s) for s in range(1, 5)]

    for v in wanted:
        dst = tm.model_path(cache, fam_name, v)
        t0 = time.time()
        try:
            if force or not os.path.exists(dst):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tm.make_variant(v, src, dst, fam, calib)
            entries.append(_entry(cache, f"{fam_name}.{v}", dst, v, dims))
            print(f"built {fam_name}.{v} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as exc:  # noqa: BLE001
            entries.append({"name": f"{fam_name}.{v}", "error": tm._line(exc)})
            print(f"could not build {fam_name}.{v}: {tm._line(exc)}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("-k", default="", help="only models whose name contains this")
    ap.add_argument("--force", action="store_true", help="rebuild models already there")
    ap.add_argument("--no-genai", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    entries = []
    for fam_name in FAMILIES:
        build_family(fam_name, args.cache, args.force, entries, args.k)
    if not args.no_genai and (not args.k or args.k in "llama.genai_fp32"):
        build_genai(args.cache, entries)
    manifest = os.path.join(args.cache, "manifest.json")
    if args.k and os.path.exists(manifest):  # a partial build updates its entries in place
        with open(manifest) as f:
            old = json.load(f)
        fresh = {e["name"]: e for e in entries}
        known = {e["name"] for e in old}
        entries = [fresh.get(e["name"], e) for e in old] + [e for e in entries
                                                            if e["name"] not in known]
    with open(manifest, "w") as f:
        json.dump(entries, f, indent=1)
    bad = [e for e in entries if "error" in e]
    print(f"{len(entries) - len(bad)} models built, {len(bad)} could not be built "
          f"(manifest: {manifest})")
    for e in bad:
        print(f"  {e['name']}: {e['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
