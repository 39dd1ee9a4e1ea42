"""cnn_course.exercises: a right answer passes, and each recognised mistake is named by a wrong function."""

import math

import numpy as np
import pytest

from cnn_course import exercises, gradients


# --- right answers, written as a student would ----------------------------------------------


def student_output_size(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def student_correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def student_pad2d(x, padding):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))


def student_softmax(logits):
    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def student_dropout(x, rate, rng):
    keep = rng.random(x.shape) >= rate
    return x * keep / (1 - rate)


def student_relu_backward(grad_output, x):
    return grad_output * (x > 0)


def student_max_pool2d_backward(grad_output, x, pool_size, stride):
    grad_x = np.zeros_like(x)
    n, _, _, channels = x.shape
    for b in range(n):
        for i in range(grad_output.shape[1]):
            for j in range(grad_output.shape[2]):
                for c in range(channels):
                    window = x[b, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size, c]
                    u, v = np.unravel_index(np.argmax(window), window.shape)  # argmax takes the first maximum
                    grad_x[b, i * stride + u, j * stride + v, c] += grad_output[b, i, j, c]
    return grad_x


def student_dense_backward(grad_output, x, weights):
    return grad_output @ weights.T, x.T @ grad_output, grad_output.sum(axis=0)


def student_softmax_cross_entropy_backward(probabilities, labels):
    grad = probabilities.copy()
    grad[np.arange(len(labels)), labels] -= 1
    return grad / len(labels)


RIGHT = [
    (exercises.check_softmax_cross_entropy_backward, student_softmax_cross_entropy_backward),
    (exercises.check_conv_output_size, student_output_size),
    (exercises.check_correlate2d, student_correlate2d),
    (exercises.check_pad2d, student_pad2d),
    (exercises.check_softmax, student_softmax),
    (exercises.check_dropout, student_dropout),
    (exercises.check_relu_backward, student_relu_backward),
    (exercises.check_max_pool2d_backward, student_max_pool2d_backward),
    (exercises.check_dense_backward, student_dense_backward),
]


@pytest.mark.parametrize("check, function", RIGHT, ids=[check.__name__ for check, _ in RIGHT])
def test_a_right_answer_passes(run_check, check, function):
    passed, text = run_check(check, function)
    assert passed is True, text
    assert text.startswith(check.__name__ + ": all ") and "Well done!" in text


def test_these_function_checks_are_exported():
    assert {check.__name__ for check, _ in RIGHT} <= set(exercises.__all__)


# --- each recognised mistake, fed to its check ---------------------------------------------------

