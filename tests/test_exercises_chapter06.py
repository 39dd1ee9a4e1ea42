"""cnn_course.exercises, chapter "ReLU and other activations": each check passes the right answer and names each mistake.

The right answers are computed here independently of the checks: with
TensorFlow (tf.nn.leaky_relu, tf.GradientTape, tf.nn pooling) or by hand
for the two-unit layer of the exercise.
"""

import numpy as np
import pytest

from cnn_course import exercises
from cnn_course.exercises import chapter06

CHECKS = ["check_leaky_relu", "check_activations_by_hand", "check_activations_pool", "check_activations_tanh",
          "check_activations_scale"]


def test_the_checks_are_exported():
    assert set(CHECKS) <= set(chapter06.__all__) <= set(exercises.__all__)


# --- check_leaky_relu -------------------------------------------------------------------------


def student_leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def test_the_leaky_relu_reference_is_tensorflows(tf):
    for case in chapter06._leaky_cases():
        alpha = case.get("alpha", 0.01)
        expected = tf.nn.leaky_relu(tf.constant(case["x"]), alpha=alpha).numpy()
        # TensorFlow stores alpha as a float32 attribute: equal up to float32 rounding of alpha.
        np.testing.assert_allclose(chapter06._leaky_relu(**case), expected, rtol=np.finfo(np.float32).eps, atol=0)


@pytest.mark.parametrize("function", [student_leaky_relu, lambda x, alpha=0.01: np.maximum(x, alpha * x)],
                         ids=["where", "maximum"])
def test_a_right_leaky_relu_passes(run_check, function):
    passed, text = run_check(exercises.check_leaky_relu, function)
    assert passed is True, text
    assert text == "check_leaky_relu: all 4 cases pass. Well done!\n"


LEAKY_MISTAKES = [
    (lambda x, alpha=0.01: np.maximum(x, 0.0), "that is plain ReLU"),
    (lambda x, alpha=0.01: np.where(x > 0, x, 0.01 * x), "whatever alpha is passed"),
    (lambda x, alpha=0.01: np.where(x > 0, alpha * x, x), "alpha multiplies the positive inputs"),
    (lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha), "this is the derivative of leaky ReLU"),
    (lambda x, alpha=0.2: np.where(x > 0, x, alpha * x), "the exercise's default is alpha=0.01"),
    (lambda x, alpha=0.3: np.where(x > 0, x, alpha * x), "uses the slope 0.3 for negative inputs"),
]


@pytest.mark.parametrize("function, words", LEAKY_MISTAKES, ids=[words for _, words in LEAKY_MISTAKES])
def test_a_leaky_relu_mistake_is_named(run_check, function, words):
    passed, text = run_check(exercises.check_leaky_relu, function)
    assert passed is False
    assert words in text, text


def test_a_leaky_relu_without_a_default_is_reported(run_check):
    passed, text = run_check(exercises.check_leaky_relu, lambda x, alpha: np.where(x > 0, x, alpha * x))
    assert passed is False
    assert "case 4 of 4 fails" in text and "missing 1 required positional argument: 'alpha'" in text


def test_a_leaky_relu_that_changes_its_input_is_reported(run_check):
    def in_place(x, alpha=0.01):
        x[x < 0] *= alpha
        return x
    passed, text = run_check(exercises.check_leaky_relu, in_place)
    assert passed is False and "changed its input x in place" in text


def test_an_unrelated_wrong_leaky_relu_fails_without_a_named_mistake(run_check):
    for wrong in (lambda x, alpha=0.01: student_leaky_relu(x, alpha) + 1.0, lambda x, alpha=0.01: None):
        passed, text = run_check(exercises.check_leaky_relu, wrong)
        assert passed is False
        assert "case 1 of 4 fails" in text and "known mistake" not in text


# --- check_activations_by_hand ----------------------------------------------------------------

X_HAND = np.array([[2.0, -1.0]])
W_HAND = np.array([[1.0, 2.0], [3.0, 1.0]])


