"""The LeNet-style CNN shared by chapter 9 and its benchmark."""

import numpy as np

from cnn_course import lenet


def test_numpy_and_keras_lenet_have_the_same_weights_layout_and_outputs():
    network = lenet.build_lenet(seed=0)
    keras_network = lenet.build_keras_lenet()
    weights = [value for _, value, _ in network.parameters()]
    assert sum(w.size for w in weights) == keras_network.count_params() == 18378
    keras_network.set_weights(weights)
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(network.forward(x), keras_network.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_recipe_holds_the_chapter_settings():
    assert lenet.LENET_RECIPE == {"epochs": 3, "batch_size": 64, "learning_rate": 0.002}