MISTAKES = [
    (exercises.check_softmax_cross_entropy_backward, lambda p, labels: p - np.eye(p.shape[1])[labels], "the division by N is missing"),
    (exercises.check_softmax_cross_entropy_backward, lambda p, labels: (np.eye(p.shape[1])[labels] - p) / len(labels), "the sign is flipped"),
    (exercises.check_softmax_cross_entropy_backward, lambda p, labels: p / len(labels), "the one-hot vector is missing"),
    (exercises.check_softmax_cross_entropy_backward, lambda p, labels: -np.eye(p.shape[1])[labels] / (len(labels) * p),
     "with respect to the probabilities"),
    # check, wrong function, words the verdict must contain
    (exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) // stride,
     "the `+ 1` is missing"),
    (exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: (size - kernel_size) // stride + 1,
     "the padding is ignored"),
    (exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: (size + padding - kernel_size) // stride + 1,
     "the padding is counted once"),
    (exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: math.ceil((size + 2 * padding - kernel_size) / stride) + 1,
     "rounded up"),
    (exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size + 1) // stride,
     "the `+ 1` is inside the division"),
    (exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) / stride + 1,
     "it is a float"),
    (exercises.check_correlate2d, lambda image, kernel: student_correlate2d(image, kernel[::-1, ::-1]), "the kernel is flipped"),
    (exercises.check_correlate2d, lambda image, kernel: student_correlate2d(image, kernel.T), "the kernel is transposed"),
    (exercises.check_correlate2d,
     lambda image, kernel: student_correlate2d(np.pad(image, (((kernel.shape[0] - 1) // 2, kernel.shape[0] // 2), ((kernel.shape[1] - 1) // 2, kernel.shape[1] // 2))), kernel),
     "'same' padding"),
    (exercises.check_correlate2d, lambda image, kernel: student_correlate2d(image, kernel)[:-1, :-1], "one row and one column are missing"),
    (exercises.check_pad2d, lambda x, padding: np.pad(x, padding), "every axis is padded"),
    (exercises.check_pad2d, lambda x, padding: np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))), "channels-first"),
    (exercises.check_pad2d, lambda x, padding: np.pad(x, ((padding, padding), (padding, padding), (0, 0), (0, 0))), "the batch and the height"),
    (exercises.check_pad2d, lambda x, padding: np.pad(x, ((0, 0), (0, 2 * padding), (0, 2 * padding), (0, 0))), "one side only"),
    (exercises.check_pad2d, lambda x, padding: np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)), constant_values=1), "the border is not zero"),
    (exercises.check_softmax, lambda logits: np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True), "exp(1000) overflows"),
    (exercises.check_softmax, lambda logits: student_softmax(logits.T).T, "each column sums to 1"),
    (exercises.check_softmax, lambda logits: np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum(), "the whole array sums to 1"),
    (exercises.check_softmax, lambda logits: 1 / (1 + np.exp(-logits)), "sigmoids"),
    (exercises.check_softmax, lambda logits: logits / logits.sum(axis=-1, keepdims=True), "the exponential is missing"),
    (exercises.check_dropout, lambda x, rate, rng: x * (rng.random(x.shape) >= rate), "not scaled"),
    (exercises.check_dropout, lambda x, rate, rng: x * (rng.random(x.shape) >= rate) * (1 - rate), "multiplied by 1 - rate"),
    (exercises.check_dropout, lambda x, rate, rng: x * (rng.random(x.shape) < rate) / (1 - rate) if rate else x, "probability of *dropping*"),
    (exercises.check_dropout, lambda x, rate, rng: x * (rng.random(x.shape) >= rate) / (1 - rate) + (rate == 0), "with rate 0 nothing is dropped"),
    (exercises.check_relu_backward, lambda grad_output, x: np.maximum(x, 0), "this is the forward pass"),
    (exercises.check_relu_backward, lambda grad_output, x: (x > 0) * 1.0, "only ReLU's slope"),
    (exercises.check_relu_backward, lambda grad_output, x: grad_output * (x >= 0), "where x == 0 too"),
    (exercises.check_relu_backward, lambda grad_output, x: np.where(grad_output > 0, grad_output, 0), "the mask comes from grad_output"),
    (exercises.check_relu_backward, lambda grad_output, x: grad_output * x, "grad_output * x"),
    (exercises.check_max_pool2d_backward, exercises.chapter09._max_pool_every_tie, "every tied maximum"),
    (exercises.check_max_pool2d_backward, exercises.chapter09._max_pool_every_cell, "every cell of the window"),
    (exercises.check_max_pool2d_backward,
     lambda grad_output, x, pool_size, stride: student_max_pool2d_backward(grad_output / 1.0, np.ones_like(x), pool_size, stride) * 0
     + gradients.avg_pool2d_backward(grad_output, x, pool_size, stride), "average pooling's gradient"),
    (exercises.check_max_pool2d_backward, exercises.chapter09._max_pool_overwrite, "overwrite each other"),
    (exercises.check_dense_backward, lambda grad_output, x, weights: (grad_output @ weights, x.T @ grad_output, grad_output.sum(0)),
     "grad_x = grad_output @ weights"),
    (exercises.check_dense_backward, lambda grad_output, x, weights: (grad_output @ weights.T, grad_output.T @ x, grad_output.sum(0)),
     "grad_weights is x @ grad_output.T or its transpose"),
    (exercises.check_dense_backward,
     lambda grad_output, x, weights: (grad_output @ weights.T, x.T @ grad_output / len(x), grad_output.sum(0) / len(x)), "divided by N"),
    (exercises.check_dense_backward, lambda grad_output, x, weights: (grad_output @ weights.T, x.T @ grad_output, grad_output.mean(0)),
     "grad_bias is the mean"),
    (exercises.check_dense_backward, lambda grad_output, x, weights: (grad_output @ weights.T, x.T @ grad_output, grad_output),
     "grad_bias is not summed"),
]