def by_hand_answer(tf, x, weights):
    """The seven parts, from TensorFlow's forward pass and tf.GradientTape."""
    x_variable, w_variable = tf.Variable(x), tf.Variable(weights)
    with tf.GradientTape() as tape:
        z = x_variable @ w_variable
        relu_z = tf.nn.relu(z)
        loss = tf.reduce_sum(relu_z)
    grad_z, grad_x, grad_w = tape.gradient(loss, [z, x_variable, w_variable])
    idle = int(np.flatnonzero(grad_z.numpy()[0] == 0)[0])
    return [z.numpy()[0].tolist(), relu_z.numpy()[0].tolist(), float(loss), grad_z.numpy()[0].tolist(),
            grad_w.numpy().tolist(), grad_x.numpy()[0].tolist(), ["first", "second", "third"][idle]]


def test_the_right_forward_and_backward_pass_passes(run_check, tf):
    answer = by_hand_answer(tf, X_HAND, W_HAND)
    passed, text = run_check(exercises.check_activations_by_hand, tuple(answer), X_HAND, W_HAND)
    assert passed is True, text
    assert text == "check_activations_by_hand: right. Well done!\n"
    # Written as a student would: (1, 2) arrays as plain lists or as NumPy arrays, the word in capitals.
    as_arrays = tuple(np.array(part) if isinstance(part, list) else part for part in answer[:-1]) + (" First ",)
    assert run_check(exercises.check_activations_by_hand, as_arrays, X_HAND[0], W_HAND)[0] is True
    nested = ([answer[0]],) + tuple(answer[1:])
    assert run_check(exercises.check_activations_by_hand, nested, X_HAND, W_HAND)[0] is True


def test_no_answer_yet_says_what_is_asked(run_check):
    passed, text = run_check(exercises.check_activations_by_hand, None, X_HAND, W_HAND)
    assert passed is False
    assert "no answer yet. Replace None with a tuple (z, relu_z, loss, grad_z, grad_W, grad_x, unit)" in text


BY_HAND_PARTS = ["z", "relu(z)", "the loss", "the gradient for z", "the gradient for W", "the gradient for x", "the unit"]


def part_verdict(text, label):
    """The verdict on the part ``label``: from its line to the end (the student's value, then the sentence)."""
    assert f"\n  {label}: not yet. You answered " in text, text
    return text.split(f"\n  {label}: not yet. You answered ", 1)[1]


def after_answer(text, label):
    """What the verdict on the part ``label`` says after repeating the student's value."""
    return part_verdict(text, label).split("\n", 1)[1]


def by_hand_mistakes(x, weights):
    """(position, wrong part, words) for each recognised mistake, computed from the data."""
    z = x @ weights
    relu_z = np.maximum(z, 0)
    ones = np.ones_like(z)
    grad_z = (z > 0) * 1.0
    return [
        (0, (x @ weights.T)[0], "computed with the rows of W"),
        (1, np.abs(z)[0], "does not drop the sign"),
        (1, z[0], "every negative value replaced by 0"),
        (2, z.sum(), "this is the sum of z"),
        (3, ones[0], "ReLU's derivative is missing: the gradient for z"),
        (3, relu_z[0], "multiplied by relu(z)"),
        (4, (grad_z.T @ x), "this is the transpose"),
        (4, x.T @ ones, "the weight gradient is x.T @ (upstream * relu'(z))"),
        (5, (grad_z @ weights)[0], "the weights are not transposed"),
        (5, (ones @ weights.T)[0], "the input gradient is (upstream * relu'(z)) @ W.T"),
        (6, "second", "that unit's pre-activation is positive"),
    ]


@pytest.mark.parametrize("position, wrong, words", by_hand_mistakes(X_HAND, W_HAND),
                         ids=[words for _, _, words in by_hand_mistakes(X_HAND, W_HAND)])
