"""The answer checks of the chapter "Putting it together": right answers pass, each known mistake is named.

The networks are built here as the chapter builds them (and in a smaller
variant, to show that nothing of the chapter's network is built into the
checks); every expected number is computed in the test, with the
output-size formula of ``convolution.conv_output_size`` or the recurrence
of the receptive field.
"""

import numpy as np
import pytest

from cnn_course import activations, convolution, exercises, layers, model


def build_network(padding="valid", first_stride=1, size=28, filters=(8, 16), units=10):
    """The chapter's network: two convolution, ReLU and max-pooling blocks, Flatten, Dense and Softmax."""
    stack = [
        layers.Conv2D(filters[0], 3, stride=first_stride, padding=padding),
        layers.ReLU(),
        layers.MaxPool2D(2),
        layers.Conv2D(filters[1], 3, padding=padding),
        layers.ReLU(),
        layers.MaxPool2D(2),
        layers.Flatten(),
        layers.Dense(units),
        layers.Softmax(),
    ]
    return model.Sequential(stack, input_shape=(size, size, 1), dtype="float64")


def flattened_size(padding="valid", first_stride=1, size=28, filters=(8, 16)):
    """The numbers that reach the dense layer, by the output-size formula layer by layer."""
    size = convolution.conv_output_size(size, 3, first_stride, padding)
    size = convolution.conv_output_size(size, 2, 2)
    size = convolution.conv_output_size(size, 3, 1, padding)
    size = convolution.conv_output_size(size, 2, 2)
    return size * size * filters[1]


def parameters(inputs, filters=(8, 16), units=10):
    """Weights and biases of the two 3 x 3 convolutions (one input channel) and the dense layer."""
    return (3 * 3 * 1 * filters[0] + filters[0]) + (3 * 3 * filters[0] * filters[1] + filters[1]) + (inputs * units + units)


# --- check_together_same --------------------------------------------------------------------------

SAME_VARIANTS = [{}, {"size": 20, "filters": (4, 6), "units": 3}]


@pytest.mark.parametrize("variant", SAME_VARIANTS, ids=["chapter", "smaller"])
def test_same_right_answer_passes(run_check, variant):
    same, valid = build_network("same", **variant), build_network(**variant)
    inputs = flattened_size("same", size=variant.get("size", 28), filters=variant.get("filters", (8, 16)))
    total = parameters(inputs, variant.get("filters", (8, 16)), variant.get("units", 10))
    run_check.right(exercises.check_together_same, (inputs, total, "dense1"), same, valid)
    run_check.right(exercises.check_together_same, [inputs, total, " Dense1"], same, valid)
    run_check.no_answer(exercises.check_together_same, same, valid)


