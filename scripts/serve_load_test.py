"""Load test of ``onnxrun serve`` on loopback, with dynamic batching on and off.

Starts the server (a subprocess on 127.0.0.1), sends N requests from K concurrent clients with
malformed requests mixed in, checks that every request got exactly one answer, that good
answers equal a direct session run and that bad ones are 400 with an error body, and reports
throughput and p50/p99 latency of the good requests for each setting. Bounded: every request
has a timeout and the whole run a deadline.

    python scripts/serve_load_test.py                       # MobileNetV2-like CNN, 64x64 input
    python scripts/serve_load_test.py --requests 400 --clients 16 --model my.onnx

Needs the serve extra and httpx (the test extra has both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

HEADER = "Inference-Header-Content-Length"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_model(directory: str, size: int) -> str:
    """A MobileNetV2-style CNN with a dynamic batch dimension (random weights)."""
    from onnxrun.bench.models.vision import mobilenet_v2
    path = os.path.join(directory, f"mobilenet_v2_{size}.onnx")
    with open(path, "wb") as f:
        f.write(mobilenet_v2(size=size, batch="N").SerializeToString())
    return path


def binary_request(name: str, x: np.ndarray, datatype: str = "FP32", extra: bytes = b""):
    blob = x.tobytes()
    head = json.dumps({"inputs": [{"name": name, "shape": list(x.shape), "datatype": datatype,
                                   "parameters": {"binary_data_size": len(blob)}}],
                       "parameters": {"binary_data_output": True}}).encode()
    return head + blob + extra, {HEADER: str(len(head))}


def malformed(kind: int, name: str, x: np.ndarray):
    """(body, headers) of one of six kinds of bad request."""
    if kind == 0:
        return b'{"inputs": [', {}
    if kind == 1:
        return binary_request(name, x[..., :-1].copy())                 # wrong shape
    if kind == 2:
        return binary_request(name + "_nope", x)                        # unknown input
    if kind == 3:
        body, _ = binary_request(name, x)
        return body, {HEADER: str(len(body) + 10)}                      # bad binary header
    if kind == 4:
        return binary_request(name, x.astype(np.float64), "FP64")       # wrong datatype
    return binary_request(name, x, extra=b"\0" * 3)                     # wrong data length


def parse_binary(resp) -> np.ndarray:
    n = int(resp.headers[HEADER])
    head = json.loads(resp.content[:n])
    out = head["outputs"][0]
    return np.frombuffer(resp.content[n:], dtype=np.float32).reshape(out["shape"])


class Server:
    """``onnxrun serve`` in a subprocess."""

    def __init__(self, model: str, max_batch: int, max_delay_ms: float, workers: int,
                 threads: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "onnxrun.cli.main", "serve", model, "--port", str(self.port),
               "--max-batch", str(max_batch), "--max-delay-ms", str(max_delay_ms),
               "--workers", str(workers), "--threads", str(threads), "--name", "m",
               "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_ready(self, timeout: float = 120) -> None:
        import httpx
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/v2/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def load(url: str, name: str, images, expected, n: int, clients: int, bad_every: int,
               timeout: float, deadline: float):
    """Send ``n`` requests from ``clients`` concurrent clients; returns (answers, elapsed)."""
    import httpx
    answers = {i: [] for i in range(n)}
    infer = f"{url}/v2/models/m/infer"

    async def client(k: int, http) -> None:
        for i in range(k, n, clients):
            if time.monotonic() > deadline:
                return
            bad = bad_every and i % bad_every == bad_every - 1
            x = images[i % len(images)]
            body, headers = malformed(i // bad_every % 6, name, x) if bad else \
                binary_request(name, x)
            t0 = time.perf_counter()
            try:
                resp = await http.post(infer, content=body, headers=headers)
                answers[i].append(_judge(resp, bad, expected[i % len(images)],
                                         time.perf_counter() - t0))
            except httpx.HTTPError as exc:
                answers[i].append(("transport error", str(exc), None))
            except ValueError as exc:  # a body that is not what the protocol says
                answers[i].append(("unreadable answer", str(exc), None))

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(k, http) for k in range(clients)))
        return answers, time.perf_counter() - t0


def _judge(resp, bad: bool, want: np.ndarray, latency: float):
    """(verdict, detail, latency of a good answer)."""
    if bad:
        ok = resp.status_code == 400 and isinstance(resp.json().get("error"), str)
        return ("ok" if ok else "bad request not refused", resp.status_code, None)
    if resp.status_code != 200:
        return ("good request failed", f"{resp.status_code} {resp.text[:200]}", None)
    got = parse_binary(resp)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-4):
        return ("wrong output", float(np.abs(got - want).max()), None)
    return ("ok", None, latency)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def batch_stats(url: str) -> str:
    import httpx
    text = httpx.get(url + "/metrics").text
    s = re.search(r"^onnxrun_batch_size_sum (\S+)$", text, re.M)
    c = re.search(r"^onnxrun_batch_size_count (\S+)$", text, re.M)
    runs = int(float(c.group(1))) if c else 0
    rows = float(s.group(1)) if s else 0.0
    return f"{runs} runs, {rows / max(runs, 1):.2f} rows per run"


def run_setting(label: str, args, model: str, name: str, images, expected) -> dict:
    server = Server(model, args.max_batch if label == "batching on" else 1, args.max_delay_ms,
                    args.workers, args.threads)
    try:
        server.wait_ready()
        import httpx
        for x in images[:2]:  # warm-up, not counted
            body, headers = binary_request(name, x)
            httpx.post(f"{server.url}/v2/models/m/infer", content=body, headers=headers,
                       timeout=args.timeout)
        deadline = time.monotonic() + args.deadline
        cpu0, client0 = cpu_seconds(server.proc.pid), time.process_time()
        answers, elapsed = asyncio.run(load(server.url, name, images, expected, args.requests,
                                            args.clients, args.bad_every, args.timeout,
                                            deadline))
        cpu = cpu_seconds(server.proc.pid) - cpu0
        client_cpu = time.process_time() - client0
        stats = batch_stats(server.url)
        alive = httpx.get(server.url + "/v2/health/live").status_code == 200
    finally:
        server.stop()
    problems = [f"request {i}: {len(a)} answers" for i, a in answers.items() if len(a) != 1]
    problems += [f"request {i}: {a[0][0]} ({a[0][1]})" for i, a in answers.items()
                 if len(a) == 1 and a[0][0] != "ok"]
    latencies = np.array([a[0][2] for a in answers.values() if len(a) == 1 and a[0][2]])
    good = len(latencies)
    result = {"label": label, "elapsed": elapsed, "good": good, "problems": problems,
              "cpu_ms": cpu / max(good, 1) * 1e3, "client_ms": client_cpu / args.requests * 1e3,
              "throughput": good / elapsed, "alive": alive, "stats": stats,
              "p50": float(np.percentile(latencies, 50)) if good else float("nan"),
              "p99": float(np.percentile(latencies, 99)) if good else float("nan")}
    bad = sum(1 for a in answers.values() if len(a) == 1 and a[0][0] == "ok" and
              a[0][2] is None)
    print(f"{label:12s}: {good} good + {bad} refused bad requests in {elapsed:.1f} s, "
          f"{result['throughput']:.1f} good req/s, p50 {result['p50'] * 1e3:.0f} ms, "
          f"p99 {result['p99'] * 1e3:.0f} ms; server CPU {result['cpu_ms']:.1f} ms per good "
          f"request, client CPU {result['client_ms']:.1f} ms per request; {stats}; "
          f"problems: {len(problems)}; "
          f"server alive: {alive}", flush=True)
    for p in problems[:10]:
        print("   ", p)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model path (default: a generated MobileNetV2-like CNN)")
    ap.add_argument("--size", type=int, default=64, help="image size of the default model")
    ap.add_argument("--requests", type=int, default=240, help="requests per setting (N)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients (K)")
    ap.add_argument("--bad-every", type=int, default=8, help="every M-th request is malformed")
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--max-delay-ms", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads per run (serve --threads; 0: the BLAS default)")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    ap.add_argument("--deadline", type=float, default=300.0, help="per-setting deadline (s)")
    ap.add_argument("--only", choices=["on", "off"], help="run one setting only")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate the settings this many times (noisy machines)")
    args = ap.parse_args(argv)

    import onnxrun
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or default_model(tmp, args.size)
        sess = onnxrun.InferenceSession(model)
        arg = sess.get_inputs()[0]
        shape = [1] + [d if isinstance(d, int) else 1 for d in arg.shape[1:]]
        rng = np.random.default_rng(0)
        images = [rng.standard_normal(shape).astype(np.float32) for _ in range(8)]
        expected = [sess.run(None, {arg.name: x})[0] for x in images]
        print(f"model {os.path.basename(model)}, input {arg.name} {shape}; {args.requests} "
              f"requests from {args.clients} clients, every {args.bad_every}th malformed; "
              f"max batch {args.max_batch}, max delay {args.max_delay_ms} ms, "
              f"{args.workers} worker(s), BLAS threads {args.threads or 'default'}; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        labels = {"on": ["batching on"], "off": ["batching off"]}.get(
            args.only, ["batching off", "batching on"])
        rounds = []
        for r in range(args.rounds):  # settings alternate, so load changes hit both
            order = labels if r % 2 == 0 else labels[::-1]
            rounds.append({lb: run_setting(lb, args, model, arg.name, images, expected)
                           for lb in order})
    failed = any(res["problems"] or not res["alive"] for rd in rounds for res in rd.values())
    if len(labels) == 2:
        ratios = [rd["batching on"]["throughput"] / rd["batching off"]["throughput"]
                  for rd in rounds]
        p99 = {lb: float(np.median([rd[lb]["p99"] for rd in rounds])) for lb in labels}
        cpu = {lb: float(np.median([rd[lb]["cpu_ms"] for rd in rounds])) for lb in labels}
        print(f"batching on / off throughput: {', '.join(f'x{r:.2f}' for r in ratios)} "
              f"(median x{np.median(ratios):.2f}); median p99 {p99['batching on'] * 1e3:.0f} ms "
              f"on vs {p99['batching off'] * 1e3:.0f} ms off; median server CPU per good "
              f"request {cpu['batching on']:.1f} ms on vs {cpu['batching off']:.1f} ms off "
              f"(x{cpu['batching off'] / cpu['batching on']:.2f} fewer)")
    print("every request answered once, answers correct" if not failed else "FAILURES above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