def test_a_by_hand_mistake_is_named_without_the_right_value(run_check, tf, position, wrong, words):
    answer = by_hand_answer(tf, X_HAND, W_HAND)
    right = answer[position]
    answer[position] = wrong.tolist() if isinstance(wrong, np.ndarray) else wrong
    passed, text = run_check(exercises.check_activations_by_hand, tuple(answer), X_HAND, W_HAND)
    assert passed is False
    verdict_sentence = after_answer(text, BY_HAND_PARTS[position])
    assert "known mistake: " in verdict_sentence and words in verdict_sentence, text
    # The parts are judged in order: the parts before are right, the ones after are not looked at.
    assert text.startswith("check_activations_by_hand: not yet." + (f" Right: {', '.join(BY_HAND_PARTS[:position])}."
                                                                     if position else "") + "\n"), text
    assert all(f"{label}: not yet" not in text for label in BY_HAND_PARTS[position + 1:])
    if isinstance(right, str):
        assert right not in verdict_sentence
    else:
        for form in (repr(right), repr(np.asarray(right, dtype=float).tolist()), str(np.asarray(right, dtype=float))):
            assert form not in verdict_sentence


def test_an_unrelated_wrong_part_gets_the_hint_and_a_wrong_form_is_told(run_check, tf):
    answer = by_hand_answer(tf, X_HAND, W_HAND)
    wrong = list(answer)
    wrong[5] = [7, 7]
    passed, text = run_check(exercises.check_activations_by_hand, tuple(wrong), X_HAND, W_HAND)
    assert passed is False and after_answer(text, "the gradient for x").startswith("    Hint:"), text
    assert "known mistake" not in text
    wrong = list(answer)
    wrong[6] = 1
    passed, text = run_check(exercises.check_activations_by_hand, tuple(wrong), X_HAND, W_HAND)
    assert passed is False and "The answer is a word: the unit that learns nothing, 'first' or 'second'." in text
    wrong = list(answer)
    wrong[4] = [0, 2, 0, -1]
    passed, text = run_check(exercises.check_activations_by_hand, tuple(wrong), X_HAND, W_HAND)
    assert passed is False and "The answer has shape (2, 2), yours has shape (4,)" in text
    passed, text = run_check(exercises.check_activations_by_hand, tuple(answer[:3]), X_HAND, W_HAND)
    assert passed is False and "The answer is 7 values in a tuple" in text


def test_by_hand_computes_from_its_arguments(run_check, tf):
    # Another layer: three inputs, three units, the third one idle.
    x = np.array([[1.0, 2.0, -1.0]])
    weights = np.array([[1.0, 0.0, -2.0], [0.5, 1.0, 0.0], [1.0, -1.0, 1.0]])
    answer = by_hand_answer(tf, x, weights)[:-1] + ["third"]
    assert run_check(exercises.check_activations_by_hand, tuple(answer), x, weights)[0] is True
    assert run_check(exercises.check_activations_by_hand, tuple(answer[:-1] + ["first"]), x, weights)[0] is False


def test_by_hand_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"x must be one example.*got shape \(2, 2\)"):
        exercises.check_activations_by_hand(None, np.ones((2, 2)), W_HAND)
    with pytest.raises(ValueError, match="weights must have shape"):
        exercises.check_activations_by_hand(None, X_HAND, np.ones((3, 2)))
    with pytest.raises(ValueError, match="exactly one unit"):
        exercises.check_activations_by_hand(None, X_HAND, np.array([[1.0, 2.0], [0.0, 1.0]]))


# --- check_activations_pool -------------------------------------------------------------------


def tf_commutes(tf, pool, activation, feature_map):
    batch = tf.constant(feature_map[np.newaxis, :, :, np.newaxis])
    first = pool(activation(batch), 2, 2, "VALID").numpy()
    second = activation(pool(batch, 2, 2, "VALID")).numpy()
    return bool(np.allclose(first, second, rtol=1e-12, atol=1e-12))


def pool_answer(tf, feature_map):
    return (tf_commutes(tf, tf.nn.max_pool2d, tf.math.sigmoid, feature_map),
            tf_commutes(tf, tf.nn.max_pool2d, tf.math.tanh, feature_map),
            tf_commutes(tf, tf.nn.avg_pool2d, tf.nn.relu, feature_map))


FEATURE_MAP = np.random.default_rng(6).normal(size=(26, 26))


def test_the_right_pool_answer_passes(run_check, tf):
    answer = pool_answer(tf, FEATURE_MAP)
    assert answer == (True, True, False)  # what the exercise is about: these data show it
    passed, text = run_check(exercises.check_activations_pool, answer, FEATURE_MAP)
    assert passed is True and text == "check_activations_pool: right. Well done!\n"
    as_numpy_bools = tuple(np.bool_(value) for value in answer)
    assert run_check(exercises.check_activations_pool, list(as_numpy_bools), FEATURE_MAP[np.newaxis, :, :, np.newaxis])[0]


