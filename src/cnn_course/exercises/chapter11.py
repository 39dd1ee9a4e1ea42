"""The exercise checks of the chapter "Training CNNs in practice".

Answer checks: :func:`check_practice_batch_norm_by_hand` (batch normalization
of a few numbers on paper) and :func:`check_practice_bottleneck` (the
parameters of a bottleneck block). Function check:
:func:`check_batch_norm_backward` (the backward pass of batch normalization).
"""

import numpy as np

from cnn_course import gradients, layers, model, normalization
from cnn_course.exercises import verdict

__all__ = ["check_practice_batch_norm_by_hand", "check_batch_norm_backward", "check_practice_bottleneck"]


def check_practice_batch_norm_by_hand(answer, batch, gamma, beta):
    """Check batch normalization of a small batch of numbers, worked out by hand (training mode).

    The exercise gives one channel's values over a batch, ``batch`` of shape
    (N,), and a scale ``gamma`` and shift ``beta`` (numbers); the answer is
    the layer's output in training mode, an array or list of N numbers
    (``epsilon``, 0.001, may be left out: the check allows rounding to about
    two decimals). Introduced in the chapter "Training CNNs in practice".
    Recognises the variance divided by N - 1, the division by the variance
    instead of its square root, ``gamma`` and ``beta`` left out, ``beta``
    added before scaling, and the layer's inference mode at initialisation
    (moving mean 0, moving variance 1) used instead of the batch's statistics.

    Returns
    -------
    bool
    """
    batch = np.asarray(batch, dtype=float)
    column = batch[:, np.newaxis]  # (N, 1): N examples of one channel
    gamma_vector, beta_vector = np.array([float(gamma)]), np.array([float(beta)])
    mean, variance = normalization.batch_moments(column)

    def normalise(m, v):
        return normalization.batch_norm(column, gamma_vector, beta_vector, m, v)[:, 0]

    expected = normalise(mean, variance)
    x_hat = normalization.batch_norm(column, np.ones(1), np.zeros(1), mean, variance)[:, 0]
    unbiased = variance * len(batch) / (len(batch) - 1)
    mistakes = [
        ("the variance is divided by N - 1 here: batch normalization (and Keras) uses the batch's own "
         "variance, the mean of the squared deviations, divided by N.", normalise(mean, unbiased)),
        ("each deviation is divided by the variance: divide by its square root, the standard deviation "
         "(sqrt(variance + epsilon)).", gamma * (batch - mean[0]) / (variance[0] + 1e-3) + beta),
        ("this is the normalised batch, mean 0 and variance 1: the layer then multiplies by gamma and adds beta.", x_hat),
        ("beta is added before multiplying by gamma: the output is gamma * x_hat + beta.", gamma * (x_hat + beta)),
        ("these are the moving statistics of a new layer (mean 0, variance 1), which it uses at inference: "
         "in training it normalises with the batch's own mean and variance.",
         normalise(np.zeros(1), np.ones(1))),
    ]
    return verdict.check_answer(
        "check_practice_batch_norm_by_hand", answer, expected=expected, mistakes=mistakes,
        asks=f"the {len(batch)} outputs, e.g. [a, b, c, d]",
        hint="compute the batch's mean, then its variance (divided by N), normalise every value, "
             "then scale by gamma and shift by beta.",
        rtol=1e-2, atol=1e-2,
    )


def _batch_norm_cases():
    rng = np.random.default_rng(11)
    return [
        {"grad_output": np.array([[1.0], [0.0], [-1.0], [2.0]]), "x": np.array([[0.0], [2.0], [2.0], [8.0]]),
         "gamma": np.array([2.0]), "epsilon": 1e-3},
        {"grad_output": rng.normal(size=(5, 3)), "x": rng.normal(size=(5, 3)) * 2 + 1,
         "gamma": np.array([1.0, 0.5, -2.0]), "epsilon": 1e-3},
        {"grad_output": rng.normal(size=(2, 3, 3, 2)), "x": rng.normal(size=(2, 3, 3, 2)),
         "gamma": np.array([1.5, 0.7]), "epsilon": 1e-2},
    ]


def _backward_parts(grad_output, x, gamma, epsilon):
    """What every variant shares: 1 / sqrt(variance + epsilon), grad_gamma, grad_beta and M."""
    axes = tuple(range(x.ndim - 1))
    mean, variance = normalization.batch_moments(x)
    inverse_std = 1.0 / np.sqrt(variance + epsilon)
    x_hat = (x - mean) * inverse_std
    return inverse_std, (grad_output * x_hat).sum(axis=axes), grad_output.sum(axis=axes), x.size // x.shape[-1]


def _inference_gradient(grad_output, x, gamma, epsilon):
    inverse_std, grad_gamma, grad_beta, _ = _backward_parts(grad_output, x, gamma, epsilon)
    return gamma * inverse_std * grad_output, grad_gamma, grad_beta


def _mean_path_only(grad_output, x, gamma, epsilon):
    inverse_std, grad_gamma, grad_beta, count = _backward_parts(grad_output, x, gamma, epsilon)
    return gamma * inverse_std * (grad_output - grad_beta / count), grad_gamma, grad_beta


def _without_x_hat(grad_output, x, gamma, epsilon):
    grad_x, _, grad_beta = gradients.batch_norm_backward(grad_output, x, gamma, epsilon)
    return grad_x, grad_beta, grad_beta


