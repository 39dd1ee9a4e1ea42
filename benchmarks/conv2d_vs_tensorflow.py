"""Benchmark: ``cnn_course.ops.conv2d`` against ``tf.nn.conv2d`` in one process.

Input (64, 28, 28, 32), kernel (3, 3, 32, 64), "same" padding, float32. The two
are timed in interleaved rounds (ours, TensorFlow's, ours, ...) so that a
passing load on the machine hits both alike; the figure of merit is the median
of the per-round ratios. Also prints each one's GFLOP/s (2 * N * H * W * kh * kw
* C_in * C_out floating-point operations per call).

Run: ``python benchmarks/conv2d_vs_tensorflow.py [--rounds 30]``. The target of
the foundation issue is a ratio of 1.5 or less.
"""

import argparse
import statistics
import time

import numpy as np

from cnn_course import ops, quiet_tensorflow


def _best_of(function, repeats):
    """The fastest of ``repeats`` calls, in seconds (least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="calls per round, best kept (default 3)")
    args = parser.parse_args()

    tf, _ = quiet_tensorflow.import_tensorflow()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 28, 28, 32), dtype=np.float32)
    kernel = rng.standard_normal((3, 3, 32, 64), dtype=np.float32)
    x_tf, kernel_tf = tf.constant(x), tf.constant(kernel)

    ours = lambda: ops.conv2d(x, kernel, stride=1, padding="same")  # noqa: E731
    theirs = lambda: tf.nn.conv2d(x_tf, kernel_tf, strides=1, padding="SAME").numpy()  # noqa: E731
    np.testing.assert_allclose(ours(), theirs(), rtol=1e-4, atol=1e-3)
    for _ in range(3):  # warm up caches, thread pools and TensorFlow's kernel choice
        ours(), theirs()

    ratios, ours_times, theirs_times = [], [], []
    for _ in range(args.rounds):
        ours_time = _best_of(ours, args.repeats)
        theirs_time = _best_of(theirs, args.repeats)
        ours_times.append(ours_time)
        theirs_times.append(theirs_time)
        ratios.append(ours_time / theirs_time)

    flops = 2 * 64 * 28 * 28 * 3 * 3 * 32 * 64
    ours_median, theirs_median = statistics.median(ours_times), statistics.median(theirs_times)
    print(f"input (64, 28, 28, 32), kernel (3, 3, 32, 64), 'same', float32, {args.rounds} rounds")
    print(f"cnn_course.ops.conv2d: {ours_median * 1e3:7.2f} ms  {flops / ours_median / 1e9:6.1f} GFLOP/s")
    print(f"tf.nn.conv2d:          {theirs_median * 1e3:7.2f} ms  {flops / theirs_median / 1e9:6.1f} GFLOP/s")
    print(f"median ratio (ours / TensorFlow): {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
