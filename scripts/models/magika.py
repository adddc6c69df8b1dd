"""A byte-level file-type classifier shaped like Magika's, exported by torch.

    python scripts/models/magika.py [magika_like] [--out DIR]

Input: int32 [batch, 1536] (the file's first, middle and last 512 bytes, 256 = padding).
Embedding of the 257 byte values (what a one-hot + Dense becomes in an export), dense
projection with GELU, two 1-D convolutions (kernel 8) with GELU, a global max over positions,
LayerNorm, Dense + GELU, LayerNorm, Dense to 214 content types and Softmax.
TorchScript exporter, opset 17, dynamic batch; random weights from a fixed seed. Run at batch 1.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from _export import export, run, seeded


class Magika(nn.Module):
    def __init__(self, classes=214, emb=128, ch=256):
        super().__init__()
        self.emb = nn.Embedding(257, emb)
        self.dense = nn.Linear(emb, emb)
        self.conv1 = nn.Conv1d(emb, ch, 8, stride=2)
        self.conv2 = nn.Conv1d(ch, ch, 8, stride=2)
        self.ln1 = nn.LayerNorm(ch)
        self.fc = nn.Linear(ch, ch)
        self.ln2 = nn.LayerNorm(ch)
        self.out = nn.Linear(ch, classes)

    def forward(self, data):
        x = F.gelu(self.dense(self.emb(data.long())))  # N, L, E
        x = F.gelu(self.conv1(x.transpose(1, 2)))
        x = F.gelu(self.conv2(x))
        x = self.ln1(x.amax(dim=2))
        x = self.ln2(F.gelu(self.fc(x)))
        return self.out(x).softmax(-1)


def build(path: str) -> None:
    seeded(51)
    data = torch.randint(0, 257, (1, 1536), dtype=torch.int32)
    export(Magika(), (data,), path, ["bytes"], ["target_label"],
           dynamic_axes={"bytes": {0: "batch"}, "target_label": {0: "batch"}}, opset=17)


BUILDERS = {"magika_like": build}

if __name__ == "__main__":
    run(BUILDERS, __doc__)
