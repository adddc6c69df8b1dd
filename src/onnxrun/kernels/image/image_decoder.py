"""ImageDecoder (opset 20): decode an encoded image (BMP, JPEG, JPEG2000, TIFF, PNG, WebP, PNM)
into an (H, W, C) uint8 array. Uses Pillow, an optional dependency imported on first use."""

from __future__ import annotations

import io
import warnings

import numpy as np

from ...errors import InvalidArgument, NotImplemented as OrtNotImplemented
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, max_bytes

_FORMATS = ("RGB", "BGR", "Grayscale")


def _pillow():
    try:
        from PIL import Image  # noqa: PLC0415 - optional dependency, imported lazily
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise OrtNotImplemented("ImageDecoder needs the optional dependency Pillow "
                                "(pip install pillow)") from e
    return Image


@kernel("ImageDecoder", since=20, fresh=True)
class ImageDecoder(OpKernel):
    """Decodes ``encoded_stream`` (1-D uint8); undecodable data gives an empty (0, 0, C) image."""

    def __init__(self, info) -> None:
        super().__init__(info)
        fmt = info.attr("pixel_format", "RGB")
        if fmt not in _FORMATS:
            raise InvalidArgument(f"pixel_format must be one of {', '.join(_FORMATS)}; got "
                                  f"'{fmt}'")
        self.fmt = fmt
        self.channels = 1 if fmt == "Grayscale" else 3
        self.limit = max_bytes(info)

    def __call__(self, encoded_stream):
        data = np.asarray(encoded_stream)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise InvalidArgument(f"encoded_stream must be a 1-D uint8 tensor; got "
                                  f"{data.dtype} of shape {list(data.shape)}")
        Image = _pillow()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. Pillow's DecompressionBombWarning
                img = Image.open(io.BytesIO(data.tobytes()))
                w, h = img.size
                check_alloc((h, w, self.channels), np.uint8, self.limit)
                img.load()
                img = img.convert("L" if self.fmt == "Grayscale" else "RGB")
                arr = np.asarray(img, dtype=np.uint8)
        except InvalidArgument:
            raise
        except Exception:  # noqa: BLE001 - any decoding failure gives an empty image
            return np.zeros((0, 0, self.channels), np.uint8)
        if self.fmt == "Grayscale":
            arr = arr.reshape(arr.shape[0], arr.shape[1], 1)
        elif self.fmt == "BGR":
            arr = arr[:, :, ::-1]
        return np.ascontiguousarray(arr)
