"""The new checks of the chapter "Learning from scratch": right answers pass, each named mistake is recognised."""

import numpy as np
import pytest

from cnn_course import activations, gradients, layers, lenet, losses, model, ops
from cnn_course.exercises import chapter09


def run(capsys, check, *arguments):
    passed = check(*arguments)
    return passed, capsys.readouterr().out


# --- check_learning_by_hand ----------------------------------------------------------------------

EXERCISE = {"x": 2.0, "w2": 3.0, "t": 1.0}


def by_hand(w1, loss_slope=2.0, relu_forward=True, relu_backward=True, last_factor="x"):
    """(L, dL/dw2, dL/dw1) of the exercise's network, written out step by step (not with the check's helper)."""
    x, w2, t = EXERCISE["x"], EXERCISE["w2"], EXERCISE["t"]
    pre = w1 * x
    h = max(pre, 0.0) if relu_forward else pre
    y = w2 * h
    grad_y = loss_slope * (y - t)
    grad_h = grad_y * w2
    grad_pre = grad_h * (pre > 0) if relu_backward else grad_h
    return (y - t) ** 2, grad_y * h, grad_pre * (x if last_factor == "x" else w1)


@pytest.mark.parametrize("w1", [0.5, -0.5, 1.5])
def test_by_hand_the_right_answer_passes(capsys, w1):
    passed, text = run(capsys, chapter09.check_learning_by_hand, by_hand(w1), EXERCISE["x"], w1, EXERCISE["w2"], EXERCISE["t"])
    assert passed is True and text == "check_learning_by_hand: right. Well done!\n"


def test_by_hand_the_solution_texts_numbers_pass(capsys):
    # The solution states (L, dL/dw2, dL/dw1) = (4, 4, 24) and (1, 0, 0); the check computes its own.
    assert chapter09.check_learning_by_hand((4, 4, 24), 2.0, 0.5, 3.0, 1.0)
    assert chapter09.check_learning_by_hand((1.0, 0.0, 0.0), 2.0, -0.5, 3.0, 1.0)
    capsys.readouterr()


def test_by_hand_no_answer_yet(capsys):
    passed, text = run(capsys, chapter09.check_learning_by_hand, None, 2.0, 0.5, 3.0, 1.0)
    assert passed is False and "no answer yet" in text and "for w1 = 0.5" in text


@pytest.mark.parametrize(
    "w1, mistake, words",
    [
        (0.5, {"loss_slope": 1.0}, "missing the factor 2 of the square"),
        (0.5, {"loss_slope": -2.0}, "the gradients have the wrong sign"),
        (0.5, {"last_factor": "w1"}, "multiplied by w1 at the last step"),
        (-0.5, {"relu_backward": False}, "the gradient went through ReLU"),
        (-0.5, {"relu_forward": False, "relu_backward": False}, "ReLU is missing from the forward pass"),
    ],
)
def test_by_hand_each_mistake_is_named_without_the_answer(capsys, w1, mistake, words):
    wrong = by_hand(w1, **mistake)
    assert not np.allclose(wrong, by_hand(w1))
    passed, text = run(capsys, chapter09.check_learning_by_hand, wrong, 2.0, w1, 3.0, 1.0)
    assert passed is False and "known mistake: " in text and words in text, text
    right = by_hand(w1)
    assert repr(tuple(right)) not in text and repr(tuple(int(value) for value in right)) not in text


def test_by_hand_an_unrelated_answer_gets_the_hint(capsys):
    passed, text = run(capsys, chapter09.check_learning_by_hand, (5, 5, 5), 2.0, 0.5, 3.0, 1.0)
    assert passed is False and "which is not it" in text and "Hint: go step by step" in text
    assert "known mistake" not in text


def test_by_hand_data_of_the_wrong_kind_is_refused():
    with pytest.raises(TypeError, match="w1 must be a number, got str"):
        chapter09.check_learning_by_hand((4, 4, 24), 2.0, "0.5", 3.0, 1.0)


# --- check_sigmoid_backward ----------------------------------------------------------------------


def student_sigmoid_backward(grad_output, x):
    s = 1.0 / (1.0 + np.exp(-x))
    return grad_output * s * (1.0 - s)


def test_sigmoid_backward_a_right_function_passes(capsys):
    passed, text = run(capsys, chapter09.check_sigmoid_backward, student_sigmoid_backward)
    assert passed is True and text == "check_sigmoid_backward: all 3 cases pass. Well done!\n"


