"""Rows per second of ``onnxrun.ray.predict`` on a local Ray cluster with 1 and 2 actors.

    python scripts/ray_throughput.py                  # MobileNetV2-like CNN at 64x64, 1024 rows
    python scripts/ray_throughput.py --model m.onnx --rows 4096 --batch-size 128

Each setting runs the whole pipeline (actor start, model load from the object store, batches)
and the time includes all of it; a direct single-session loop over the same batches is timed
first for reference. Needs the ray extra.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model path (default: a generated MobileNetV2-like CNN)")
    ap.add_argument("--size", type=int, default=64, help="image size of the default model")
    ap.add_argument("--rows", type=int, default=1024)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cpus", type=int, default=2, help="num_cpus of the local cluster")
    args = ap.parse_args(argv)

    import ray
    import ray.data

    import onnxrun
    import onnxrun.ray
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            from onnxrun.bench.models.vision import mobilenet_v2
            model = os.path.join(tmp, "mobilenet_v2.onnx")
            with open(model, "wb") as f:
                f.write(mobilenet_v2(size=args.size, batch="N").SerializeToString())
        arg = onnxrun.InferenceSession(model).get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in arg.shape[1:]]
        x = np.random.default_rng(0).standard_normal([args.rows] + shape).astype(np.float32)

        print(f"model {os.path.basename(model)}, {args.rows} rows of {shape}, batches of "
              f"{args.batch_size}; load average {os.getloadavg()[0]:.1f}", flush=True)
        # Ray runs each 1-CPU actor with OMP_NUM_THREADS=1, so BLAS runs on one thread there;
        # the local loop is timed both ways
        for threads in (0, 1):
            opts = onnxrun.SessionOptions()
            opts.intra_op_num_threads = threads
            local = onnxrun.InferenceSession(model, opts)
            local.run(None, {arg.name: x[:args.batch_size]})  # warm-up
            t0 = time.perf_counter()
            for i in range(0, args.rows, args.batch_size):
                local.run(None, {arg.name: x[i:i + args.batch_size]})
            rate = args.rows / (time.perf_counter() - t0)
            print(f"local loop, one session, BLAS threads {threads or 'default'}: "
                  f"{rate:.1f} rows/s", flush=True)

        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            blocks = max(1, args.rows // args.batch_size)  # so that every actor gets work
            ds = ray.data.from_numpy(x).repartition(blocks).materialize()
            for n in args.actors:
                t0 = time.perf_counter()
                out = onnxrun.ray.predict(ds, model, concurrency=n, batch_size=args.batch_size,
                                          input_columns={arg.name: "data"}).materialize()
                elapsed = time.perf_counter() - t0
                assert out.count() == args.rows
                print(f"ray, {n} actor(s): {args.rows / elapsed:.1f} rows/s "
                      f"({elapsed:.1f} s, actor start included)", flush=True)
        finally:
            ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
