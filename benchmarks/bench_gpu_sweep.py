"""Stable-rank sweep to n = 8192 on a CUDA GPU (CuPy), with the achieved
TFLOP/s of the matrix products against the device's float64 and float32 peaks.

For each n in --n (default 512..8192), gamma = 1, --depth layers, the batch
is the largest that fits in --memory-fraction of the free device memory; the
presets "A", "A-perp", "A(X) + LN" and "identity" are sampled and the stable
rank of X_l X_l^T is measured at every layer.  Matrix-product flops are
counted exactly from the shapes (2 m k n per product: values, attention,
key-query logits, covariance) and divided by the synchronised wall time.

    python benchmarks/bench_gpu_sweep.py [--n 512,1024,2048,4096,8192] [--depth 4]
        [--dtype float64|float32] [--peak-fp64 TF --peak-fp32 TF]

Needs CuPy and a CUDA device; exits with a message otherwise.
"""
from __future__ import annotations

import argparse
import sys
import time

#: vendor peaks in TFLOP/s (float64 vector / float64 tensor-core, float32 vector)
PEAKS = {
    "H200": (34.0, 67.0, 67.0),
    "H100 SXM": (34.0, 67.0, 67.0),
    "H100 80GB HBM3": (34.0, 67.0, 67.0),
    "H100 PCIe": (26.0, 51.0, 51.0),
    "H100": (34.0, 67.0, 67.0),
    "A100": (9.7, 19.5, 19.5),
    "V100": (7.8, 7.8, 15.7),
    "L40S": (1.4, 1.4, 91.6),
    "A10": (0.98, 0.98, 31.2),
    "T4": (0.25, 0.25, 8.1),
}
PRESETS_GPU = ("A", "A-perp", "A(X) + LN", "identity")


def _flops(model, batch):
    """Matrix-product flops of one forward pass plus the covariances."""
    n, d, L = int(model.n), model.d, int(model.depth)
    per_layer = 2 * n * d * d  # X W
    if model.attention != "identity" or model.remove_gap:
        per_layer += 2 * n * n * d  # A (X W)
    if model.attention == "key-query":
        per_layer += 2 * d * d * d + 2 * n * d * d + 2 * n * n * d  # W_Q W_K^T, X M, (X M) X^T
    per_layer += 2 * n * n * d  # covariance X X^T
    return batch * L * per_layer


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", default="512,1024,2048,4096,8192")
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--memory-fraction", type=float, default=0.5)
    p.add_argument("--max-batch", type=int, default=64)
    p.add_argument("--peak-fp64", type=float, default=None, help="device float64 peak, TFLOP/s")
    p.add_argument("--peak-fp32", type=float, default=None, help="device float32 peak, TFLOP/s")
    args = p.parse_args(argv)
    try:
        import cupy as cp
    except ImportError:
        sys.exit("bench_gpu_sweep: CuPy is not installed (pip install 'gapcheck[gpu]'); this "
                 "benchmark needs a CUDA GPU and was not run")
    try:
        ndev = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # no driver
        sys.exit(f"bench_gpu_sweep: no CUDA device reachable ({exc}); not run")
    if ndev < 1:
        sys.exit("bench_gpu_sweep: no CUDA device visible; not run")

    from gapcheck.theory.model import preset
    from gapcheck.numerics.forward import draw, propagate
    from gapcheck.numerics.measures import covariance_stable_rank

    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    peak = next((v for k, v in PEAKS.items() if k in name), None)
    p64 = args.peak_fp64 or (peak[0] if peak else None)
    p64t = peak[1] if peak and not args.peak_fp64 else p64
    p32 = args.peak_fp32 or (peak[2] if peak else None)
    print(f"device: {name}; peaks (TFLOP/s): float64 {p64} (tensor cores {p64t}), float32 {p32}")
    itemsize = 8 if args.dtype == "float64" else 4
    for n in [int(t) for t in args.n.split(",")]:
        free, _ = cp.cuda.runtime.memGetInfo()
        d = n
        # per sample: X0 + L values + L (A or W_Q, W_K, M) + activations, ~ (3L + 6) d^2
        per_sample = (3 * args.depth + 6) * d * d * itemsize
        batch = int(max(1, min(args.max_batch, args.memory_fraction * free // per_sample)))
        total_flops, total_time = 0, 0.0
        for pname in PRESETS_GPU:
            model = preset(pname, n=n, depth=args.depth)
            dr = draw(model, batch=batch, rng=0, backend="cupy", dtype=args.dtype)
            cp.cuda.Device().synchronize()
            t0 = time.perf_counter()
            tr = propagate(model, dr, on_underflow="stop")
            X = cp.stack(tr.X[1:])
            sr = covariance_stable_rank(X)
            cp.cuda.Device().synchronize()
            dt = time.perf_counter() - t0
            f = _flops(model, batch)
            total_flops += f
            total_time += dt
            print(f"  n={n:5d} batch={batch:3d} {pname:10s} {dt:7.3f} s  {f / dt / 1e12:7.2f} TFLOP/s"
                  f"  stable rank (last layer) {float(sr[-1].mean()):.4g}")
            del dr, tr, X
            cp.get_default_memory_pool().free_all_blocks()
        tf = total_flops / total_time / 1e12
        ref = p64 if args.dtype == "float64" else p32
        frac = f"{100 * tf / ref:.0f}% of the {args.dtype} peak {ref}" if ref else "peak unknown"
        extra = f"; {100 * tf / p32:.0f}% of the float32 peak {p32}" if p32 and args.dtype == "float64" else ""
        print(f"n={n}: {tf:.2f} TFLOP/s achieved in {args.dtype} ({frac}{extra})")


if __name__ == "__main__":
    main()
