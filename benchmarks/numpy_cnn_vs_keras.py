"""Benchmark: one epoch of the "Learning from scratch" CNN in cnn_course and in Keras.

The architecture, batch size, optimizer and seeds are the chapter's (the
network comes from ``cnn_course.lenet``, with its ``LENET_RECIPE``, and Keras
gets it from ``keras_interop.to_keras``):
conv 5x5 (16) -> ReLU -> max pool 2 -> conv 5x5 (32) -> ReLU -> max pool 2 ->
flatten -> dense 10, softmax cross-entropy, Adam (learning rate 0.002),
batches of 64, float32, all 60,000 MNIST training images. Both are warmed up
on a few batches first (NumPy's buffers, TensorFlow's graph tracing), then
``--repeats`` epochs of each are timed, interleaved (ours, Keras, ours, ...),
so that a change of the machine's load hits both; the figure of merit is the
median of the ratios of the paired times, reported with their range.
NumPy runs its matrix products on one BLAS thread (see ``--blas-threads``);
TensorFlow uses its own thread pools over every core unless ``--tf-threads 1``
limits it to one thread too (a like-for-like comparison: on a loaded machine
a process with two busy threads gets a larger share of the cores), and
cnn_course then uses one thread as well.

``cnn_course`` runs its long matrix products on the cores itself
(``cnn_course.parallel``; ``CNN_COURSE_THREADS`` sets how many threads), so each
of them stays on one BLAS thread.

After the timings it prints the arithmetic rate of the whole training step:
the multiply-adds of the forward pass, the weights' gradients and the
inputs' gradients (``layer.macs()``, twice for every layer after the first),
two floating-point operations each, divided by the median epoch time, next
to the machine's float32 peak measured by a large ``np.matmul`` on one core
and on every core at once.

``--full`` instead times the chapter's whole NumPy training run (3 epochs,
evaluated on the test set after each, as in the chapter) and prints the test
accuracy. ``--memory`` measures the most memory the NumPy training holds
beyond the data (``tracemalloc``, 200 batches; not timed). ``--profile``
prints the functions that take the most time in 200 batches (``cProfile``,
time spent in the function itself; work done on another thread shows as the
wait for it). The load average is printed with every time, since another
process on the machine slows both down.

Run: ``MNIST_NPZ=path/to/mnist.npz python benchmarks/numpy_cnn_vs_keras.py [--full]``.
"""

import argparse
import contextlib
import os
import time

# The chapter's seed (its settings are cnn_course.lenet.LENET_RECIPE).
SEED = 0


def _load():
    import numpy as np

    from cnn_course import data

    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    # The same scaling as the chapter, so the same run gives the same numbers.
    x_train = x_train[..., np.newaxis].astype(np.float32) / 255
    x_test = x_test[..., np.newaxis].astype(np.float32) / 255
    return (x_train, y_train), (x_test, y_test)