def _without_gamma(grad_output, x, gamma, epsilon):
    grad_x, grad_gamma, grad_beta = gradients.batch_norm_backward(grad_output, x, gamma, epsilon)
    return grad_x / gamma, grad_gamma, grad_beta


def _batch_axis_only(grad_output, x, gamma, epsilon):
    mean, variance = x.mean(axis=0), x.var(axis=0)
    inverse_std = 1.0 / np.sqrt(variance + epsilon)
    x_hat = (x - mean) * inverse_std
    grad_beta = grad_output.sum(axis=0)
    grad_gamma = (grad_output * x_hat).sum(axis=0)
    count = len(x)
    return gamma * inverse_std * (grad_output - grad_beta / count - x_hat * (grad_gamma / count)), grad_gamma, grad_beta


def check_batch_norm_backward(function):
    """Check ``function(grad_output, x, gamma, epsilon) -> (grad_x, grad_gamma, grad_beta)``: batch norm's gradients.

    Training mode, the statistics those of the batch: ``x`` of shape
    (N, D) or (N, H, W, C), ``gamma`` of shape (C,); the reference is
    :func:`cnn_course.gradients.batch_norm_backward`. Introduced in the
    chapter "Training CNNs in practice". Recognises the inference gradient
    (the paths through the mean and the variance forgotten), the path
    through the variance forgotten, ``grad_gamma`` without ``x_hat``,
    ``gamma`` left out of ``grad_x``, and sums over the batch axis only (the
    pixels of images forgotten).

    Returns
    -------
    bool
    """
    mistakes = [
        ("this is the gradient at inference, where the mean and variance are constants: in training every x "
         "also moves the batch's mean and variance, and those two paths subtract grad_beta / M and "
         "x_hat * grad_gamma / M.", _inference_gradient),
        ("the path through the mean is there, the one through the variance is missing: subtract "
         "x_hat * grad_gamma / M too.", _mean_path_only),
        ("grad_gamma is the sum of grad_output * x_hat (the output is gamma * x_hat + beta), not the sum of "
         "grad_output.", _without_x_hat),
        ("grad_x leaves out gamma: the output is gamma * x_hat + beta, so the gradient reaching x_hat is "
         "gamma * grad_output.", _without_gamma),
        ("for images the statistics, and so the sums, run over the batch and every pixel: axes (0, 1, 2), "
         "all but the channel axis, and M = N * H * W.", _batch_axis_only),
    ]
    return verdict.check_function("check_batch_norm_backward", function, _batch_norm_cases(),
                                  gradients.batch_norm_backward, mistakes)


def _bottleneck(channels, squeeze, bias=True):
    """The parameters of a 1x1 -> 3x3 -> 1x1 bottleneck from the course's layers (bias=False: kernels only)."""
    inner = [layers.Conv2D(squeeze, 1), layers.Conv2D(squeeze, 3, padding="same"), layers.Conv2D(channels, 1)]
    built = model.Sequential(inner, input_shape=(8, 8, channels))
    biases = sum(layer.params["bias"].size for layer in built.layers)
    return built.count_params() if bias else built.count_params() - biases


def check_practice_bottleneck(answer, channels, squeeze):
    """Check the parameter count of a bottleneck block, worked out by hand.

    The block takes ``channels`` channels, squeezes them to ``squeeze`` with a
    1 x 1 convolution, applies a 3 x 3 convolution with ``squeeze`` filters,
    and expands back to ``channels`` with a 1 x 1 convolution, every
    convolution with biases. The answer is the number of parameters, an
    int. Introduced in the chapter "Training CNNs in practice". Recognises the
    biases forgotten, the 3 x 3 kernel counted as 1 x 1, every convolution
    counted from ``channels`` input channels, and the two 3 x 3 convolutions
    of ``channels`` filters (the block the bottleneck replaces) counted instead.

    Returns
    -------
    bool
    """
    expected = _bottleneck(channels, squeeze)
    every_from_channels = [layers.Conv2D(squeeze, 1), layers.Conv2D(squeeze, 3, padding="same"), layers.Conv2D(channels, 1)]
    for layer in every_from_channels:
        layer.build((8, 8, channels), np.random.default_rng(0))
    plain = model.Sequential([layers.Conv2D(channels, 3, padding="same"), layers.Conv2D(channels, 3, padding="same")],
                             input_shape=(8, 8, channels))
    mistakes = [
        ("the biases are left out: every convolution adds one bias per filter.", _bottleneck(channels, squeeze, bias=False)),
        ("the middle convolution is 3 x 3: each of its filters has 3 * 3 * C_in weights, not C_in.",
         _bottleneck(channels, squeeze) - 8 * squeeze * squeeze),
        ("each convolution's filters have as many channels as its own input: the 3 x 3 and the last 1 x 1 "
         "read the squeezed channels, not all of the block's input.",
         sum(layer.count_params() for layer in every_from_channels)),
        ("this counts two 3 x 3 convolutions of all the channels, the block a bottleneck replaces: "
         "count the 1 x 1 -> 3 x 3 -> 1 x 1 path.", plain.count_params()),
    ]
    return verdict.check_answer(
        "check_practice_bottleneck", answer, expected=expected, mistakes=mistakes,
        asks="the number of parameters, an int",
        hint="count each convolution as kh * kw * C_in * C_out weights plus C_out biases, with C_in its own input's channels.",
        rtol=0, atol=0.5,
    )