def test_the_pool_answer_is_computed_from_the_feature_map(run_check, tf):
    # On a map without negative values ReLU changes nothing, so it commutes with average pooling too.
    positive = np.abs(FEATURE_MAP)
    answer = pool_answer(tf, positive)
    assert answer == (True, True, True)
    assert run_check(exercises.check_activations_pool, answer, positive)[0] is True
    assert run_check(exercises.check_activations_pool, (True, True, False), positive)[0] is False


POOL_PARTS = ["sigmoid with max pooling", "tanh with max pooling", "ReLU with average pooling"]


@pytest.mark.parametrize("answer, position, words", [
    ((False, True, False), 0, "being nonlinear is not what matters"),
    ((True, False, False), 1, "tanh's outputs can be negative"),
    ((True, True, True), 2, "average pooling is not max pooling"),
])
def test_a_pool_mistake_is_named(run_check, answer, position, words):
    passed, text = run_check(exercises.check_activations_pool, answer, FEATURE_MAP)
    assert passed is False
    assert "known mistake: " + words in part_verdict(text, POOL_PARTS[position]), text
    assert text.count("not yet") == 2  # the verdict, and the one wrong part
    assert "(True, True, False)" not in text


def test_every_wrong_pool_part_is_named(run_check):
    # The three questions do not build on each other: each wrong one gets its own verdict.
    passed, text = run_check(exercises.check_activations_pool, (False, False, False), FEATURE_MAP)
    assert passed is False and text.startswith("check_activations_pool: not yet. Right: ReLU with average pooling.\n")
    assert "being nonlinear is not what matters" in part_verdict(text, POOL_PARTS[0])
    assert "tanh's outputs can be negative" in part_verdict(text, POOL_PARTS[1])


def test_pool_no_answer_wrong_forms_and_bad_arguments(run_check):
    passed, text = run_check(exercises.check_activations_pool, None, FEATURE_MAP)
    assert passed is False and "no answer yet. Replace None with a tuple of three bools" in text
    for wrong in (("yes", True, False), (1, 1, 0)):
        passed, text = run_check(exercises.check_activations_pool, wrong, FEATURE_MAP)
        assert passed is False and "The answer is True or False: True if sigmoid commutes with max pooling" in text
    passed, text = run_check(exercises.check_activations_pool, True, FEATURE_MAP)
    assert passed is False and "The answer is 3 values in a tuple" in text
    with pytest.raises(ValueError, match=r"feature_map must have shape \(H, W\) or \(N, H, W, C\)"):
        exercises.check_activations_pool(None, np.zeros(5))
    with pytest.raises(ValueError, match="at least 2 x 2"):
        exercises.check_activations_pool(None, np.zeros((1, 5)))


# --- the ten-layer experiment: check_activations_tanh and check_activations_scale ----------------

SEED = 12  # a small network whose ratios, and the wrong ones, are all more than 6 % apart (asserted below)
RNG = np.random.default_rng(SEED)
DIGITS = RNG.random(size=(16, 30))
SIZES = [30, 12, 12, 12, 12, 12]
WEIGHTS = [RNG.normal(scale=np.sqrt(2.0 / SIZES[i]), size=(SIZES[i], SIZES[i + 1])) for i in range(len(SIZES) - 1)]


def tf_gradient_ratio(tf, digits, weights, activation):
    """Mean |d loss / d z| at layer 1 over the last layer, for loss = sum(output), by tf.GradientTape."""
    with tf.GradientTape() as tape:
        values, pre_activations = tf.constant(digits), []
        tape.watch(values)  # constants are not recorded unless watched
        for matrix in weights:
            z = values @ tf.constant(matrix)
            pre_activations.append(z)
            values = activation(z)
        loss = tf.reduce_sum(values)
    gradients = tape.gradient(loss, pre_activations)
    return float(np.abs(gradients[0].numpy()).mean() / np.abs(gradients[-1].numpy()).mean())


