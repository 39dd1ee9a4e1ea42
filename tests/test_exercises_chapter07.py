"""The answer checks of chapter 7: right answers pass, each known mistake is named, the answer is never shown."""

import math

import numpy as np
import pytest

from cnn_course import exercises, losses, ops


# --- the exercises' data, as the chapter states it -----------------------------------------------

FEATURE_SHAPE, UNITS = (7, 7, 64), 128
X_HAND = np.array([1.0, 2.0])
W_HAND = np.array([[1.0, -1.0, 0.0], [0.5, 1.0, 0.0]])
B_HAND = np.array([0.0, -1.0, 0.0])
LOGITS = np.array([1.2, -0.8, 3.1, 0.4, -2.0, 0.0, 2.2, -1.1, 0.7, -0.3])
TEMPERATURES = (0.01, 1000)
MASKS, RATE = 2000, 0.5


def a_digit():
    """A stand-in for an MNIST digit: a 28 x 28 float32 image, 0 around a blob of about 170 values in (0, 1]."""
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[:28, :28]
    blob = ((rows - 14) ** 2 / 64 + (columns - 13) ** 2 / 30) < 1
    return np.where(blob, rng.integers(1, 256, size=(28, 28)), 0).astype("float32") / 255.0


DIGIT = a_digit()


def dropout_average(digit=DIGIT, masks=MASKS, rate=RATE, seed=4):
    rng = np.random.default_rng(seed)
    return np.mean([ops.dropout(digit, rate, training=True, rng=rng) for _ in range(masks)], axis=0)


def part_verdict(text, part):
    """The verdict's line on ``part`` and what follows, asserting the line is there and the parts after it are not judged."""
    assert f"\n  {part}: not yet. You answered " in text, text
    rest = text.split(f"\n  {part}: not yet. You answered ", 1)[1]
    assert text.count(": not yet.") <= 2, text  # the verdict and this part: the parts are judged in order
    return rest


def by_hand_answer(parameters=None, logits=None, probabilities=None, loss=None):
    """The solution's answer, rounded as by hand, with any part replaced."""
    right = (9, [2, 0, 0], [0.787, 0.107, 0.107], 0.240)
    given = (parameters, logits, probabilities, loss)
    return tuple(right[i] if given[i] is None else given[i] for i in range(4))


# --- check_dense_parameters -----------------------------------------------------------------------


@pytest.fixture
def parameters_verdict(run_check):
    """The verdict of check_dense_parameters on an answer for the exercise's layer."""
    return lambda answer: run_check(exercises.check_dense_parameters, answer, FEATURE_SHAPE, UNITS)


def test_dense_parameters_right_answer_passes(parameters_verdict):
    flat = math.prod(FEATURE_SHAPE)
    for answer in (flat * UNITS + UNITS, float(flat * UNITS + UNITS), np.int64(flat * UNITS + UNITS)):
        passed, text = parameters_verdict(answer)
        assert passed is True and text == "check_dense_parameters: right. Well done!\n"


def test_dense_parameters_without_answer(parameters_verdict):
    passed, text = parameters_verdict(None)
    assert passed is False and "no answer yet. Replace None with the number of parameters" in text


@pytest.mark.parametrize("answer, words", [
    (7 * 7 * 64 * 128, "the biases are missing"),
    (7 * 7 * 128 + 128, "the channels are missing"),
    (7 * 7 * 64, "that is the length of the flattened vector"),
    (7 * 7 * 64 + 1, "that is the count of one unit"),
    (7 * 7 * 64 + 128, "the sizes are added"),
])
def test_dense_parameters_mistakes_are_named(parameters_verdict, answer, words):
    passed, text = parameters_verdict(answer)
    assert passed is False and "known mistake: " + words in text, text
    assert "401536" not in text and "401,536" not in text  # the right count is never shown


def test_dense_parameters_unknown_wrong_answer_gets_the_hint(parameters_verdict):
    passed, text = parameters_verdict(400_000)
    assert passed is False and "which is not it" in text and "Hint: flatten first" in text
    assert "401536" not in text


def test_dense_parameters_other_shapes_follow_the_layers(run_check):
    passed, _ = run_check(exercises.check_dense_parameters, 5 * 5 * 16 * 10 + 10, (5, 5, 16), 10)
    assert passed is True


