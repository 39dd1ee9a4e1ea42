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
a process with two busy threads gets a larger share of the cores).

``--full`` instead times the chapter's whole NumPy training run (3 epochs,
evaluated on the test set after each, as in the chapter) and prints the test
accuracy. The load average is printed with every time, since another process
on the machine slows both down.

Run: ``MNIST_NPZ=path/to/mnist.npz python benchmarks/numpy_cnn_vs_keras.py [--full]``.
"""

import argparse
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

    from cnn_course import lenet, optimizers, quiet_tensorflow

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
    for run in range(1, repeats + 1):
        # Each run trains one more epoch of each model; only the time matters here.
        start = time.perf_counter()
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


def full_run(train, test):
    """Time the chapter's whole NumPy training run and print its test accuracy."""
    from cnn_course import lenet, optimizers

    (x_train, y_train), (x_test, y_test) = train, test
    recipe = lenet.LENET_RECIPE
    net = lenet.build_lenet(seed=SEED)
    print(f"cnn_course full run ({recipe['epochs']} epochs): start, {_load_average()}", flush=True)
    start = time.perf_counter()
    history = net.fit(
        x_train, y_train, optimizers.Adam(recipe["learning_rate"]), epochs=recipe["epochs"],
        batch_size=recipe["batch_size"], validation_data=(x_test, y_test), seed=SEED, progress=False,
    )
    seconds = time.perf_counter() - start
    print(f"cnn_course full run: {seconds:.1f} s, test accuracy {history['val_accuracy'][-1]:.4f}, {_load_average()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="time the chapter's whole NumPy training run instead")
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
    else:
        one_epoch(train, test, args.tf_threads, args.repeats)


if __name__ == "__main__":
    main()
