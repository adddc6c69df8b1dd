"""A YOLOv8n-style detector at 1x3x640x640, exported by torch.

    python scripts/models/yolo.py [yolo_det] [--out DIR]

Backbone of Conv+BN+SiLU (SiLU exports as Sigmoid * x) with C2f blocks (1x1, Split, a chain of
bottlenecks, Concat, 1x1) and SPPF (three 5x5 MaxPools, Concat); a PAN neck (nearest Upsample +
Concat, stride-2 convs back down); a decoupled head per level (box: 4 x 16 DFL bins, class: 80
scores) decoded in the graph as Ultralytics exports it (Softmax over the bins, 1x1 conv with
weights 0..15, anchor points and strides, Sigmoid scores): output 1x84x8400.
Width 0.25, depth 0.33; TorchScript exporter, opset 17; random weights from a fixed seed.
"""

from __future__ import annotations

import torch
from torch import nn

from _export import export, randomize_norms, run, seeded


class Conv(nn.Module):
    def __init__(self, c_in, c_out, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = Conv(c, c, 3), Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c_in, c_out, n=1, shortcut=False):
        super().__init__()
        self.c = c_out // 2
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c_in, c_out, k=5):
        super().__init__()
        self.cv1 = Conv(c_in, c_in // 2, 1)
        self.cv2 = Conv(c_in * 2, c_out, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Head(nn.Module):
    """Decoupled head with DFL box decoding, as in the exported YOLOv8 graphs."""

    def __init__(self, chs, classes=80, reg_max=16, strides=(8, 16, 32)):
        super().__init__()
        self.nc, self.reg_max, self.strides = classes, reg_max, strides
        c2, c3 = max(16, chs[0] // 4, reg_max * 4), max(chs[0], min(classes, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(c, c2, 3), Conv(c2, c2, 3),
                                               nn.Conv2d(c2, 4 * reg_max, 1)) for c in chs)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(c, c3, 3), Conv(c3, c3, 3),
                                               nn.Conv2d(c3, classes, 1)) for c in chs)
        self.dfl = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(reg_max, dtype=torch.float).view(1, reg_max, 1, 1)

    def forward(self, feats):
        outs, anchors, strides = [], [], []
        for i, f in enumerate(feats):
            outs.append(torch.cat((self.cv2[i](f), self.cv3[i](f)), 1))
            _, _, h, w = f.shape
            sy, sx = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
            anchors.append(torch.stack((sx, sy), -1).view(-1, 2))
            strides.append(torch.full((h * w, 1), float(self.strides[i])))
        anchor = torch.cat(anchors).transpose(0, 1).unsqueeze(0)
        stride = torch.cat(strides).transpose(0, 1)
        b = feats[0].shape[0]
        x = torch.cat([o.view(b, 4 * self.reg_max + self.nc, -1) for o in outs], 2)
        box, cls = x.split((4 * self.reg_max, self.nc), 1)
        dist = self.dfl(box.view(b, 4, self.reg_max, -1).transpose(2, 1).softmax(1)).view(b, 4, -1)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = anchor - lt, anchor + rb
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * stride
        return torch.cat((xywh, cls.sigmoid()), 1)


class YOLO(nn.Module):
    def __init__(self, w=(16, 32, 64, 128, 256), n=(1, 2, 2, 1)):
        super().__init__()
        self.b0 = nn.Sequential(Conv(3, w[0], 3, 2), Conv(w[0], w[1], 3, 2),
                                C2f(w[1], w[1], n[0], True), Conv(w[1], w[2], 3, 2),
                                C2f(w[2], w[2], n[1], True))
        self.b1 = nn.Sequential(Conv(w[2], w[3], 3, 2), C2f(w[3], w[3], n[2], True))
        self.b2 = nn.Sequential(Conv(w[3], w[4], 3, 2), C2f(w[4], w[4], n[3], True),
                                SPPF(w[4], w[4]))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.n1 = C2f(w[4] + w[3], w[3], 1)
        self.n2 = C2f(w[3] + w[2], w[2], 1)
        self.d1, self.n3 = Conv(w[2], w[2], 3, 2), C2f(w[2] + w[3], w[3], 1)
        self.d2, self.n4 = Conv(w[3], w[3], 3, 2), C2f(w[3] + w[4], w[4], 1)
        self.head = Head((w[2], w[3], w[4]))

    def forward(self, x):
        p3 = self.b0(x)
        p4 = self.b1(p3)
        p5 = self.b2(p4)
        t4 = self.n1(torch.cat((self.up(p5), p4), 1))
        o3 = self.n2(torch.cat((self.up(t4), p3), 1))
        o4 = self.n3(torch.cat((self.d1(o3), t4), 1))
        o5 = self.n4(torch.cat((self.d2(o4), p5), 1))
        return self.head([o3, o4, o5])


def build(path: str) -> None:
    seeded(21)
    net = YOLO()
    randomize_norms(net, 21)
    export(net, (torch.rand(1, 3, 640, 640),), path, ["images"], ["output0"], opset=17)


BUILDERS = {"yolo_det": build}

if __name__ == "__main__":
    run(BUILDERS, __doc__)
