"""NonMaxSuppression (opsets 10 and 11): greedy per (batch, class) selection.

Candidates are visited in descending score order (ties: lower box index first); a candidate is
dropped when its IoU with an already selected box is strictly greater than ``iou_threshold``.
IoUs of one selected box against all remaining candidates are computed at once.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import scalar


def _corners(boxes: np.ndarray, center_point_box: int) -> np.ndarray:
    """(4, N) float64 rows y1, x1, y2, x2 with y1 <= y2 and x1 <= x2, for boxes of shape (N, 4)."""
    b = boxes.astype(np.float64)
    if center_point_box:
        xc, yc, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        ya, xa, yb, xb = yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2
    else:
        ya, xa, yb, xb = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack([np.minimum(ya, yb), np.minimum(xa, xb),
                     np.maximum(ya, yb), np.maximum(xa, xb)])


def _greedy(order: np.ndarray, corners: np.ndarray, area: np.ndarray, iou_thr: float,
            max_out: int) -> list:
    """Indices kept by greedy NMS over candidates ``order`` (sorted by descending score).

    A box is suppressed when inter / union > iou_thr, tested as inter > iou_thr * union so
    that zero-area boxes (inter = 0) never suppress nor get suppressed."""
    k = order.size
    if k == 0:
        return []
    lo = np.ascontiguousarray(corners[:2, order])
    hi = np.ascontiguousarray(corners[2:, order])
    ar = area[order]
    alive = np.ones(k, bool)
    keep = []
    i = 0
    while i < k and len(keep) < max_out:
        j = int(alive[i:].argmax())
        if not alive[i + j]:
            break
        i += j
        keep.append(int(order[i]))
        s = slice(i + 1, k)
        d = np.minimum(hi[:, i:i + 1], hi[:, s])
        d -= np.maximum(lo[:, i:i + 1], lo[:, s])
        np.maximum(d, 0.0, out=d)
        inter = d[0] * d[1]
        union = ar[s] + ar[i]
        union -= inter
        alive[s] &= ~(inter > iou_thr * union)
        i += 1
    return keep


@kernel("NonMaxSuppression", since=10, fresh=True)
class NonMaxSuppression(OpKernel):
    """Outputs selected_indices [num_selected, 3] = (batch, class, box) as int64."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.center_point_box = int(info.attr("center_point_box", 0))
        if self.center_point_box not in (0, 1):
            raise InvalidArgument(f"center_point_box must be 0 or 1; got {self.center_point_box}")

    def __call__(self, boxes, scores, max_output_boxes_per_class=None, iou_threshold=None,
                 score_threshold=None):
        boxes = np.asarray(boxes)
        scores = np.asarray(scores)
        if boxes.ndim != 3 or boxes.shape[2] != 4:
            raise InvalidArgument(f"boxes must have shape [num_batches, spatial_dimension, 4]; "
                                  f"got {list(boxes.shape)}")
        if scores.ndim != 3:
            raise InvalidArgument(f"scores must have shape [num_batches, num_classes, "
                                  f"spatial_dimension]; got {list(scores.shape)}")
        nb, nbox = boxes.shape[0], boxes.shape[1]
        if scores.shape[0] != nb or scores.shape[2] != nbox:
            raise InvalidArgument(f"scores shape {list(scores.shape)} does not match boxes shape "
                                  f"{list(boxes.shape)}; expected [{nb}, num_classes, {nbox}]")
        max_out = 0
        if max_output_boxes_per_class is not None and np.asarray(max_output_boxes_per_class).size:
            max_out = int(scalar(max_output_boxes_per_class, "max_output_boxes_per_class"))
        iou_thr = 0.0
        if iou_threshold is not None and np.asarray(iou_threshold).size:
            iou_thr = float(scalar(iou_threshold, "iou_threshold"))
        if not 0.0 <= iou_thr <= 1.0:
            raise InvalidArgument(f"iou_threshold must be in [0, 1]; got {iou_thr}")
        score_thr = None
        if score_threshold is not None and np.asarray(score_threshold).size:
            score_thr = float(scalar(score_threshold, "score_threshold"))
        if max_out <= 0 or nbox == 0:
            return np.zeros((0, 3), np.int64)
        selected = []
        for b in range(nb):
            corners = _corners(boxes[b], self.center_point_box)
            area = (corners[2] - corners[0]) * (corners[3] - corners[1])
            for c in range(scores.shape[1]):
                sc = scores[b, c].astype(np.float64)
                cand = np.arange(nbox)
                if score_thr is not None:
                    cand = cand[sc > score_thr]
                # descending score, ties by ascending index (stable sort)
                cand = cand[np.argsort(-sc[cand], kind="stable")]
                keep = _greedy(cand, corners, area, iou_thr, max_out)
                for i in keep:
                    selected.append((b, c, i))
        if not selected:
            return np.zeros((0, 3), np.int64)
        return np.asarray(selected, dtype=np.int64)
