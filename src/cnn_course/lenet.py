"""The LeNet-style CNN of the chapter "Learning from scratch".

conv 5 x 5 (16) -> ReLU -> max pool 2 -> conv 5 x 5 (32) -> ReLU -> max pool 2
-> flatten -> dense 10 (logits). Sizes: 28 x 28 x 1 -> 24 x 24 x 16 ->
12 x 12 x 16 -> 8 x 8 x 32 -> 4 x 4 x 32 -> 512 -> 10; 18,378 parameters.
The chapter and ``benchmarks/numpy_cnn_vs_keras.py`` both build it here, so
the benchmark times exactly the network the chapter trains; both get the same
network in Keras from ``keras_interop.to_keras``.
"""

from cnn_course import layers, model

__all__ = ["LENET_RECIPE", "build_lenet"]

# The chapter's training settings, shared with the benchmark.
LENET_RECIPE = {"epochs": 3, "batch_size": 64, "learning_rate": 0.002}


def build_lenet(seed=0, dtype="float32"):
    """The network in cnn_course, with He-initialised weights drawn from ``seed``.

    Parameters
    ----------
    seed : int, default 0
    dtype : str or numpy.dtype, default "float32"
        The parameters' type (float64 to compare the mathematics with TensorFlow).

    Returns
    -------
    cnn_course.model.Sequential
        Input of shape (N, 28, 28, 1), output of shape (N, 10): logits.
    """
    return model.Sequential(
        [
            layers.Conv2D(16, 5),
            layers.ReLU(),
            layers.MaxPool2D(2),
            layers.Conv2D(32, 5),
            layers.ReLU(),
            layers.MaxPool2D(2),
            layers.Flatten(),
            # Small last-layer weights: small logits, so the untrained network starts unsure.
            layers.Dense(10, weight_scale=0.1),
        ],
        input_shape=(28, 28, 1),
        seed=seed,
        dtype=dtype,
    )
