"""Image and detection kernels: Resize, Upsample, GridSample, AffineGrid, RoiAlign,
NonMaxSuppression, CenterCropPad, ImageDecoder."""