@pytest.mark.parametrize("check, function, words", MISTAKES, ids=[f"{check.__name__}-{words}" for check, _, words in MISTAKES])
def test_a_known_mistake_is_named(run_check, check, function, words):
    passed, text = run_check(check, function)
    assert passed is False
    assert words in text, text
    assert "expected" in text or check is exercises.check_dropout


def test_ties_to_the_last_maximum_are_named(run_check):
    def last_maximum(grad_output, x, pool_size, stride):
        flipped = student_max_pool2d_backward(grad_output[:, ::-1, ::-1], x[:, ::-1, ::-1], pool_size, stride)
        return flipped[:, ::-1, ::-1]
    passed, text = run_check(exercises.check_max_pool2d_backward, last_maximum)
    assert passed is False and "ties go to the last maximum" in text


def test_the_smallest_failing_case_is_shown_with_its_numbers(run_check):
    passed, text = run_check(exercises.check_conv_output_size, lambda size, kernel_size, stride, padding: (size - kernel_size) // stride + 1)
    # Case 2 is the first with padding: n = 5, k = 3, s = 1, p = 1 gives 5, the mistake 3.
    assert "case 2 of 8 fails" in text and "padding = 1" in text
    assert "expected: 5" in text and "received: 3" in text


# --- what any student function can do wrong ------------------------------------------------------


def test_an_error_in_the_student_function_is_reported_not_raised(run_check):
    def broken(grad_output, x):
        raise IndexError("index 3 is out of bounds")
    passed, text = run_check(exercises.check_relu_backward, broken)
    assert passed is False and "your function raised IndexError: index 3 is out of bounds" in text


def test_a_missing_return_is_named(run_check):
    def no_return(image, kernel):
        student_correlate2d(image, kernel)
    passed, text = run_check(exercises.check_correlate2d, no_return)
    assert passed is False and "returned None: is a `return` missing?" in text


def test_changing_the_input_in_place_is_named(run_check):
    def in_place(grad_output, x):
        grad_output[x <= 0] = 0
        return grad_output
    passed, text = run_check(exercises.check_relu_backward, in_place)
    assert passed is False and "changed its input grad_output in place" in text


def test_a_wrong_shape_is_explained(run_check):
    passed, text = run_check(exercises.check_relu_backward, lambda grad_output, x: (grad_output * (x > 0)).ravel())
    assert passed is False and "it needs shape" in text
    passed, text = run_check(exercises.check_max_pool2d_backward,
                           lambda grad_output, x, pool_size, stride: student_max_pool2d_backward(grad_output, x, pool_size, stride).transpose(0, 3, 1, 2))
    assert passed is False and "channels-last" in text


def test_passing_the_result_instead_of_the_function_is_named(run_check):
    for check in (exercises.check_correlate2d, exercises.check_dropout):
        passed, text = run_check(check, np.zeros(3))
        assert passed is False and "Pass the function itself, without ()" in text


def test_a_result_that_is_not_a_number_is_reported(run_check):
    for check, function in [(exercises.check_pad2d, lambda x, padding: "padded"), (exercises.check_softmax, lambda logits: ["a", "b"])]:
        passed, text = run_check(check, function)
        assert passed is False and ("received: 'padded'" in text or "received: ['a', 'b']" in text), text


def test_the_parameters_may_have_any_names(run_check):
    def softmax_with_other_names(z):
        exps = np.exp(z - z.max(axis=1, keepdims=True))
        return exps / exps.sum(axis=1, keepdims=True)
    passed, text = run_check(exercises.check_softmax, softmax_with_other_names)
    assert passed is True, text
