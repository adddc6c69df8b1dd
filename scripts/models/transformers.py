"""Transformer encoders and a GPT-2-style decoder, exported by torch.onnx as users export them.

    python scripts/models/transformers.py [NAME ...] [--out DIR]

- ``bert_base_b4``: BERT-base encoder (12 layers, hidden 768, 12 heads, FFN 3072, vocab 30522)
  with HF BERT's eager attention (MatMul / scale / additive mask / Softmax / MatMul), inputs
  input_ids, attention_mask, token_type_ids [batch, sequence] (dynamic axes), outputs
  last_hidden_state and the tanh pooler; TorchScript exporter, opset 17. Run at 4 x 128.
- ``bert_base_b4_dynamo``: the same network through ``torch.onnx.export(dynamo=True)``.
- ``minilm_b4`` / ``minilm_b4_dynamo``: MiniLM-L6-H384-like sentence encoder (6 layers,
  hidden 384, 12 heads, FFN 1536), attention through ``F.scaled_dot_product_attention`` with
  a boolean-derived additive mask (HF's sdpa path), mean pooling over the mask.
- ``gpt2_prompt``: GPT-2-small-like decoder (12 pre-norm layers, hidden 768, 12 heads, fused
  QKV, causal mask, tanh GELU, tied LM head over 50257 tokens), dynamo exporter, a prompt of
  32 tokens -> logits and the 12 layers' present keys / values.
- ``gpt2_step``: the same decoder for one new token with 32 past positions (past_key_values in,
  present out), dynamo exporter.

Random weights from fixed seeds (torch's default initializers; embeddings N(0, 0.02)).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from _export import export, run, seeded


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, sdpa):
        super().__init__()
        self.heads, self.sdpa = heads, sdpa
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attn_out = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.inter = nn.Linear(hidden, ffn)
        self.out = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def _split(self, x):
        b, s, h = x.shape
        return x.view(b, s, self.heads, h // self.heads).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        if self.sdpa:
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
            ctx = (scores + mask).softmax(-1) @ v
        b, _, s, _ = ctx.shape
        ctx = ctx.permute(0, 2, 1, 3).reshape(b, s, -1)
        x = self.ln1(x + self.attn_out(ctx))
        return self.ln2(x + self.out(F.gelu(self.inter(x))))


class Bert(nn.Module):
    def __init__(self, layers=12, hidden=768, heads=12, ffn=3072, vocab=30522, sdpa=False,
                 mean_pool=False):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(512, hidden)
        self.token_type = nn.Embedding(2, hidden)
        for e in (self.word, self.position, self.token_type):
            nn.init.normal_(e.weight, std=0.02)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, ffn, sdpa) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.mean_pool = mean_pool

    def forward(self, input_ids, attention_mask, token_type_ids):
        s = input_ids.shape[1]
        pos = torch.arange(s, dtype=torch.long).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.position(pos) + self.token_type(token_type_ids))
        ext = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, ext)
        if self.mean_pool:
            m = attention_mask.unsqueeze(-1).to(x.dtype)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        else:
            pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


def _encoder(seed, dynamo, **cfg):
    def build(path: str) -> None:
        seeded(seed)
        net = Bert(**cfg)
        b, s = 4, 128
        ids = torch.randint(0, 30522, (b, s))
        mask = torch.ones(b, s, dtype=torch.long)
        types = torch.zeros(b, s, dtype=torch.long)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        outs = ["last_hidden_state", "pooler_output"]
        if dynamo:
            batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
            shapes = {n: {0: batch, 1: seq} for n in ("input_ids", "attention_mask",
                                                       "token_type_ids")}
            export(net, (ids, mask, types), path, names, outs, dynamo=True,
                   dynamic_shapes=shapes, opset=18)
        else:
            axes = {n: {0: "batch", 1: "sequence"} for n in names}
            axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
            axes["pooler_output"] = {0: "batch"}
            export(net, (ids, mask, types), path, names, outs, dynamic_axes=axes, opset=17)
    return build


class GPT2Block(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.c_fc = nn.Linear(hidden, 4 * hidden)
        self.mlp_proj = nn.Linear(4 * hidden, hidden)

    def forward(self, x, past_k, past_v):
        b, s, h = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(h, dim=2)
        q, k, v = (t.view(b, s, self.heads, h // self.heads).transpose(1, 2) for t in (q, k, v))
        if past_k is not None:
            k, v = torch.cat((past_k, k), dim=2), torch.cat((past_v, v), dim=2)
        total = k.shape[2]
        scores = q @ k.transpose(-1, -2) / math.sqrt(h // self.heads)
        causal = torch.ones(total, total, dtype=torch.bool).tril()[total - s:, :]
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, h)
        x = x + self.c_proj(ctx)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class GPT2(nn.Module):
    def __init__(self, layers=12, hidden=768, heads=12, vocab=50257, positions=1024):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(positions, hidden)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        self.blocks = nn.ModuleList(GPT2Block(hidden, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden, eps=1e-5)

    def forward(self, input_ids, past=None):
        b, s = input_ids.shape
        start = 0 if past is None else past[0].shape[2]
        pos = torch.arange(start, start + s, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        presents = []
        for i, block in enumerate(self.blocks):
            pk, pv = (None, None) if past is None else (past[2 * i], past[2 * i + 1])
            x, k, v = block(x, pk, pv)
            presents += [k, v]
        logits = self.ln_f(x) @ self.wte.weight.t()
        return (logits, *presents)


class GPT2Step(nn.Module):
    """Flat past inputs (past_key_0, past_value_0, ...) for the exporter."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, input_ids, *past):
        return self.net(input_ids, list(past))


def _gpt2(step: bool):
    def build(path: str) -> None:
        seeded(31)
        net = GPT2()
        layers, heads, hd = 12, 12, 64
        presents = [f"present_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]
        if not step:
            ids = torch.randint(0, 50257, (1, 32))
            batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=1024)
            export(net, (ids,), path, ["input_ids"], ["logits"] + presents, dynamo=True,
                   dynamic_shapes=({0: batch, 1: seq},), opset=18)
            return
        ids = torch.randint(0, 50257, (1, 1))
        past = tuple(torch.randn(1, heads, 32, hd) for _ in range(2 * layers))
        past_names = [f"past_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]
        batch, past_len = torch.export.Dim("batch"), torch.export.Dim("past_sequence", max=1000)
        shapes = ({0: batch},) + tuple({0: batch, 2: past_len} for _ in past)
        export(GPT2Step(net), (ids, *past), path, ["input_ids"] + past_names,
               ["logits"] + presents, dynamo=True, dynamic_shapes=(shapes[0], shapes[1:]),
               opset=18)
    return build


BERT_BASE = dict(layers=12, hidden=768, heads=12, ffn=3072)
MINILM = dict(layers=6, hidden=384, heads=12, ffn=1536, sdpa=True, mean_pool=True)

BUILDERS = {
    "bert_base_b4": _encoder(41, False, **BERT_BASE),
    "bert_base_b4_dynamo": _encoder(41, True, **BERT_BASE),
    "minilm_b4": _encoder(42, False, **MINILM),
    "minilm_b4_dynamo": _encoder(42, True, **MINILM),
    "gpt2_prompt": _gpt2(step=False),
    "gpt2_step": _gpt2(step=True),
}

if __name__ == "__main__":
    run(BUILDERS, __doc__)
