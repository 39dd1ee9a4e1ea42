"""The checks of the chapter "Training CNNs in practice": right answers pass, each named mistake is recognised."""

import numpy as np
import pytest

from cnn_course import gradients, layers, model, normalization
from cnn_course.exercises import chapter11

# The exercise's data: one channel over a batch of four, and the layer's scale and shift.
BATCH = np.array([0.0, 2.0, 2.0, 8.0])
GAMMA, BETA = 2.0, 1.0


def run(capsys, check, *arguments):
    passed = check(*arguments)
    return passed, capsys.readouterr().out


def batch_norm_of(batch, mean, variance, gamma=GAMMA, beta=BETA):
    return normalization.batch_norm(np.asarray(batch)[:, None], np.array([gamma]), np.array([beta]),
                                    np.array([mean]), np.array([variance]))[:, 0]


# --- check_practice_batch_norm_by_hand ----------------------------------------------------------

def right_batch_norm():
    mean, variance = normalization.batch_moments(BATCH[:, None])
    return batch_norm_of(BATCH, mean[0], variance[0])


def test_batch_norm_by_hand_right_answer_passes(capsys):
    passed, text = run(capsys, chapter11.check_practice_batch_norm_by_hand, right_batch_norm(), BATCH, GAMMA, BETA)
    assert passed is True and text == "check_practice_batch_norm_by_hand: right. Well done!\n"
    # Rounded to two decimals by hand, epsilon left out: still right.
    assert chapter11.check_practice_batch_norm_by_hand(list(np.round(right_batch_norm(), 2)), BATCH, GAMMA, BETA)


def test_batch_norm_by_hand_no_answer_yet(capsys):
    passed, text = run(capsys, chapter11.check_practice_batch_norm_by_hand, None, BATCH, GAMMA, BETA)
    assert passed is False and "no answer yet" in text and "the 4 outputs" in text


def known_batch_norm_mistakes():
    mean = BATCH.mean()
    deviations = BATCH - mean
    variance = np.mean(deviations**2)
    x_hat = deviations / np.sqrt(variance + 1e-3)
    return [
        (batch_norm_of(BATCH, mean, np.sum(deviations**2) / 3), "divided by N - 1"),
        (GAMMA * deviations / (variance + 1e-3) + BETA, "divided by the variance"),
        (x_hat, "then multiplies by gamma and adds beta"),
        (GAMMA * (x_hat + BETA), "beta is added before multiplying"),
        (batch_norm_of(BATCH, 0.0, 1.0), "moving statistics of a new layer"),
    ]


@pytest.mark.parametrize("index", range(5))
def test_batch_norm_by_hand_each_known_mistake_is_named(capsys, index):
    answer, words = known_batch_norm_mistakes()[index]
    passed, text = run(capsys, chapter11.check_practice_batch_norm_by_hand, answer, BATCH, GAMMA, BETA)
    assert passed is False and "known mistake" in text and words in text, text


def test_batch_norm_by_hand_other_wrong_answer_fails_without_giving_the_answer(capsys):
    passed, text = run(capsys, chapter11.check_practice_batch_norm_by_hand, [1.0, 2.0, 3.0, 4.0], BATCH, GAMMA, BETA)
    assert passed is False and "not yet" in text and "known mistake" not in text
    for value in right_batch_norm():
        assert f"{value:.2f}" not in text and f"{value:.3f}" not in text


# --- check_batch_norm_backward ------------------------------------------------------------------

def test_batch_norm_backward_reference_passes(capsys):
    passed, text = run(capsys, chapter11.check_batch_norm_backward, gradients.batch_norm_backward)
    assert passed is True and "all 3 cases pass" in text


def written_batch_norm_backward(grad_output, x, gamma, epsilon):
    """Batch norm's backward pass written out, as a student would."""
    axes = tuple(range(x.ndim - 1))
    count = x.size // x.shape[-1]
    mean = x.mean(axis=axes)
    variance = ((x - mean) ** 2).mean(axis=axes)
    inverse_std = 1 / np.sqrt(variance + epsilon)
    x_hat = (x - mean) * inverse_std
    grad_beta = grad_output.sum(axis=axes)
    grad_gamma = (grad_output * x_hat).sum(axis=axes)
    return gamma * inverse_std * (grad_output - grad_beta / count - x_hat * grad_gamma / count), grad_gamma, grad_beta


def test_batch_norm_backward_written_out_passes():
    assert chapter11.check_batch_norm_backward(written_batch_norm_backward)


def inference(grad_output, x, gamma, epsilon):
    _, grad_gamma, grad_beta = gradients.batch_norm_backward(grad_output, x, gamma, epsilon)
    variance = normalization.batch_moments(x)[1]
    return gamma / np.sqrt(variance + epsilon) * grad_output, grad_gamma, grad_beta


