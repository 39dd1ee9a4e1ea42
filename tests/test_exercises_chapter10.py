"""The checks of the chapter "MNIST: from one Dense layer to a CNN": right answers pass, each named mistake is recognised."""

import numpy as np
import pytest

from cnn_course import mnist_models, quiet_tensorflow
from cnn_course.exercises import chapter10

tf, keras = quiet_tensorflow.import_tensorflow()


def run(capsys, check, *arguments):
    passed = check(*arguments)
    return passed, capsys.readouterr().out


# --- check_mnist_seeds ---------------------------------------------------------------------------

# The accuracies the solution states for seeds 42, 1 and 2.
SOLUTION_ACCURACIES = {42: 0.9937, 1: 0.9942, 2: 0.9936}


@pytest.mark.parametrize("accuracies", [SOLUTION_ACCURACIES, {42: np.float32(0.9933), 7: 0.995, 8: 0.9929, 9: 0.994}])
def test_seeds_plausible_accuracies_pass(capsys, accuracies):
    passed, text = run(capsys, chapter10.check_mnist_seeds, accuracies)
    assert passed is True and text == "check_mnist_seeds: right. Well done!\n"


def test_seeds_no_answer_yet(capsys):
    passed, text = run(capsys, chapter10.check_mnist_seeds, None)
    assert passed is False and "no answer yet" in text and "a dict from seed to test accuracy" in text


@pytest.mark.parametrize(
    "accuracies, words",
    [
        ({42: 0.9937, 1: [0.021, 0.9942], 2: 0.9936}, "evaluate returns [loss, accuracy]; keep the second"),
        ({42: 99.37, 1: 99.42, 2: 99.36}, "is a percentage"),
        ({42: 0.9937, 1: 0.0213, 2: 0.9936}, "it may be the loss"),
        ({42: 0.9937, 1: 0.098, 2: 0.9936}, "not trained guesses"),
    ],
)
def test_seeds_each_known_mistake_is_named(capsys, accuracies, words):
    passed, text = run(capsys, chapter10.check_mnist_seeds, accuracies)
    assert passed is False and "known mistake: " in text and words in text, text


@pytest.mark.parametrize(
    "accuracies, words",
    [
        ([0.9937, 0.9942, 0.9936], "the answer is a dict from seed to test accuracy"),
        ({1: 0.9942, 2: 0.9936, 3: 0.994}, "seed 42 is missing"),
        ({42: 0.9937, 1: 0.9942}, "train the CNN with two seeds besides 42"),
        ({42: 0.9937, 1: "0.9942", 2: 0.9936}, "must be a number"),
        ({42: 0.9937, 1: -0.5, 2: 0.9936}, "is not an accuracy"),
        ({42: 0.9937, 1: 0.986, 2: 0.9936}, "below 99%"),
    ],
)
def test_seeds_other_wrong_answers_fail_with_a_reason(capsys, accuracies, words):
    passed, text = run(capsys, chapter10.check_mnist_seeds, accuracies)
    assert passed is False and words in text, text


# --- check_mnist_parameters ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cnn():
    return mnist_models.build_cnn()


def by_hand(network, bias=True, input_channels=True, skip_last_pooling=False):
    """The count written out layer by layer from the shapes Keras reports (not with the check's helper)."""
    total, conv_output = 0, None
    for layer in network.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            total += kh * kw * (c_in if input_channels else 1) * c_out + (c_out if bias else 0)
            conv_output = int(np.prod(layer.output.shape[1:]))
        elif isinstance(layer, keras.layers.Dense):
            inputs, units = layer.kernel.shape
            if skip_last_pooling and conv_output is not None:
                inputs, conv_output = conv_output, None
            total += inputs * units + (units if bias else 0)
    return total


def test_parameters_the_right_answer_passes_and_is_keras_count(capsys, cnn):
    assert by_hand(cnn) == cnn.count_params()
    largest = max(cnn.layers, key=lambda layer: layer.count_params()).name
    passed, text = run(capsys, chapter10.check_mnist_parameters, (cnn.count_params(), largest), cnn)
    assert passed is True and text == "check_mnist_parameters: right. Well done!\n"
    # The name is a word: case and spaces do not matter.
    assert chapter10.check_mnist_parameters((cnn.count_params(), f"  {largest.upper()} "), cnn)
    capsys.readouterr()


def test_parameters_the_solution_texts_sum_passes(capsys, cnn):
    solution = (5 * 5 * 1 * 32 + 32) + (5 * 5 * 32 * 64 + 64) + (4 * 4 * 64 * 128 + 128) + (128 * 10 + 10)
    assert chapter10.check_mnist_parameters((solution, "hidden"), cnn)
    capsys.readouterr()