@pytest.mark.parametrize("variant", SAME_VARIANTS, ids=["chapter", "smaller"])
def test_same_mistakes_are_named_without_the_answer(run_check, variant):
    size, filters, units = variant.get("size", 28), variant.get("filters", (8, 16)), variant.get("units", 10)
    same, valid = build_network("same", **variant), build_network(**variant)
    inputs = flattened_size("same", size=size, filters=filters)
    total = parameters(inputs, filters, units)
    last_conv = convolution.conv_output_size(size // 2, 3, 1, "same")
    wrong = [
        ((flattened_size(size=size, filters=filters), parameters(flattened_size(size=size, filters=filters), filters, units), "dense1"),
         'the network with "valid" padding'),
        ((size * size * filters[1], parameters(size * size * filters[1], filters, units), "dense1"),
         "keeps the size through the convolutions only"),
        ((last_conv * last_conv * filters[1], parameters(last_conv * last_conv * filters[1], filters, units), "dense1"),
         "that is the output of conv2"),
        ((inputs, total - units, "dense1"), f"the dense layer's {units} biases are missing"),
        ((inputs // filters[1], parameters(inputs // filters[1], filters, units), "dense1"), "Flatten passes every channel"),
        ((inputs, total, "conv1"), "a filter's weights do not depend on the size of the image"),
        ((inputs, total, "conv2"), "a filter's weights do not depend on the size of the image"),
    ]
    for answer, words in wrong:
        text = run_check.named(exercises.check_together_same, answer, words, same, valid)
        assert str(total) not in text or answer[1] == total


def test_same_unrelated_answer_gets_the_hint(run_check):
    passed, text = run_check(exercises.check_together_same, (784, 9099, "dense1"), build_network("same"), build_network())
    assert passed is False and "Hint: follow the height and width" in text


def test_same_refuses_networks_that_are_not_the_same_layers():
    with pytest.raises(ValueError, match="must differ in one layer's parameters"):
        exercises.check_together_same(None, build_network(), build_network())
    with pytest.raises(TypeError, match="same_network must be a model.Sequential"):
        exercises.check_together_same(None, "network", build_network())


# --- check_together_stride ------------------------------------------------------------------------


def test_stride_right_answer_passes(run_check):
    strided, network = build_network(first_stride=2), build_network()
    size = convolution.conv_output_size(28, 3, 2)
    run_check.right(exercises.check_together_stride, (size, flattened_size(first_stride=2)), strided, network)
    run_check.no_answer(exercises.check_together_stride, strided, network)


def test_stride_mistakes_are_named_without_the_answer(run_check):
    strided, network = build_network(first_stride=2), build_network()
    size, inputs = convolution.conv_output_size(28, 3, 2), flattened_size(first_stride=2)
    rounded_up = -(-(28 - 3) // 2) + 1
    after_pool = convolution.conv_output_size(rounded_up, 2, 2) - 2  # the second convolution, valid, 3 x 3
    everywhere_up = -(-(after_pool - 2) // 2) + 1
    pooled = convolution.conv_output_size(convolution.conv_output_size(size, 2, 2) - 2, 2, 2)
    wrong = [
        ((convolution.conv_output_size(28, 3, 1), flattened_size()), "the stride-1 network: with stride 2 the kernel jumps 2"),
        ((rounded_up, flattened_size(first_stride=2)), "the division is rounded up"),
        ((rounded_up, everywhere_up * everywhere_up * 16), "the division is rounded up"),
        (((28 - 3) // 2, inputs), "the + 1 is missing"),
        ((size, flattened_size()), "That is why set_weights refuses the old ones"),
        ((size, pooled * pooled), "Flatten passes every channel"),
    ]
    assert rounded_up != size and everywhere_up * everywhere_up * 16 != inputs
    for answer, words in wrong:
        text = run_check.named(exercises.check_together_stride, answer, words, strided, network)
        assert f"({size}, {inputs})" not in text


def test_stride_unrelated_answer_gets_the_hint(run_check):
    passed, text = run_check(exercises.check_together_stride, (13, 65), build_network(first_stride=2), build_network())
    assert passed is False and "Hint: use floor((n - k) / s) + 1" in text


# --- check_together_receptive_field ---------------------------------------------------------------


def field_and_jump(windows):
    r, j = 1, 1
    for k, s in windows:
        r, j = r + (k - 1) * j, j * s
    return r, j


STRIDED_WINDOWS = [(3, 2), (1, 1), (2, 2), (3, 1), (1, 1), (2, 2)]  # conv1 to max_pool2, ReLUs included


def test_receptive_field_right_answers_pass(run_check):
    field, jump = field_and_jump(STRIDED_WINDOWS)
    run_check.right(exercises.check_together_receptive_field, (field, jump, jump, jump + field - 1),
                 build_network(first_stride=2), "max_pool2", (1, 1))
    # The chapter's own network, cell (2, 2): rows 8 to 17, as the chapter prints.
    field, jump = field_and_jump([(3, 1), (1, 1), (2, 2), (3, 1), (1, 1), (2, 2)])
    run_check.right(exercises.check_together_receptive_field, (field, jump, 2 * jump, 2 * jump + field - 1),
                 build_network(), "max_pool2", (2, 2))
    run_check.no_answer(exercises.check_together_receptive_field, build_network(), "max_pool2", (2, 2))


def test_receptive_field_mistakes_are_named_without_the_answer(run_check):
    network = build_network(first_stride=2)
    field, jump = field_and_jump(STRIDED_WINDOWS)
    unstrided_field, unstrided_jump = field_and_jump([(3, 1)] + STRIDED_WINDOWS[1:])
    early_field = 1 + sum((k - 1) * int(np.prod([s for _, s in STRIDED_WINDOWS[: index + 1]]))
                          for index, (k, _) in enumerate(STRIDED_WINDOWS))
    plain_field = 1 + sum(k - 1 for k, _ in STRIDED_WINDOWS)
    wrong = [
        ((unstrided_field, unstrided_jump, unstrided_jump, unstrided_jump + unstrided_field - 1), "without the stride of conv1"),
        ((early_field, jump, jump, jump + early_field - 1), "the jump was updated before the field"),
        ((plain_field, jump, jump, jump + plain_field - 1), "the field grew by k - 1 at every layer"),
        ((field, jump, jump, jump + field), "the last row is one too far"),
        ((field, jump, field, 2 * field - 1), "one jump further, not one field further"),
    ]
    for answer, words in wrong:
        text = run_check.named(exercises.check_together_receptive_field, answer, words, network, "max_pool2", (1, 1))
        assert f"{jump + field - 1})" not in text or answer[-1] == jump + field - 1


def test_receptive_field_without_a_strided_convolution_skips_that_mistake(run_check):
    field, jump = field_and_jump([(3, 1), (1, 1), (2, 2), (3, 1), (1, 1), (2, 2)])
    answer = (field, jump, 2 * jump, 2 * jump + field)  # the chapter's network: the end of the slice as the last row
    run_check.named(exercises.check_together_receptive_field, answer, "one too far", build_network(), "max_pool2", (2, 2))


def test_receptive_field_refuses_an_unknown_layer():
    with pytest.raises(ValueError, match="layer must be one of the network's layers"):
        exercises.check_together_receptive_field(None, build_network(), "pool9", (0, 0))


# --- check_together_ranking -----------------------------------------------------------------------


@pytest.fixture
def scores():
    logits = np.random.default_rng(8).normal(size=(40, 5)) * 3
    return logits, activations.softmax(logits)


def test_ranking_right_answer_passes(run_check, scores):
    logits, probabilities = scores
    count = sum(1 for row_logits, row_probabilities in zip(logits, probabilities)
                if np.argmax(row_logits) == np.argmax(row_probabilities))
    run_check.right(exercises.check_together_ranking, (count, "increasing"), logits, probabilities)
    run_check.right(exercises.check_together_ranking, (np.int64(count), " Increasing"), logits, probabilities)
    run_check.no_answer(exercises.check_together_ranking, logits, probabilities)


def test_ranking_mistakes_are_named(run_check, scores):
    logits, probabilities = scores
    count = len(logits)
    wrong = [
        ((int(np.sum(logits.argmax(axis=0) == probabilities.argmax(axis=0))), "increasing"), "argmax over axis 0"),
        ((int(np.sum(logits.max(axis=1) == probabilities.max(axis=1))), "increasing"), "the largest values were compared"),
        ((int(logits.argmax() == probabilities.argmax()), "increasing"), "argmax without an axis"),
        ((count, "normalised"), "that alone does not keep an order"),
        ((count, "positive"), "says nothing about which one is largest"),
    ]
    for answer, words in wrong:
        text = run_check.named(exercises.check_together_ranking, answer, words, logits, probabilities)
        assert "'increasing')" not in text or answer[1] == "increasing"


def test_ranking_mistakes_that_give_the_same_count_are_both_named(run_check):
    # Softmax reorders the columns here, so argmax over axis 0 agrees nowhere, like the compared values.
    logits = np.array([[0.0, 1.0], [5.0, 7.0], [-1.0, 6.0]])
    probabilities = activations.softmax(logits)
    assert np.sum(logits.argmax(axis=0) == probabilities.argmax(axis=0)) == np.sum(logits.max(axis=1) == probabilities.max(axis=1)) == 0
    text = run_check.named(exercises.check_together_ranking, (0, "increasing"), "argmax over axis 0", logits, probabilities)
    assert "Or perhaps the largest values were compared" in text


def test_ranking_unrelated_answer_gets_the_hint(run_check, scores):
    logits, probabilities = scores
    passed, text = run_check(exercises.check_together_ranking, (len(logits), "exp"), logits, probabilities)
    assert passed is False and "Hint:" in text and '"increasing", "normalised" or "positive"' in text


def test_ranking_refuses_arrays_of_different_shapes(scores):
    logits, probabilities = scores
    with pytest.raises(ValueError, match=r"got \(40, 5\) and \(40, 4\)"):
        exercises.check_together_ranking(None, logits, probabilities[:, :4])