def keras_model():
    """The chapter's CNN in Keras (same initial weights), compiled with the chapter's optimizer and loss."""
    from cnn_course import keras_interop, lenet, quiet_tensorflow

    _, keras = quiet_tensorflow.import_tensorflow()
    keras.utils.set_random_seed(SEED)
    model = keras_interop.to_keras(lenet.build_lenet(seed=SEED), logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(lenet.LENET_RECIPE["learning_rate"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _load_average():
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def one_epoch(train, test, tf_threads=None, repeats=1):
    """Time epochs of each, interleaved (ours, Keras, ours, ...); print every time and the median ratio."""
    import numpy as np

    from cnn_course import lenet, optimizers, parallel, quiet_tensorflow

    (x_train, y_train), (x_test, y_test) = train, test
    batch_size, learning_rate = lenet.LENET_RECIPE["batch_size"], lenet.LENET_RECIPE["learning_rate"]
    net = lenet.build_lenet(seed=SEED)
    optimizer = optimizers.Adam(learning_rate)
    net.fit(x_train[:640], y_train[:640], optimizer, batch_size=batch_size, progress=False)  # warm-up

    tf, _ = quiet_tensorflow.import_tensorflow()
    if tf_threads is not None:  # before TensorFlow runs anything
        tf.config.threading.set_intra_op_parallelism_threads(tf_threads)
        tf.config.threading.set_inter_op_parallelism_threads(tf_threads)
    model = keras_model()
    model.fit(x_train[:640], y_train[:640], batch_size=batch_size, epochs=1, verbose=0)  # warm-up: graph tracing

    numpy_times, keras_times = [], []
    # With --tf-threads, cnn_course uses as many threads as TensorFlow.
    our_threads = parallel.threads(tf_threads) if tf_threads is not None else contextlib.nullcontext()
    for run in range(1, repeats + 1):
        # Each run trains one more epoch of each model; only the time matters here.
        start = time.perf_counter()
        with our_threads:
            net.fit(x_train, y_train, optimizer, epochs=1, batch_size=batch_size, seed=SEED + run, progress=False)
        numpy_times.append(time.perf_counter() - start)
        print(f"run {run}: cnn_course one epoch {numpy_times[-1]:6.1f} s, {_load_average()}", flush=True)
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
        keras_times.append(time.perf_counter() - start)
        print(f"run {run}: Keras      one epoch {keras_times[-1]:6.1f} s, {_load_average()}", flush=True)
    _, numpy_accuracy = net.evaluate(x_test, y_test)
    _, keras_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"test accuracy after {repeats} epoch(s): cnn_course {numpy_accuracy:.4f}, Keras {keras_accuracy:.4f}")
    ratios = np.array(numpy_times) / np.array(keras_times)
    threads = "TensorFlow's default" if tf_threads is None else tf_threads
    for name, values in (("cnn_course epoch", numpy_times), ("Keras epoch", keras_times), ("ratio", ratios)):
        unit = "" if name == "ratio" else " s"
        print(f"{name:16} median {np.median(values):5.2f}{unit}, range {min(values):.2f} to {max(values):.2f}{unit} ({repeats} runs)")
    print(f"ratio (cnn_course / Keras, TensorFlow threads: {threads}): median {np.median(ratios):.2f}")
    flops = training_flops(net) * x_train.shape[0]
    one_core, all_cores = matmul_peak()
    for name, values in (("cnn_course", numpy_times), ("Keras", keras_times)):
        print(f"{name:10} training step: {flops / np.median(values) / 1e9:5.1f} GFLOP/s")
    print(f"float32 peak of a 2048 x 2048 np.matmul: {one_core:.1f} GFLOP/s on one core, {all_cores:.1f} on {parallel.thread_count()} at once")


def training_flops(net):
    """Floating-point operations of one example's training step: 2 per multiply-add.

    The forward pass, the gradient of every layer's weights (as many
    multiply-adds again) and the gradient of every layer's input but the
    first's (again as many; the first layer skips it).
    """
    costs = [layer.macs() for layer in net.layers]
    with_weights = [cost for cost in costs if cost]
    return 2 * (2 * sum(costs) + sum(with_weights[1:]))


def matmul_peak(size=2048, repeats=10):
    """The best float32 rate of ``size x size`` matrix products: on one core, and on every core at once."""
    import numpy as np

    from cnn_course import parallel

    rng = np.random.default_rng(0)
    pairs = [(rng.random((size, size), dtype=np.float32), rng.random((size, size), dtype=np.float32)) for _ in range(parallel.thread_count())]
    rates = []
    for count in (1, len(pairs)):
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            parallel.map_chunks(lambda pair: pair[0] @ pair[1], pairs[:count])
            best = min(best, time.perf_counter() - start)
        rates.append(2 * size**3 * count / best / 1e9)
    return rates


def _train_batches(net, optimizer, train, batches):
    """Train ``net`` on the first ``batches`` batches of the chapter's size (one epoch over them)."""
    from cnn_course import lenet

    x_train, y_train = train
    batch_size = lenet.LENET_RECIPE["batch_size"]
    count = batches * batch_size
    net.fit(x_train[:count], y_train[:count], optimizer, batch_size=batch_size, progress=False)


def _fresh_network():
    from cnn_course import lenet, optimizers

    return lenet.build_lenet(seed=SEED), optimizers.Adam(lenet.LENET_RECIPE["learning_rate"])


def memory(train, batches=200):
    """The most memory the NumPy training holds beyond the data: tracemalloc's peak over 200 batches."""
    import tracemalloc

    net, optimizer = _fresh_network()
    # One step on two images first: Numba loads the compiled loops of cnn_course.fast (a
    # one-time cost, not the training's memory) while the buffers stay two images small.
    net.fit(train[0][:2], train[1][:2], optimizer, batch_size=2, progress=False)
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    _train_batches(net, optimizer, train, batches)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"cnn_course training ({batches} batches): peak memory {(peak - before) / 2**20:.1f} MiB beyond the data")


def profile(train, batches=200, top=12):
    """The functions where 200 training batches spend the most time (cProfile, own time)."""
    import cProfile
    import pstats

    net, optimizer = _fresh_network()
    _train_batches(net, optimizer, train, 10)  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    _train_batches(net, optimizer, train, batches)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def full_run(train, test):
    """Time the chapter's whole NumPy training run and print its test accuracy."""
    from cnn_course import lenet

    (x_train, y_train), (x_test, y_test) = train, test
    recipe = lenet.LENET_RECIPE
    net, optimizer = _fresh_network()
    print(f"cnn_course full run ({recipe['epochs']} epochs): start, {_load_average()}", flush=True)
    start = time.perf_counter()
    history = net.fit(
        x_train, y_train, optimizer, epochs=recipe["epochs"], batch_size=recipe["batch_size"],
        validation_data=(x_test, y_test), seed=SEED, progress=False,
    )
    seconds = time.perf_counter() - start
    print(f"cnn_course full run: {seconds:.1f} s, test accuracy {history['val_accuracy'][-1]:.4f}, {_load_average()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="time the chapter's whole NumPy training run instead")
    parser.add_argument("--memory", action="store_true", help="measure the NumPy training's peak memory instead")
    parser.add_argument("--profile", action="store_true", help="profile 200 NumPy training batches instead")
    parser.add_argument("--blas-threads", default="1", help="BLAS threads for NumPy (default 1, as in the chapter)")
    parser.add_argument("--tf-threads", type=int, default=None, help="TensorFlow threads (default: TensorFlow's choice)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved epochs of each to time (default 5)")
    args = parser.parse_args()
    # OpenBLAS reads this once, when NumPy is first imported, so it is set
    # before any import of NumPy (hence the imports inside the functions).
    os.environ["OPENBLAS_NUM_THREADS"] = args.blas_threads
    train, test = _load()
    if args.full:
        full_run(train, test)
    elif args.memory:
        memory(train)
    elif args.profile:
        profile(train)
    else:
        one_epoch(train, test, args.tf_threads, args.repeats)


if __name__ == "__main__":
    main()