def tf_largest_derivative(tf, function):
    points = tf.constant(np.linspace(-6.0, 6.0, 241))
    with tf.GradientTape() as tape:
        tape.watch(points)
        values = function(points)
    return float(tape.gradient(values, points).numpy().max())


def test_the_right_tanh_answer_passes_rounded_to_two_figures(run_check, tf):
    ratio = tf_gradient_ratio(tf, DIGITS, WEIGHTS, tf.math.tanh)
    largest = tf_largest_derivative(tf, tf.math.tanh)
    passed, text = run_check(exercises.check_activations_tanh, (largest, "yes", ratio), DIGITS, WEIGHTS)
    assert passed is True and text == "check_activations_tanh: right. Well done!\n"
    rounded = float(f"{ratio:.2g}")
    assert run_check(exercises.check_activations_tanh, (round(largest), " Yes", rounded), DIGITS, WEIGHTS)[0] is True
    passed, text = run_check(exercises.check_activations_tanh, (1, "yes", 1.1 * ratio), DIGITS, WEIGHTS)
    assert passed is False and after_answer(text, TANH_PARTS[2]).startswith("    Hint:"), text
    assert f"{ratio:.2g}" not in after_answer(text, TANH_PARTS[2]) and f"{ratio:.3g}" not in text


TANH_PARTS = ["the largest derivative of tanh", "whether tanh saturates", "the tanh network's layer 1 / layer 10"]


def tanh_mistakes(tf):
    return [
        (0, tf_largest_derivative(tf, tf.math.sigmoid), "the sigmoid's largest derivative"),
        (0, 2 * tf_largest_derivative(tf, tf.math.sigmoid), "the chain rule's inner factor is missing"),
        (1, "no", "does not stop saturation"),
        (2, tf_gradient_ratio(tf, DIGITS, WEIGHTS, tf.math.sigmoid), "the sigmoid network's ratio"),
        (2, tf_gradient_ratio(tf, DIGITS, WEIGHTS, tf.nn.relu), "the ReLU network's ratio"),
        (2, 1.0 / tf_gradient_ratio(tf, DIGITS, WEIGHTS, tf.math.tanh), "the ratio is upside down"),
    ]


def named_in_its_part(run_check, check, right, position, wrong, words, labels, *data):
    """Assert that ``right`` with part ``position`` replaced by ``wrong`` fails in that part alone, as the known
    mistake whose explanation holds ``words``; return the verdict and its sentence on that part (after the
    student's value)."""
    answer = list(right)
    answer[position] = wrong
    passed, text = run_check(check, tuple(answer), *data)
    assert passed is False, words
    sentence = after_answer(text, labels[position])
    assert "known mistake: " in sentence and words in sentence and text.count("not yet") == 2, text
    return text, sentence


def apart(values):
    """True if the numbers differ pairwise by more than the checks' tolerance for ratios."""
    return all(abs(a - b) > chapter06.RATIO_RTOL * max(abs(a), abs(b)) for i, a in enumerate(values) for b in values[i + 1:])


def test_each_tanh_mistake_is_named_without_the_right_value(run_check, tf):
    right = [tf_largest_derivative(tf, tf.math.tanh), "yes", tf_gradient_ratio(tf, DIGITS, WEIGHTS, tf.math.tanh)]
    assert apart([right[2]] + [wrong for position, wrong, _ in tanh_mistakes(tf) if position == 2])
    for position, wrong, words in tanh_mistakes(tf):
        text, sentence = named_in_its_part(run_check, exercises.check_activations_tanh, right, position, wrong, words,
                                           TANH_PARTS, DIGITS, WEIGHTS)
        if position == 2:
            assert f"{right[2]:.2g}" not in sentence and f"{right[2]:.3g}" not in text