def mean_path_only(grad_output, x, gamma, epsilon):
    axes = tuple(range(x.ndim - 1))
    _, grad_gamma, grad_beta = gradients.batch_norm_backward(grad_output, x, gamma, epsilon)
    variance = normalization.batch_moments(x)[1]
    count = x.size // x.shape[-1]
    return gamma / np.sqrt(variance + epsilon) * (grad_output - grad_output.sum(axis=axes) / count), grad_gamma, grad_beta


def sum_for_gamma(grad_output, x, gamma, epsilon):
    grad_x, _, grad_beta = gradients.batch_norm_backward(grad_output, x, gamma, epsilon)
    return grad_x, grad_beta, grad_beta


def no_gamma(grad_output, x, gamma, epsilon):
    grad_x, grad_gamma, grad_beta = gradients.batch_norm_backward(grad_output, x, gamma, epsilon)
    return grad_x / gamma, grad_gamma, grad_beta


def batch_axis_only(grad_output, x, gamma, epsilon):
    mean, variance = x.mean(axis=0), x.var(axis=0)
    inverse_std = 1 / np.sqrt(variance + epsilon)
    x_hat = (x - mean) * inverse_std
    grad_beta = grad_output.sum(axis=0)
    grad_gamma = (grad_output * x_hat).sum(axis=0)
    return gamma * inverse_std * (grad_output - grad_beta / len(x) - x_hat * grad_gamma / len(x)), grad_gamma, grad_beta


@pytest.mark.parametrize(
    "function, words",
    [
        (inference, "this is the gradient at inference"),
        (mean_path_only, "the one through the variance is missing"),
        (sum_for_gamma, "grad_gamma is the sum of grad_output * x_hat"),
        (no_gamma, "grad_x leaves out gamma"),
        (batch_axis_only, "the batch and every pixel"),
    ],
)
def test_batch_norm_backward_each_known_mistake_is_named(capsys, function, words):
    passed, text = run(capsys, chapter11.check_batch_norm_backward, function)
    assert passed is False and words in text, text


def test_batch_norm_backward_missing_return_and_other_errors_fail(capsys):
    passed, text = run(capsys, chapter11.check_batch_norm_backward, lambda grad_output, x, gamma, epsilon: None)
    assert passed is False and "returned None" in text
    passed, text = run(capsys, chapter11.check_batch_norm_backward,
                       lambda grad_output, x, gamma, epsilon: (grad_output, gamma, gamma))
    assert passed is False and "fails" in text and "known mistake" not in text


# --- check_practice_bottleneck ------------------------------------------------------------------

CHANNELS, SQUEEZE = 256, 64


def bottleneck_count():
    built = model.Sequential([layers.Conv2D(SQUEEZE, 1), layers.Conv2D(SQUEEZE, 3, padding="same"),
                              layers.Conv2D(CHANNELS, 1)], input_shape=(4, 4, CHANNELS))
    return built.count_params()


def test_bottleneck_right_answer_passes(capsys):
    passed, text = run(capsys, chapter11.check_practice_bottleneck, bottleneck_count(), CHANNELS, SQUEEZE)
    assert passed is True and text == "check_practice_bottleneck: right. Well done!\n"


def test_bottleneck_no_answer_yet(capsys):
    passed, text = run(capsys, chapter11.check_practice_bottleneck, None, CHANNELS, SQUEEZE)
    assert passed is False and "no answer yet" in text and "an int" in text


@pytest.mark.parametrize(
    "answer, words",
    [
        (CHANNELS * SQUEEZE + 9 * SQUEEZE * SQUEEZE + SQUEEZE * CHANNELS, "the biases are left out"),
        (bottleneck_count() - 8 * SQUEEZE * SQUEEZE, "the middle convolution is 3 x 3"),
        ((CHANNELS * SQUEEZE + SQUEEZE) + (9 * CHANNELS * SQUEEZE + SQUEEZE) + (CHANNELS * CHANNELS + CHANNELS),
         "as many channels as its own input"),
        (2 * (9 * CHANNELS * CHANNELS + CHANNELS), "the block a bottleneck replaces"),
    ],
)
def test_bottleneck_each_known_mistake_is_named(capsys, answer, words):
    passed, text = run(capsys, chapter11.check_practice_bottleneck, answer, CHANNELS, SQUEEZE)
    assert passed is False and "known mistake" in text and words in text, text


def test_bottleneck_other_wrong_answer_fails_without_giving_the_answer(capsys):
    passed, text = run(capsys, chapter11.check_practice_bottleneck, 12345, CHANNELS, SQUEEZE)
    assert passed is False and "not yet" in text
    assert str(bottleneck_count()) not in text and f"{bottleneck_count():,}" not in text