def test_parameters_no_answer_yet(capsys, cnn):
    passed, text = run(capsys, chapter10.check_mnist_parameters, None, cnn)
    assert passed is False and "no answer yet" in text


@pytest.mark.parametrize(
    "mistake, words",
    [
        ({"bias": False}, "the biases are left out"),
        ({"input_channels": False}, "input channels are left out"),
        ({"skip_last_pooling": True}, "counted from the last convolution's maps"),
    ],
)
def test_parameters_each_wrong_count_is_named_without_the_answer(capsys, cnn, mistake, words):
    wrong = by_hand(cnn, **mistake)
    assert wrong != cnn.count_params()
    passed, text = run(capsys, chapter10.check_mnist_parameters, (wrong, "hidden"), cnn)
    assert passed is False and "known mistake: " in text and words in text, text
    assert str(cnn.count_params()) not in text and f"{cnn.count_params():,}" not in text


def test_parameters_the_busiest_layer_is_not_the_largest(capsys, cnn):
    passed, text = run(capsys, chapter10.check_mnist_parameters, (cnn.count_params(), "conv2"), cnn)
    assert passed is False and "known mistake: " in text and "the most multiplications" in text
    assert "hidden" not in text


def test_parameters_unrelated_wrong_answers_fail(capsys, cnn):
    passed, text = run(capsys, chapter10.check_mnist_parameters, (12345, "hidden"), cnn)
    assert passed is False and "which is not it" in text and "Hint: for each Conv2D" in text
    passed, text = run(capsys, chapter10.check_mnist_parameters, cnn.count_params(), cnn)
    assert passed is False and "2 values in a tuple" in text


def test_parameters_are_computed_from_the_model_given(capsys):
    wider = mnist_models.build_cnn(hidden_units=64)
    largest = max(wider.layers, key=lambda layer: layer.count_params()).name
    assert chapter10.check_mnist_parameters((wider.count_params(), largest), wider)
    assert not chapter10.check_mnist_parameters((by_hand(wider, bias=False), largest), wider)
    assert "the biases are left out" in capsys.readouterr().out


def test_parameters_a_network_that_is_not_a_keras_model_is_refused():
    with pytest.raises(TypeError, match="network must be a built Keras model"):
        chapter10.check_mnist_parameters((1, "hidden"), np.zeros(3))


# --- check_mnist_shift ---------------------------------------------------------------------------


def student_shift_right(images, pixels):
    shifted = np.zeros_like(images)
    shifted[:, :, pixels:] = images[:, :, : images.shape[2] - pixels]
    return shifted


def test_shift_a_right_function_passes(capsys):
    passed, text = run(capsys, chapter10.check_mnist_shift, student_shift_right)
    assert passed is True and text == "check_mnist_shift: all 3 cases pass. Well done!\n"


def test_shift_the_reference_moves_a_digit_right():
    images = np.arange(1.0, 13.0).reshape(1, 3, 4)
    shifted = chapter10._shift_right(images, 1)
    assert np.array_equal(shifted[:, :, 1:], images[:, :, :3]) and not shifted[:, :, 0].any()


def test_shift_an_unfinished_function_is_told_its_missing_return(capsys):
    passed, text = run(capsys, chapter10.check_mnist_shift, lambda images, pixels: None)
    assert passed is False and "returned None" in text


SHIFT_MISTAKES = [
    (lambda images, pixels: student_shift_right(images[:, :, ::-1], pixels)[:, :, ::-1], "move to the left"),
    (lambda images, pixels: np.roll(images, pixels, axis=-1), "np.roll"),
    (lambda images, pixels: student_shift_right(images.transpose(0, 2, 1), pixels).transpose(0, 2, 1), "the digits move down"),
    (lambda images, pixels: np.concatenate([np.zeros(images.shape[:2] + (pixels,)), images], axis=2), "the images got wider"),
    (lambda images, pixels: images.copy(), "nothing moved"),
]


@pytest.mark.parametrize("function, words", SHIFT_MISTAKES, ids=[words for _, words in SHIFT_MISTAKES])
def test_shift_each_mistake_is_named(capsys, function, words):
    passed, text = run(capsys, chapter10.check_mnist_shift, function)
    assert passed is False and "known mistake: " in text and words in text, text


def test_shift_an_unrelated_wrong_function_fails_unnamed(capsys):
    passed, text = run(capsys, chapter10.check_mnist_shift, lambda images, pixels: student_shift_right(images, pixels + 1))
    assert passed is False and "case 1 of 3 fails" in text and "known mistake" not in text
