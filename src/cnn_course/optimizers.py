"""Gradient-descent optimizers: SGD with momentum and Adam, with Keras's update rules.

Introduced in the chapter "Learning from scratch". An optimizer receives
every parameter of a model with its gradient and changes the parameter in
place, a small step downhill. Its state (velocities, moment estimates) is
kept per parameter, under the parameter's key such as ``"conv1/kernel"``.
"""

import math

import numpy as np

__all__ = ["Optimizer", "SGD", "Adam"]


def _check_rate(value, name, low, high, high_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a float, got {value!r}")
    if not (low <= value < high if high_open else low < value <= high) or math.isnan(value):
        bounds = f"[{low}, {high})" if high_open else f"({low}, {high}]"
        raise ValueError(f"{name} must be in {bounds}, got {value}")
    return float(value)


class Optimizer:
    """What both optimizers share: the step count and checked updates.

    Both optimizers are introduced in the chapter "Learning from scratch".

    Attributes
    ----------
    learning_rate : float
    iterations : int
        Number of ``step`` calls so far.
    """

    def __init__(self, learning_rate):
        self.learning_rate = _check_rate(learning_rate, "learning_rate", 0.0, math.inf, high_open=False)
        self.iterations = 0
        self._state = {}

    def step(self, parameters):
        """Update every parameter in place from its gradient.

        Parameters
        ----------
        parameters : iterable of (str, ndarray, ndarray)
            ``(key, value, gradient)`` triples, as given by
            :meth:`cnn_course.model.Sequential.parameters`; ``value`` and
            ``gradient`` have the same shape.
        """
        self.iterations += 1
        for key, value, gradient in parameters:
            if np.shape(gradient) != np.shape(value):
                raise ValueError(
                    f"the gradient of {key!r} must have the shape of the parameter, {np.shape(value)}, "
                    f"got shape {np.shape(gradient)}"
                )
            self._update(key, value, np.asarray(gradient, dtype=value.dtype))

    def _update(self, key, value, gradient):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as ``keras.optimizers.SGD``.

    Without momentum: ``value -= learning_rate * gradient``. With momentum
    ``m``, a velocity accumulates past steps so that directions the gradient
    keeps pointing to speed up and zig-zags cancel:
    ``velocity = m * velocity - learning_rate * gradient``; ``value += velocity``.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float, default 0.0
        In [0, 1).
    """

    def __init__(self, learning_rate=0.01, momentum=0.0):
        super().__init__(learning_rate)
        self.momentum = _check_rate(momentum, "momentum", 0.0, 1.0)

    def _update(self, key, value, gradient):
        if self.momentum == 0.0:
            value -= self.learning_rate * gradient
            return
        velocity = self._state.setdefault(key, np.zeros_like(value))
        velocity *= self.momentum
        velocity -= self.learning_rate * gradient
        value += velocity


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with the same update as ``keras.optimizers.Adam``.

    Keeps running means of the gradient (``m``) and of its square (``v``);
    each parameter moves by about ``learning_rate`` in the direction of
    ``m``, scaled down where the gradient has been noisy (large ``v``). At
    step ``t``:

    ``m += (1 - beta_1) * (gradient - m)``,
    ``v += (1 - beta_2) * (gradient ** 2 - v)``,
    ``value -= alpha * m / (sqrt(v) + epsilon)`` with
    ``alpha = learning_rate * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)``,
    which corrects the bias of ``m`` and ``v`` starting at zero.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
        Keras's default (the paper uses 1e-8).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1 = _check_rate(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = _check_rate(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = _check_rate(epsilon, "epsilon", 0.0, math.inf, high_open=False)

    def _update(self, key, value, gradient):
        if key not in self._state:
            self._state[key] = (np.zeros_like(value), np.zeros_like(value))
        m, v = self._state[key]
        t = self.iterations
        alpha = self.learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        m += (1.0 - self.beta_1) * (gradient - m)
        v += (1.0 - self.beta_2) * (gradient * gradient - v)
        value -= alpha * m / (np.sqrt(v) + self.epsilon)