def test_sigmoid_backward_agrees_with_centred_differences():
    rng = np.random.default_rng(0)
    x, upstream, epsilon = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 1e-6
    centred = upstream * (activations.sigmoid(x + epsilon) - activations.sigmoid(x - epsilon)) / (2 * epsilon)
    np.testing.assert_allclose(chapter09._sigmoid_backward(upstream, x), centred, rtol=1e-7, atol=1e-9)


def test_sigmoid_backward_an_unfinished_function_is_told_its_missing_return(capsys):
    passed, text = run(capsys, chapter09.check_sigmoid_backward, lambda grad_output, x: None)
    assert passed is False and "returned None" in text


SIGMOID_MISTAKES = [
    (lambda grad_output, x: 1.0 / (1.0 + np.exp(-x)), "this is the forward pass"),
    (lambda grad_output, x: student_sigmoid_backward(np.ones_like(x), x), "only the sigmoid's slope"),
    (lambda grad_output, x: grad_output * x * (1.0 - x), "applied to x itself"),
    (lambda grad_output, x: grad_output * (1.0 - (1.0 / (1.0 + np.exp(-x))) ** 2), "tanh's derivative"),
    (lambda grad_output, x: grad_output / (1.0 + np.exp(-x)), "the factor 1 - s is missing"),
]


@pytest.mark.parametrize("function, words", SIGMOID_MISTAKES, ids=[words for _, words in SIGMOID_MISTAKES])
def test_sigmoid_backward_each_mistake_is_named(capsys, function, words):
    passed, text = run(capsys, chapter09.check_sigmoid_backward, function)
    assert passed is False and "known mistake: " in text and words in text, text


def test_sigmoid_backward_an_unrelated_wrong_function_fails_unnamed(capsys):
    passed, text = run(capsys, chapter09.check_sigmoid_backward, lambda grad_output, x: grad_output * 0.25)
    assert passed is False and "case 1 of 3 fails" in text and "known mistake" not in text


# --- check_learning_full_convolution -------------------------------------------------------------


def student_full_convolution(grad_output, kernel):
    kh, kw = kernel.shape[:2]
    padded = np.pad(grad_output, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    turned = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, C_out, C_in)
    return ops.conv2d(padded, turned)


def test_full_convolution_a_right_function_passes(capsys):
    passed, text = run(capsys, chapter09.check_learning_full_convolution, student_full_convolution)
    assert passed is True and text == "check_learning_full_convolution: all 3 cases pass. Well done!\n"


def test_full_convolution_reference_is_the_backward_pass_of_a_convolution():
    rng = np.random.default_rng(1)
    x, kernel = rng.normal(size=(2, 5, 4, 2)), rng.normal(size=(3, 2, 2, 3))
    grad_output = rng.normal(size=ops.conv2d(x, kernel).shape)
    grad_x, _, _ = gradients.conv2d_backward(grad_output, x, kernel)
    np.testing.assert_allclose(chapter09._input_gradient(grad_output, kernel), grad_x, rtol=1e-12, atol=1e-12)


FULL_MISTAKES = [
    (lambda g, k: student_full_convolution(g, k[::-1, ::-1]), "the kernel is not flipped"),
    (lambda g, k: student_full_convolution(g, k[::-1, ::-1][::-1]), "flipped in one direction only"),
    (lambda g, k: ops.conv2d(g, k[::-1, ::-1], padding=(k.shape[0] - 1, k.shape[1] - 1)), "channels are not swapped"),
    (lambda g, k: ops.conv2d(g, k[::-1, ::-1].transpose(0, 1, 3, 2)), "the padding is missing"),
]


@pytest.mark.parametrize("function, words", FULL_MISTAKES, ids=[words for _, words in FULL_MISTAKES])
def test_full_convolution_each_mistake_is_named(capsys, function, words):
    passed, text = run(capsys, chapter09.check_learning_full_convolution, function)
    assert passed is False and "known mistake: " in text and words in text, text


def test_full_convolution_an_unrelated_wrong_function_fails_unnamed(capsys):
    passed, text = run(capsys, chapter09.check_learning_full_convolution, lambda g, k: 2 * student_full_convolution(g, k))
    assert passed is False and "case 1 of 3 fails" in text and "known mistake" not in text