def test_tanh_no_answer_and_bad_arguments(run_check):
    passed, text = run_check(exercises.check_activations_tanh, None, DIGITS, WEIGHTS)
    assert passed is False and 'no answer yet. Replace None with a tuple (largest derivative of tanh, "yes" or "no"' in text
    passed, text = run_check(exercises.check_activations_tanh, (1, True, 2.0), DIGITS, WEIGHTS)
    assert passed is False and 'The answer is a word: whether tanh saturates, "yes" or "no".' in text
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(12, D_out\)"):
        exercises.check_activations_tanh(None, DIGITS, [WEIGHTS[0], WEIGHTS[0]])
    with pytest.raises(TypeError, match="weights must be a list of weight matrices"):
        exercises.check_activations_tanh(None, DIGITS, WEIGHTS[0])
    with pytest.raises(ValueError, match=r"digits must have shape \(N, D_in\)"):
        exercises.check_activations_tanh(None, DIGITS.ravel(), WEIGHTS)


SCALE_PARTS = ["the ReLU network's layer 1 / layer 10", "the sigmoid network's layer 1 / layer 10"]


def scale_answer(tf, weights):
    smaller = [matrix / np.sqrt(2.0) for matrix in weights]
    return [tf_gradient_ratio(tf, DIGITS, smaller, tf.nn.relu), tf_gradient_ratio(tf, DIGITS, smaller, tf.math.sigmoid)]


def test_the_right_scale_answer_passes_rounded_to_two_figures(run_check, tf):
    answer = scale_answer(tf, WEIGHTS)
    passed, text = run_check(exercises.check_activations_scale, tuple(answer), DIGITS, WEIGHTS)
    assert passed is True and text == "check_activations_scale: right. Well done!\n"
    rounded = tuple(float(f"{value:.2g}") for value in answer)
    assert run_check(exercises.check_activations_scale, rounded, DIGITS, WEIGHTS)[0] is True
    # Redrawn with the same generator and the smaller standard deviation, the weights are the same draws.
    rng = np.random.default_rng(SEED)
    rng.random(size=(16, 30))
    redrawn = [rng.normal(scale=np.sqrt(1.0 / SIZES[i]), size=(SIZES[i], SIZES[i + 1])) for i in range(len(SIZES) - 1)]
    assert np.isclose(tf_gradient_ratio(tf, DIGITS, redrawn, tf.nn.relu), answer[0], rtol=1e-9)


def test_each_scale_mistake_is_named_without_the_right_value(run_check, tf):
    right = scale_answer(tf, WEIGHTS)
    halved = [matrix / 2.0 for matrix in WEIGHTS]
    activations = [tf.nn.relu, tf.math.sigmoid]
    mistakes = []
    for position, activation in enumerate(activations):
        mistakes += [
            (position, tf_gradient_ratio(tf, DIGITS, WEIGHTS, activation), "the ratio with the chapter's weights"),
            (position, tf_gradient_ratio(tf, DIGITS, halved, activation), "the weights look halved"),
            (position, right[1 - position], "network's ratio: the answer is (ReLU ratio, sigmoid ratio)"),
            (position, 1.0 / right[position], "the ratio is upside down"),
        ]
    for position in (0, 1):
        assert apart([right[position]] + [wrong for at, wrong, _ in mistakes if at == position])
    for position, wrong, words in mistakes:
        text, sentence = named_in_its_part(run_check, exercises.check_activations_scale, right, position, wrong, words,
                                           SCALE_PARTS, DIGITS, WEIGHTS)
        assert f"{right[position]:.2g}" not in sentence and f"{right[position]:.3g}" not in text
    passed, text = run_check(exercises.check_activations_scale, tuple(right[::-1]), DIGITS, WEIGHTS)
    assert "that is the sigmoid network's ratio" in text


def test_scale_no_answer_and_an_unrelated_wrong_answer(run_check, tf):
    passed, text = run_check(exercises.check_activations_scale, None, DIGITS, WEIGHTS)
    assert passed is False and "no answer yet. Replace None with a tuple (ReLU ratio, sigmoid ratio)" in text
    right = scale_answer(tf, WEIGHTS)
    passed, text = run_check(exercises.check_activations_scale, (right[0], 0.05), DIGITS, WEIGHTS)
    assert passed is False and text.startswith(f"check_activations_scale: not yet. Right: {SCALE_PARTS[0]}.\n")
    assert after_answer(text, SCALE_PARTS[1]).startswith("    Hint:") and "known mistake" not in text
    passed, text = run_check(exercises.check_activations_scale, 0.1, DIGITS, WEIGHTS)
    assert passed is False and "The answer is 2 values in a tuple" in text
