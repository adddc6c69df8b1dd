"""Write the generated benchmark models (BERT-base, GPT-2-small, MobileNetV2, LSTM, detector,
1,000-node elementwise chain, random forest, Silero-VAD-like float32 / float16) to
.cache/bench_models/ (or DIR).

    python scripts/models/build_models.py [--out DIR] [NAME ...]

The builders live in ``onnxrun.bench.models`` (onnx.helper graphs, NumPy random weights from
fixed seeds), so ``onnxrun bench --suite`` can build them on first use too; the files are cached
and never committed (the transformers are several hundred MB). The torch-exported and quantized
suite models have their own scripts beside this one (ocr.py, yolo.py, transformers.py,
magika.py, quantize.py; see docs/benchmarks.md).
"""

import argparse
import os
import sys
import time

from onnxrun.bench.models import BUILDERS, ensure


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help=f"models to build (default all: {sorted(BUILDERS)})")
    p.add_argument("--out", help="output folder (default .cache/bench_models)")
    a = p.parse_args()
    for name in a.names or list(BUILDERS):
        t0 = time.perf_counter()
        path = ensure(name, a.out)
        print(f"{name}: {path} ({os.path.getsize(path) / 2 ** 20:.0f} MB, "
              f"{time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