@pytest.mark.parametrize("input_shape, units, error, words", [
    ((7, 64), 128, ValueError, "input_shape must be the (H, W, C) shape"),
    ((7, 7, 0), 128, ValueError, "input_shape"),
    ((7, 7, 64), 1.5, TypeError, "units must be an int"),
    ((7, 7, 64), 0, ValueError, "units must be at least 1"),
])
def test_dense_parameters_refuses_bad_data(input_shape, units, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        exercises.check_dense_parameters(1, input_shape, units)


# --- check_dense_by_hand --------------------------------------------------------------------------


@pytest.fixture
def by_hand_verdict(run_check):
    """The verdict of check_dense_by_hand on an answer for the exercise's layer."""
    return lambda answer, true_class=0: run_check(exercises.check_dense_by_hand, answer, X_HAND, W_HAND, B_HAND, true_class)


def test_dense_by_hand_right_answer_passes_rounded_or_exact(by_hand_verdict):
    logits = ops.dense(X_HAND[np.newaxis], W_HAND, B_HAND)
    probabilities = ops.softmax(logits)
    exact = (W_HAND.size + B_HAND.size, logits, probabilities, losses.cross_entropy(probabilities, [0]))
    for answer in (by_hand_answer(), exact, list(by_hand_answer()), by_hand_answer(probabilities=[0.79, 0.11, 0.11], loss=0.24)):
        passed, text = by_hand_verdict(answer)
        assert passed is True and text == "check_dense_by_hand: right. Well done!\n", text


def test_dense_by_hand_without_answer(by_hand_verdict):
    passed, text = by_hand_verdict(None)
    assert passed is False and "no answer yet. Replace None with (parameters, z, softmax, loss)" in text


@pytest.mark.parametrize("answer, part, words", [
    (by_hand_answer(parameters=6), "the parameter count", "the biases are missing"),
    (by_hand_answer(parameters=8), "the parameter count", "one bias per *output*"),
    (by_hand_answer(parameters=5), "the parameter count", "the sizes are added"),
    (by_hand_answer(logits=[2, 1, 0]), "the logits", "the bias is missing"),
    (by_hand_answer(logits=[1, -2, 0]), "the logits", "only the first input is counted"),
    (by_hand_answer(probabilities=[1, 0, 0]), "the softmax", "e^0 = 1"),
    (by_hand_answer(probabilities=[0.881, 0.5, 0.5]), "the softmax", "separate sigmoids"),
    (by_hand_answer(probabilities=[7.389, 1, 1]), "the softmax", "not yet divided by their sum"),
    (by_hand_answer(loss=0.104), "the loss", "the base-10 logarithm"),
    (by_hand_answer(loss=-0.240), "the loss", "the sign is missing"),
    (by_hand_answer(loss=0.213), "the loss", "that is 1 - p"),
    (by_hand_answer(loss=2.240), "the loss", "the probability of class 1"),
])
def test_dense_by_hand_mistakes_are_named_in_their_part(by_hand_verdict, answer, part, words):
    passed, text = by_hand_verdict(answer)
    assert passed is False
    sentence = part_verdict(text, part).split("\n", 1)[1]
    assert sentence.startswith("    This looks like a known mistake: ") and words in sentence, text


def test_dense_by_hand_says_which_parts_are_right_so_far(by_hand_verdict):
    _, text = by_hand_verdict(by_hand_answer(loss=0.5))
    assert text.startswith("check_dense_by_hand: not yet. Right: the parameter count, the logits, the softmax.\n")
    assert part_verdict(text, "the loss").startswith("0.5, which is not it.\n    Hint:"), text


def test_dense_by_hand_never_shows_the_right_values(by_hand_verdict):
    passed, text = by_hand_verdict((7, [1, 1, 1], [0.2, 0.3, 0.5], 1.0))
    assert passed is False and "\n    Hint:" in part_verdict(text, "the parameter count")
    assert "The parts after this one are checked once it is right." in text
    for right in ("9", "0.787", "0.107", "0.24", "2, 0, 0"):
        assert right not in text, right


@pytest.mark.parametrize("answer, words", [
    ((9, [2, 0, 0], [0.787, 0.107, 0.107]), "The answer is 4 values in a tuple"),
    (9, "The answer is 4 values in a tuple"),
    (by_hand_answer(logits=[2, 0]), "The answer has shape (3,), yours has shape (2,): the logits z, 3 numbers in a list"),
    (by_hand_answer(loss="0.24"), "The answer is one number, not a word: the loss"),
])
def test_dense_by_hand_answers_of_the_wrong_form_are_told_the_form(by_hand_verdict, answer, words):
    passed, text = by_hand_verdict(answer)
    assert passed is False and words in text, text


def test_dense_by_hand_another_true_class(by_hand_verdict):
    probabilities = ops.softmax(ops.dense(X_HAND[np.newaxis], W_HAND, B_HAND))
    loss = losses.cross_entropy(probabilities, [2])
    assert by_hand_verdict(by_hand_answer(loss=loss), true_class=2)[0] is True
    passed, text = by_hand_verdict(by_hand_answer(), true_class=2)  # the loss of class 0 given
    assert passed is False and "the probability of class 0" in text


@pytest.mark.parametrize("arguments, error, words", [
    ((np.ones((2, 2)), W_HAND, B_HAND, 0), ValueError, r"x must be one input, of shape \(D_in,\) or \(1, D_in\), got shape \(2, 2\)"),
    ((X_HAND, W_HAND.T, B_HAND, 0), ValueError, r"weights must have shape \(D_in, D_out\) = \(2, D_out\), got shape \(3, 2\)"),
    ((X_HAND, W_HAND, B_HAND[:2], 0), ValueError, r"bias must have shape \(D_out,\) = \(3,\), got shape \(2,\)"),
    ((X_HAND, W_HAND, B_HAND, 3), ValueError, r"true_class must be in 0 .. 2"),
    ((X_HAND, W_HAND, B_HAND, 0.0), TypeError, r"true_class must be an int"),
    (("x", W_HAND, B_HAND, 0), TypeError, r"x must be a numeric array"),
])
def test_dense_by_hand_refuses_bad_data(arguments, error, words):
    with pytest.raises(error, match=words):
        exercises.check_dense_by_hand(by_hand_answer(), *arguments)


# --- check_dense_two_classes (a function) ---------------------------------------------------------


@pytest.fixture
def function_verdict(run_check):
    """The verdict of check_dense_two_classes on a function."""
    return lambda function: run_check(exercises.check_dense_two_classes, function)


@pytest.mark.parametrize("function", [
    lambda a, b: a - b,
    lambda a, b: np.log(np.exp(a) / np.exp(b)),
    lambda first, second: -(second - first),  # any parameter names: the arguments go by position
])
def test_dense_two_classes_right_functions_pass(function_verdict, function):
    passed, text = function_verdict(function)
    assert passed is True and text == "check_dense_two_classes: all 5 cases pass. Well done!\n"


@pytest.mark.parametrize("function, words", [
    (lambda a, b: b - a, "a and b are the wrong way round"),
    (lambda a, b: np.exp(a) / (np.exp(a) + np.exp(b)), "this is the probability softmax([a, b])[0] itself"),
    (lambda a, b: np.exp(a - b), "z has an exponential too many"),
    (lambda a, b: a, "b is missing"),
])
def test_dense_two_classes_mistakes_are_named(function_verdict, function, words):
    passed, text = function_verdict(function)
    assert passed is False and "known mistake: " + words in text, text


def test_dense_two_classes_unknown_mistake_and_missing_return(function_verdict):
    passed, text = function_verdict(lambda a, b: a * b)
    assert passed is False and "received" in text and "known mistake" not in text
    passed, text = function_verdict(lambda a, b: None)
    assert passed is False and "case 1 of 5 fails" in text and "is a `return` missing?" in text


def test_dense_two_classes_takes_arrays_too(function_verdict):
    # Case 4 holds arrays: a function that only works on floats fails there.
    passed, text = function_verdict(lambda a, b: float(a) - float(b))
    assert passed is False and "case 4 of 5 fails" in text and "raised TypeError" in text


# --- check_dense_dropout_average ------------------------------------------------------------------


@pytest.fixture
def average_verdict(run_check):
    """The verdict of check_dense_dropout_average on an answer for the exercise's digit."""
    return lambda answer, digit=DIGIT, masks=MASKS, rate=RATE: run_check(
        exercises.check_dense_dropout_average, answer, digit, masks, rate)


@pytest.mark.parametrize("seed", range(10))
def test_dense_dropout_average_right_answers_pass_for_any_seed(average_verdict, seed):
    average = dropout_average(seed=seed)
    passed, text = average_verdict((average, np.abs(average - DIGIT).max()))
    assert passed is True and text == "check_dense_dropout_average: right. Well done!\n", text


def test_dense_dropout_average_accepts_a_rounded_difference_and_float64(average_verdict):
    average = dropout_average().astype("float64")
    rounded = round(float(np.abs(average - DIGIT).max()), 2)
    assert average_verdict([average, rounded])[0] is True


def test_dense_dropout_average_without_answer(average_verdict):
    passed, text = average_verdict(None)
    assert passed is False and "no answer yet. Replace None with (average, largest_difference)" in text


def test_dense_dropout_average_mistakes_are_named(average_verdict):
    rng = np.random.default_rng(5)
    unscaled = np.mean([DIGIT * (rng.random(DIGIT.shape) >= RATE) for _ in range(MASKS)], axis=0)
    one_mask = np.mean([ops.dropout(DIGIT, RATE, rng=np.random.default_rng(4)) for _ in range(MASKS)], axis=0)
    cases = [
        ((ops.dropout(DIGIT, RATE, training=False), 0.0), "the average is exactly the digit"),
        ((one_mask, np.abs(one_mask - DIGIT).max()), "all the masks are the same"),
        ((unscaled, np.abs(unscaled - DIGIT).max()), "were not divided by 1 - rate"),
    ]
    average = dropout_average()
    cases.append(((average, np.abs(average - DIGIT).mean()), "that is the mean difference over all pixels"))
    # The largest signed difference is a mistake only where the average undershoots the most: find such a seed.
    undershoots = next(a for a in map(lambda seed: dropout_average(seed=seed), range(20))
                       if np.abs(a - DIGIT).max() - (a - DIGIT).max() > 0.01)
    cases.append(((undershoots, (undershoots - DIGIT).max()), "without the absolute value"))
    for answer, words in cases:
        passed, text = average_verdict(answer)
        assert passed is False and "This looks like a known mistake: " in text and words in text, (words, text)


@pytest.mark.parametrize("masks, words", [(200, "farther from the digit than 2000 masks"), (20_000, "closer to the digit than 2000 masks")])
def test_dense_dropout_average_another_number_of_masks_fails(average_verdict, masks, words):
    average = dropout_average(masks=masks)
    passed, text = average_verdict((average, np.abs(average - DIGIT).max()))
    assert passed is False and words in text, text


def test_dense_dropout_average_wrong_shapes_and_noise(average_verdict):
    stack = np.array([ops.dropout(DIGIT, RATE, rng=np.random.default_rng(s)) for s in range(20)])
    passed, text = average_verdict((stack.mean(axis=1), 0.05))
    assert passed is False and "It must be an array of the digit's shape (28, 28), got (20, 28)" in text
    passed, text = average_verdict((DIGIT + 0.01, 0.01))
    assert passed is False and "Where the digit is 0 the average must be 0 too" in text
    passed, text = average_verdict(dropout_average())
    assert passed is False and "The answer is 2 values in a tuple" in text


def test_dense_dropout_average_never_shows_the_largest_difference(average_verdict):
    average = dropout_average()
    right = f"{np.abs(average - DIGIT).max():.2f}"
    passed, text = average_verdict((average, 0.9))
    assert passed is False and part_verdict(text, "the largest difference").startswith("0.9, which is not it.\n    Hint:")
    assert right not in text


@pytest.mark.parametrize("arguments, error, words", [
    ((np.zeros((28, 28)), MASKS, RATE), ValueError, "digit must have some nonzero values"),
    ((DIGIT, 2000.0, RATE), TypeError, "masks must be an int"),
    ((DIGIT, MASKS, 0.0), ValueError, r"rate must be in \(0, 1\)"),
    ((DIGIT, MASKS, 1.0), ValueError, r"rate must be a float in \[0, 1\)"),
])
def test_dense_dropout_average_refuses_bad_data(arguments, error, words):
    with pytest.raises(error, match=words):
        exercises.check_dense_dropout_average(None, *arguments)


# --- check_dense_temperature ----------------------------------------------------------------------


@pytest.fixture
def temperature_verdict(run_check):
    """The verdict of check_dense_temperature on an answer for the exercise's logits."""
    return lambda answer, true_class=4: run_check(exercises.check_dense_temperature, answer, LOGITS, TEMPERATURES, true_class)


def computed_losses(true_class=4):
    return [losses.cross_entropy(ops.softmax(LOGITS / t)[np.newaxis], [true_class]) for t in TEMPERATURES]


def test_dense_temperature_right_answers_pass(temperature_verdict):
    cold, hot = computed_losses()
    for answer in (("one-hot", 16.12, "uniform", 2.3026), (" One Hot", cold, "UNIFORM", hot), ["onehot", 16.118, "uniform", 2.30]):
        passed, text = temperature_verdict(answer)
        assert passed is True and text == "check_dense_temperature: right. Well done!\n", text


def test_dense_temperature_without_answer(temperature_verdict):
    passed, text = temperature_verdict(None)
    assert passed is False and 'a kind and a loss for T = 0.01, then for T = 1000; a kind is "one-hot"' in text


@pytest.mark.parametrize("answer, part, words", [
    (("uniform", 2.30, "one-hot", 16.12), "the distribution at T = 0.01", "*multiplied* by T"),
    (("unchanged", 16.12, "uniform", 2.30), "the distribution at T = 0.01", "a temperature keeps the order"),
    (("one-hot", 510.0, "uniform", 2.30), "the loss at T = 0.01", "-ln p[4] itself"),
    (("one-hot", 0.0, "uniform", 2.30), "the loss at T = 0.01", "the predicted one, class 2"),
    (("one-hot", 7.0, "uniform", 2.30), "the loss at T = 0.01", "the base-10 logarithm"),
    (("one-hot", -16.12, "uniform", 2.30), "the loss at T = 0.01", "the sign is missing"),
    (("one-hot", 2.33, "uniform", 2.30), "the loss at T = 0.01", "*multiplied* by T"),
    (("one-hot", 16.12, "one-hot", 16.12), "the distribution at T = 1000", "*multiplied* by T"),
    (("one-hot", 16.12, "unchanged", 2.30), "the distribution at T = 1000", "a temperature keeps the order"),
    (("one-hot", 16.12, "uniform", 16.12), "the loss at T = 1000", "*multiplied* by T"),
    (("one-hot", 16.12, "uniform", 1.0), "the loss at T = 1000", "the base-10 logarithm"),
    (("one-hot", 16.12, "uniform", -2.30), "the loss at T = 1000", "the sign is missing"),
])
def test_dense_temperature_mistakes_are_named_in_their_part(temperature_verdict, answer, part, words):
    passed, text = temperature_verdict(answer)
    assert passed is False
    sentence = part_verdict(text, part).split("\n", 1)[1]
    assert sentence.startswith("    This looks like a known mistake: ") and words in sentence, text


def test_dense_temperature_mistake_values_are_those_of_the_mistakes(temperature_verdict):
    # The uncapped loss and the predicted class's loss, computed here independently of the check.
    scaled = LOGITS / TEMPERATURES[0]
    log_sum_exp = scaled.max() + np.log(np.sum(np.exp(scaled - scaled.max())))
    uncapped = log_sum_exp - scaled[4]                                   # -ln softmax(scaled)[4], without a floor
    assert uncapped > -math.log(losses.PROBABILITY_FLOOR) + 100
    cold = ops.softmax(scaled)
    assert "-ln p[4] itself" in temperature_verdict(("one-hot", uncapped, "uniform", 2.30))[1]
    predicted = losses.cross_entropy(cold[np.newaxis], [int(cold.argmax())])
    assert "the predicted one" in temperature_verdict(("one-hot", predicted, "uniform", 2.30))[1]


def test_dense_temperature_never_shows_the_right_values(temperature_verdict):
    passed, text = temperature_verdict(("one-hot", 12.0, "uniform", 2.0))
    assert passed is False and part_verdict(text, "the loss at T = 0.01").startswith("12.0, which is not it.\n    Hint:")
    assert "16.1" not in text and "2.30" not in text


@pytest.mark.parametrize("answer, words", [
    (("one-hot", 16.12, "flat", 2.30), 'Hint: it is "one-hot", "uniform" or "unchanged": divide the logits by T'),
    (("one-hot", 16.12, "uniform"), "The answer is 4 values in a tuple"),
    ((1, 16.12, "uniform", 2.30), 'The answer is a word: the kind of distribution at T = 0.01, "one-hot", "uniform" or'),
    (("one-hot", "16.12", "uniform", 2.30), "The answer is one number, not a word: the loss at T = 0.01"),
])
def test_dense_temperature_answers_of_the_wrong_form_are_told_the_form(temperature_verdict, answer, words):
    passed, text = temperature_verdict(answer)
    assert passed is False and words in text, text


def test_dense_temperature_the_true_class_matters_only_when_cold(temperature_verdict):
    cold, hot = computed_losses(true_class=2)
    assert temperature_verdict(("one-hot", cold, "uniform", hot), true_class=2)[0] is True
    assert cold < 0.01 and abs(hot - math.log(10)) < 0.01


@pytest.mark.parametrize("logits, temperatures, true_class, error, words", [
    (LOGITS[np.newaxis], TEMPERATURES, 4, ValueError, r"logits must have shape \(K,\) with K >= 2, got shape \(1, 10\)"),
    (LOGITS, (0.01,), 4, ValueError, "temperatures must be two positive numbers"),
    (LOGITS, (0.01, -1.0), 4, ValueError, "temperatures must be two positive numbers"),
    (LOGITS, (2.0, 1000), 4, ValueError, "T = 2 gives neither"),
    (LOGITS, TEMPERATURES, 10, ValueError, r"true_class must be in 0 .. 9"),
])
def test_dense_temperature_refuses_bad_data(logits, temperatures, true_class, error, words):
    with pytest.raises(error, match=words):
        exercises.check_dense_temperature(None, logits, temperatures, true_class)
