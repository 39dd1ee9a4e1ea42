"""The LeNet-style CNN shared by chapter 9 and its benchmark."""

import numpy as np

from cnn_course import keras_interop, lenet

from numerics import assert_float64_close, keras_float64_magnitudes


def test_numpy_and_keras_lenet_have_the_same_weights_layout_and_outputs():
    # The mathematics, in float64 on both sides; Keras gets the network from to_keras, as the benchmark does.
    network = lenet.build_lenet(seed=0, dtype="float64")
    keras_network = keras_interop.to_keras(network, logits=True)
    assert [type(layer).__name__ for layer in keras_network.layers] == [
        "Conv2D", "ReLU", "MaxPooling2D", "Conv2D", "ReLU", "MaxPooling2D", "Flatten", "Dense"
    ]
    assert all(layer.dtype == "float64" for layer in keras_network.layers)
    weights = [value for _, value, _ in network.parameters()]
    assert sum(w.size for w in weights) == network.count_params() == keras_network.count_params() == 18378
    for ours, theirs in zip(weights, keras_network.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    x = np.random.default_rng(0).random((4, 28, 28, 1))
    magnitude = keras_float64_magnitudes(keras_network, x)[-1]
    assert_float64_close(network.forward(x), keras_network.predict(x, verbose=0), magnitude)
    assert lenet.build_lenet(seed=0).forward(x.astype(np.float32)).dtype == np.float32


def test_recipe_holds_the_chapter_settings():
    assert lenet.LENET_RECIPE == {"epochs": 3, "batch_size": 64, "learning_rate": 0.002}
