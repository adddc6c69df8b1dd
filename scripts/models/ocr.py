"""Mobile OCR networks in the PP-OCR mould (PP-LCNet / MobileNetV3 backbones), exported by torch.

    python scripts/models/ocr.py [ocr_rec ocr_det ocr_cls] [--out DIR]

- ``ocr_rec``: text recognizer at 1x3x48x320. PP-LCNet backbone (depthwise 3x3 / 5x5 convs,
  HardSwish, squeeze-excite with ReLU / HardSigmoid in the last stage) with height-only strides
  late, average pool to height 1, a small SVTR-like neck (1x1 convs, two pre-norm transformer
  blocks over the 40 columns) and a CTC head (Linear to 6625 characters, Softmax).
- ``ocr_det``: DB-style text detector at 1x3x640x640. MobileNetV3-large x0.5 backbone (inverted
  residuals, depthwise 3x3 / 5x5, HardSwish, squeeze-excite), FPN neck (1x1 laterals, nearest
  upsampling + Add, 3x3 outputs upsampled to 1/4 and concatenated), DB head (3x3 conv,
  two ConvTranspose 2x2 stride 2, Sigmoid): a 1x1x640x640 probability map.
- ``ocr_cls``: orientation classifier at 1x3x224x224: PP-LCNet x1.0, global average pool,
  1x1 conv to 1280 + HardSwish, Linear to 4 classes, Softmax.

TorchScript exporter at opset 17 (BatchNorm folded into the convolutions, as PaddlePaddle's and
torch's exports deliver them); random weights from fixed seeds.
"""

from __future__ import annotations

import torch
from torch import nn

from _export import export, randomize_norms, run, seeded