# --- check_learning_saliency ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def saliency_case():
    network = lenet.build_lenet(seed=3, dtype="float64")
    rng = np.random.default_rng(4)
    image, label = rng.random((1, 28, 28, 1)), np.array([7])
    # The gradient written out as the exercise says, layer by layer.
    copy = lenet.build_lenet(seed=3, dtype="float64")
    loss, probabilities = losses.softmax_cross_entropy(copy.forward(image, training=True), label)
    grad = gradients.softmax_cross_entropy_backward(probabilities, label)
    for layer in reversed(copy.layers[1:]):
        grad = layer.backward(grad)
    first_output = grad
    grad = copy.layers[0].backward(grad)
    return network, image, label, grad, first_output


def test_saliency_the_right_gradient_passes(capsys, saliency_case):
    network, image, label, grad, _ = saliency_case
    passed, text = run(capsys, chapter09.check_learning_saliency, grad, network, image, label)
    assert passed is True and text == "check_learning_saliency: right. Well done!\n"
    # The check runs its backward passes on a copy: the network's own gradients are still the zeros of a new network.
    assert not any(values.any() for layer in network.layers for values in layer.grads.values())


def test_saliency_agrees_with_centred_differences(saliency_case):
    network, image, label, grad, _ = saliency_case
    epsilon = 1e-5
    for row, column in [(10, 12), (14, 14), (20, 9)]:
        step = np.zeros_like(image)
        step[0, row, column, 0] = epsilon
        up, _ = losses.softmax_cross_entropy(network.logits(image + step), label)
        down, _ = losses.softmax_cross_entropy(network.logits(image - step), label)
        assert np.isclose((up - down) / (2 * epsilon), grad[0, row, column, 0], rtol=1e-5, atol=1e-7 * np.abs(grad).max())


def test_saliency_no_answer_yet(capsys, saliency_case):
    network, image, label, _, _ = saliency_case
    passed, text = run(capsys, chapter09.check_learning_saliency, None, network, image, label)
    assert passed is False and "no answer yet" in text and "shape (1, 28, 28, 1)" in text


def test_saliency_each_mistake_is_named(capsys, saliency_case):
    network, image, label, grad, first_output = saliency_case
    score_network = lenet.build_lenet(seed=3, dtype="float64")
    score_network.forward(image, training=True)
    score = np.eye(10)[label]
    for layer in reversed(score_network.layers):
        score = layer.backward(score)
    for wrong, words in [(np.abs(grad), "the absolute value"), (-grad, "the sign is flipped"),
                         (first_output, "the first layer's output"), (score, "the true class's logit")]:
        passed, text = run(capsys, chapter09.check_learning_saliency, wrong, network, image, label)
        assert passed is False and "known mistake: " in text and words in text, text


def test_saliency_an_unrelated_wrong_answer_fails_with_the_hint(capsys, saliency_case):
    network, image, label, grad, _ = saliency_case
    passed, text = run(capsys, chapter09.check_learning_saliency, grad * 1.01, network, image, label)
    assert passed is False and "which is not it" in text and "Hint: run forward" in text


def test_saliency_a_float32_network_gets_float32_tolerances(capsys, saliency_case):
    _, image, label, grad, _ = saliency_case
    network32 = lenet.build_lenet(seed=3)
    assert chapter09.check_learning_saliency(grad, network32, image, label)  # float64 answer, float32 network
    assert not chapter09.check_learning_saliency(grad * 1.01, network32, image, label)
    capsys.readouterr()


def test_saliency_a_final_softmax_is_left_out_of_the_loss(capsys, saliency_case):
    network, image, label, grad, _ = saliency_case
    with_softmax = model.Sequential([layers.Conv2D(16, 5), layers.ReLU(),
                                     layers.MaxPool2D(2), layers.Conv2D(32, 5), layers.ReLU(), layers.MaxPool2D(2),
                                     layers.Flatten(), layers.Dense(10, weight_scale=0.1), layers.Softmax()],
                                    input_shape=(28, 28, 1), seed=3, dtype="float64")
    with_softmax.set_weights(network.get_weights())
    assert chapter09.check_learning_saliency(grad, with_softmax, image, label)
    capsys.readouterr()


def test_saliency_bad_data_is_refused(saliency_case):
    network, image, label, grad, _ = saliency_case
    with pytest.raises(TypeError, match="network must be a cnn_course.model.Sequential"):
        chapter09.check_learning_saliency(grad, "network", image, label)
    with pytest.raises(ValueError, match=r"image must have shape \(N, 28, 28, 1\).*got shape \(28, 28\)"):
        chapter09.check_learning_saliency(grad, network, image[0, :, :, 0], label)
    with pytest.raises(ValueError, match=r"label must be integer class labels of shape \(1,\)"):
        chapter09.check_learning_saliency(grad, network, image, np.array([7.0]))
