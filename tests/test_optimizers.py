"""SGD (with momentum) and Adam of cnn_course.optimizers: the same steps as Keras's optimizers."""

import numpy as np
import pytest

from cnn_course import optimizers

from numerics import assert_float64_close


def _run_both(keras, ours, theirs, steps=6):
    """Apply the same random gradients to our optimizer and to Keras's, both in float64; return both final values."""
    rng = np.random.default_rng(0)
    start = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    values = {key: value.copy() for key, value in start.items()}
    variables = [keras.Variable(start["w"], dtype="float64"), keras.Variable(start["b"], dtype="float64")]
    for _ in range(steps):
        grads = {key: rng.normal(size=value.shape) for key, value in start.items()}
        ours.step([(key, values[key], grads[key]) for key in ("w", "b")])
        theirs.apply_gradients(zip([grads["w"], grads["b"]], variables))
    return values, {"w": variables[0].numpy(), "b": variables[1].numpy()}


def _assert_same_steps(values, expected):
    # The same few multiplications, additions and square roots per step on both sides, of
    # numbers of size about 1: float64 rounding is far below 1e-10 of that.
    for key in values:
        assert_float64_close(values[key], expected[key], magnitude=1.0, err_msg=key)


# Keras turns its hyperparameters into float32 tensors before casting them to the variables'
# dtype, so the ones used here are exact in float32 (0.0625 = 2**-4, 0.875 = 7/8, ...): then
# both sides do the same float64 arithmetic.


@pytest.mark.parametrize("momentum", [0.0, 0.875])
def test_sgd_matches_keras(keras, momentum):
    ours, theirs = optimizers.SGD(0.0625, momentum), keras.optimizers.SGD(0.0625, momentum=momentum)
    _assert_same_steps(*_run_both(keras, ours, theirs))


def test_adam_matches_keras(keras):
    settings = {"beta_1": 0.875, "beta_2": 1 - 2**-10, "epsilon": 2**-23}
    ours, theirs = optimizers.Adam(2**-7, **settings), keras.optimizers.Adam(2**-7, **settings)
    _assert_same_steps(*_run_both(keras, ours, theirs))


def test_adam_first_step_moves_every_weight_by_the_learning_rate():
    # Bias correction makes the first step learning_rate * sign(gradient) (up to epsilon).
    value = np.zeros(5)
    gradient = np.array([3.0, -0.05, 50.0, -2.0, 0.02])
    optimizer = optimizers.Adam(0.1)
    optimizer.step([("v", value, gradient)])
    np.testing.assert_allclose(value, -0.1 * np.sign(gradient), rtol=1e-3)
    assert optimizer.iterations == 1


def test_optimizers_minimise_a_quadratic():
    for optimizer in (optimizers.SGD(0.1), optimizers.SGD(0.05, momentum=0.9), optimizers.Adam(0.1)):
        value = np.array([4.0, -3.0])
        for _ in range(300):
            optimizer.step([("v", value, 2 * value)])  # gradient of ||v||^2
        assert np.linalg.norm(value) < 1e-2, type(optimizer).__name__


def test_optimizers_update_float32_in_place():
    value = np.ones(3, dtype=np.float32)
    same = value
    optimizers.Adam().step([("v", value, np.ones(3))])
    assert same is value and value.dtype == np.float32 and np.all(value < 1)


def test_optimizers_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"learning_rate must be in \(0.0, inf\]"):
        optimizers.SGD(0.0)
    with pytest.raises(TypeError, match="learning_rate must be a float"):
        optimizers.Adam("fast")
    with pytest.raises(ValueError, match=r"momentum must be in \[0.0, 1.0\)"):
        optimizers.SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"beta_2 must be in \[0.0, 1.0\)"):
        optimizers.Adam(beta_2=1.5)
    with pytest.raises(ValueError, match=r"the gradient of 'conv1/kernel' must have the shape of the parameter, \(3,\), got shape \(4,\)"):
        optimizers.SGD(0.1).step([("conv1/kernel", np.zeros(3), np.zeros(4))])