def _div(v: float, d: int = 8) -> int:
    return max(d, int(v + d / 2) // d * d)


class ConvBN(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride=1, groups=1, act="hardswish"):
        pad = (k - 1) // 2
        layers = [nn.Conv2d(c_in, c_out, k, stride, pad, groups=groups, bias=False),
                  nn.BatchNorm2d(c_out)]
        if act == "hardswish":
            layers.append(nn.Hardswish())
        elif act == "relu":
            layers.append(nn.ReLU())
        super().__init__(*layers)


class SE(nn.Module):
    def __init__(self, c, reduction=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv2d(c, _div(c // reduction), 1)
        self.conv2 = nn.Conv2d(_div(c // reduction), c, 1)

    def forward(self, x):
        s = torch.relu(self.conv1(self.pool(x)))
        return x * nn.functional.hardsigmoid(self.conv2(s))


class DepthwiseSeparable(nn.Module):
    """PP-LCNet block: depthwise kxk + BN + HardSwish, optional SE, pointwise 1x1 + BN +
    HardSwish."""

    def __init__(self, c_in, c_out, k, stride, se):
        super().__init__()
        self.dw = ConvBN(c_in, c_in, k, stride, groups=c_in)
        self.se = SE(c_in) if se else nn.Identity()
        self.pw = ConvBN(c_in, c_out, 1)

    def forward(self, x):
        return self.pw(self.se(self.dw(x)))


# (kernel, in, out, stride, se) of PP-LCNet x1.0
LCNET = [[3, 16, 32, 1, False]], \
    [[3, 32, 64, 2, False], [3, 64, 64, 1, False]], \
    [[3, 64, 128, 2, False], [3, 128, 128, 1, False]], \
    [[3, 128, 256, 2, False]] + [[5, 256, 256, 1, False]] * 5, \
    [[5, 256, 512, 2, True], [5, 512, 512, 1, True]]


class LCNet(nn.Module):
    """PP-LCNet backbone; ``strides`` overrides each stage's first stride (the recognizer keeps
    width late with (2, 1))."""

    def __init__(self, scale=1.0, strides=None):
        super().__init__()
        self.stem = ConvBN(3, _div(16 * scale), 3, 2)
        blocks = []
        for i, stage in enumerate(LCNET):
            for j, (k, c_in, c_out, s, se) in enumerate(stage):
                if strides is not None and j == 0:
                    s = strides[i]
                blocks.append(DepthwiseSeparable(_div(c_in * scale), _div(c_out * scale), k, s,
                                                 se))
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = _div(512 * scale)

    def forward(self, x):
        return self.blocks(self.stem(x))


class MixerBlock(nn.Module):
    """Pre-norm transformer block (SVTR's global mixing): MHSA + MLP with GELU."""

    def __init__(self, dim, heads, mlp=2.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.fc1 = nn.Linear(dim, int(dim * mlp))
        self.fc2 = nn.Linear(int(dim * mlp), dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
        y = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        x = x + self.proj(y)
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))


class Recognizer(nn.Module):
    def __init__(self, classes=6625, dim=120):
        super().__init__()
        self.backbone = LCNet(0.95, strides=[1, 2, (2, 1), (2, 1), (2, 1)])
        c = self.backbone.out_channels
        self.pool = nn.AvgPool2d(2, 2)
        self.neck_in = nn.Sequential(ConvBN(c, c // 8, 3, act="hardswish"),
                                     ConvBN(c // 8, dim, 1, act="hardswish"))
        self.mix = nn.Sequential(MixerBlock(dim, 8), MixerBlock(dim, 8))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.neck_out = ConvBN(dim, c, 1, act="hardswish")
        self.head = nn.Linear(c, classes)

    def forward(self, x):
        f = self.pool(self.backbone(x))  # N, C, 1, W/8
        z = self.neck_in(f)
        b, c, h, w = z.shape
        z = self.norm(self.mix(z.flatten(2).transpose(1, 2)))
        z = self.neck_out(z.transpose(1, 2).reshape(b, c, h, w))
        seq = z.squeeze(2).transpose(1, 2)  # N, W, C
        return self.head(seq).softmax(-1)


class InvertedResidual(nn.Module):
    """MobileNetV3 block: 1x1 expand, depthwise kxk, optional SE, 1x1 project, residual."""

    def __init__(self, c_in, mid, c_out, k, stride, se, act):
        super().__init__()
        self.expand = ConvBN(c_in, mid, 1, act=act)
        self.dw = ConvBN(mid, mid, k, stride, groups=mid, act=act)
        self.se = SE(mid) if se else nn.Identity()
        self.project = ConvBN(mid, c_out, 1, act=None)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        y = self.project(self.se(self.dw(self.expand(x))))
        return x + y if self.residual else y


# (kernel, expanded, out, se, act, stride) of MobileNetV3-large
MBV3_LARGE = [[3, 16, 16, False, "relu", 1], [3, 64, 24, False, "relu", 2],
              [3, 72, 24, False, "relu", 1], [5, 72, 40, True, "relu", 2],
              [5, 120, 40, True, "relu", 1], [5, 120, 40, True, "relu", 1],
              [3, 240, 80, False, "hardswish", 2], [3, 200, 80, False, "hardswish", 1],
              [3, 184, 80, False, "hardswish", 1], [3, 184, 80, False, "hardswish", 1],
              [3, 480, 112, True, "hardswish", 1], [3, 672, 112, True, "hardswish", 1],
              [5, 672, 160, True, "hardswish", 2], [5, 960, 160, True, "hardswish", 1],
              [5, 960, 160, True, "hardswish", 1]]


class MobileNetV3Det(nn.Module):
    """MobileNetV3-large backbone returning the 1/4, 1/8, 1/16 and 1/32 feature maps."""

    def __init__(self, scale=0.5):
        super().__init__()
        c = _div(16 * scale)
        self.stem = ConvBN(3, c, 3, 2)
        self.stages, stage, self.out_channels = nn.ModuleList(), [], []
        for i, (k, exp, out, se, act, s) in enumerate(MBV3_LARGE):
            if s == 2 and i > 1:
                self.stages.append(nn.Sequential(*stage))
                self.out_channels.append(c)
                stage = []
            stage.append(InvertedResidual(c, _div(exp * scale), _div(out * scale), k, s, se, act))
            c = _div(out * scale)
        self.stages.append(nn.Sequential(*stage, ConvBN(c, _div(960 * scale), 1)))
        self.out_channels.append(_div(960 * scale))

    def forward(self, x):
        feats, x = [], self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class Detector(nn.Module):
    def __init__(self, neck=96):
        super().__init__()
        self.backbone = MobileNetV3Det(0.5)
        self.lateral = nn.ModuleList(nn.Conv2d(c, neck, 1, bias=False)
                                     for c in self.backbone.out_channels)
        self.smooth = nn.ModuleList(nn.Conv2d(neck, neck // 4, 3, padding=1, bias=False)
                                    for _ in self.backbone.out_channels)
        self.head = nn.Sequential(
            ConvBN(neck, neck // 4, 3, act="relu"),
            nn.ConvTranspose2d(neck // 4, neck // 4, 2, 2), nn.BatchNorm2d(neck // 4), nn.ReLU(),
            nn.ConvTranspose2d(neck // 4, 1, 2, 2), nn.Sigmoid())

    def forward(self, x):
        up = nn.functional.interpolate
        c2, c3, c4, c5 = (lat(f) for lat, f in zip(self.lateral, self.backbone(x)))
        p4 = c4 + up(c5, scale_factor=2.0, mode="nearest")
        p3 = c3 + up(p4, scale_factor=2.0, mode="nearest")
        p2 = c2 + up(p3, scale_factor=2.0, mode="nearest")
        outs = [s(p) for s, p in zip(self.smooth, (p2, p3, p4, c5))]
        fuse = torch.cat([outs[0]] + [up(o, scale_factor=float(2 ** i), mode="nearest")
                                      for i, o in enumerate(outs[1:], 1)], dim=1)
        return self.head(fuse)


class Classifier(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.backbone = LCNet(1.0)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.last = nn.Conv2d(self.backbone.out_channels, 1280, 1)
        self.fc = nn.Linear(1280, classes)

    def forward(self, x):
        z = nn.functional.hardswish(self.last(self.pool(self.backbone(x))))
        return self.fc(z.flatten(1)).softmax(-1)


def _build(net_cls, shape, seed, out_name):
    def build(path: str) -> None:
        seeded(seed)
        net = net_cls()
        randomize_norms(net, seed)
        export(net, (torch.rand(*shape),), path, ["x"], [out_name], opset=17)
    return build


BUILDERS = {
    "ocr_rec": _build(Recognizer, (1, 3, 48, 320), 11, "softmax"),
    "ocr_det": _build(Detector, (1, 3, 640, 640), 12, "maps"),
    "ocr_cls": _build(Classifier, (1, 3, 224, 224), 13, "probs"),
}

if __name__ == "__main__":
    run(BUILDERS, __doc__)
