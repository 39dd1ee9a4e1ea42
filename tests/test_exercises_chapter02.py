"""The answer checks of the chapter "Convolution": right answers pass, and each recognised mistake is named.

The expected answers and the wrong answers are computed here, with TensorFlow
(the parameter counts) or with the course's ``correlate2d``, never typed in.
"""

import math

import numpy as np
import pytest

from cnn_course import convolution, exercises, kernels, quiet_tensorflow

RIGHT = "right. Well done!"


@pytest.fixture(scope="module")
def digit():
    """A digit-like float32 image: a textured blob on a black 28 x 28 background, like an MNIST digit."""
    picture = np.zeros((28, 28), dtype=np.float32)
    picture[5:22, 7:21] = np.random.default_rng(4).random((17, 14))
    return picture


def one_hot(row, column):
    kernel = np.zeros((3, 3))
    kernel[row, column] = 1.0
    return kernel


# --- check_convolution_sizes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_sizes():
    """Keras's answers for a 5 x 5 kernel on 28 x 28 x 1 images, and the numbers of the mistakes."""
    _, keras = quiet_tensorflow.import_tensorflow()

    def layer(*arguments, **options):
        model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(16, *arguments, **options)])
        return model.layers[-1], model

    conv, model = layer(5)
    _, height, width, channels = model.output_shape
    _, same_model = layer(5, padding="same")
    _, row_model = layer((1, 5))
    return {
        "height": height,
        "width": width,
        "parameters": model.count_params(),
        "same": same_model.output_shape[1],
        "no_bias": math.prod(conv.kernel.shape),
        "row_kernel": row_model.count_params(),
        "activations": height * width * channels,
    }


def test_sizes_right_answer_passes(run_check, keras_sizes):
    answer = (keras_sizes["height"], keras_sizes["width"], keras_sizes["parameters"])
    assert run_check(exercises.check_convolution_sizes, answer) == (True, "check_convolution_sizes: " + RIGHT + "\n")
    assert run_check(exercises.check_convolution_sizes, list(answer))[0] is True


def test_sizes_without_an_answer_says_what_is_asked(run_check):
    passed, text = run_check(exercises.check_convolution_sizes, None)
    assert passed is False
    assert "no answer yet" in text and "(height, width, parameters)" in text


@pytest.mark.parametrize(
    "size, count, phrases",
    [
        ("short", "parameters", ["the output size is one short"]),
        ("same", "parameters", ["the output has the size of the image"]),
        ("height", "no_bias", ["leaves out the biases"]),
        ("height", "row_kernel", ["gives each kernel 5 weights"]),
        ("height", "activations", ["the number of output values"]),
        ("short", "no_bias", ["the output size is one short", "Also, the parameter count leaves out the biases"]),
        ("same", "activations", ["the size of the image", "Also, that parameter count is the number of output values"]),
    ],
)
def test_sizes_mistakes_are_named_alone_and_together(run_check, keras_sizes, size, count, phrases):
    sizes = dict(keras_sizes, short=keras_sizes["height"] - 1)
    answer = (sizes[size], sizes[size], sizes[count])
    passed, text = run_check(exercises.check_convolution_sizes, answer)
    assert passed is False
    assert "known mistake" in text
    for phrase in phrases:
        assert phrase in text
    # The right numbers are never shown (except where the answer itself has them right).
    if count != "parameters":
        assert str(keras_sizes["parameters"]) not in text
    if size != "height":
        assert str(keras_sizes["height"]) not in text


def test_sizes_unknown_answer_and_wrong_form(run_check, keras_sizes):
    passed, text = run_check(exercises.check_convolution_sizes, (3, 4, 5))
    assert passed is False and "which is not it" in text and "Hint:" in text
    assert str(keras_sizes["parameters"]) not in text
    passed, text = run_check(exercises.check_convolution_sizes, (keras_sizes["height"], keras_sizes["width"]))
    assert passed is False and "3 values in a tuple" in text


# --- check_convolution_by_hand -------------------------------------------------------------------

# The chapter's 5 x 5 example, on which two mistakes give the same wrong number and two give the right one.
CHAPTER_IMAGE = np.array([[1, 2, 0, 1, 3], [0, 1, 2, 3, 1], [1, 0, 1, 2, 2], [2, 1, 0, 1, 0], [0, 2, 1, 0, 1]])
CHAPTER_KERNEL = np.array([[1, 0, 2], [0, 1, 0], [-1, 0, 1]])


@pytest.fixture(scope="module")
def example():
    """A random example on which every mistake gives its own wrong number (asserted)."""
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(5, 5)).round(2), rng.normal(size=(3, 3)).round(1)
    output = convolution.correlate2d(image, kernel)
    answers = {
        "right": output[2, 1],
        "row and column are swapped": output[1, 2],
        "a negative weight was taken as positive": convolution.correlate2d(image, np.abs(kernel))[2, 1],
        "added without their weights": convolution.correlate2d(image, np.ones_like(kernel))[2, 1],
        "the kernel is flipped": convolution.correlate2d(image, kernel[::-1, ::-1])[2, 1],
        "centre was put on image[2, 1]": output[1, 0],
    }
    values = list(answers.values())
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 0.1
    return image, kernel, answers


def test_by_hand_right_answer_passes(run_check, example):
    image, kernel, answers = example
    assert run_check(exercises.check_convolution_by_hand, answers["right"], image, kernel) == (
        True, "check_convolution_by_hand: " + RIGHT + "\n")
    chapter_answer = convolution.correlate2d(CHAPTER_IMAGE, CHAPTER_KERNEL)[2, 1]
    assert run_check(exercises.check_convolution_by_hand, int(chapter_answer), CHAPTER_IMAGE, CHAPTER_KERNEL)[0] is True


def test_by_hand_without_an_answer(run_check, example):
    image, kernel, _ = example
    passed, text = run_check(exercises.check_convolution_by_hand, None, image, kernel)
    assert passed is False and "no answer yet" in text and "out[2, 1], a number" in text


@pytest.mark.parametrize("mistake", ["row and column are swapped", "a negative weight was taken as positive",
                                     "added without their weights", "the kernel is flipped",
                                     "centre was put on image[2, 1]"])
def test_by_hand_each_mistake_is_named_without_the_answer(run_check, example, mistake):
    image, kernel, answers = example
    passed, text = run_check(exercises.check_convolution_by_hand, float(answers[mistake]), image, kernel)
    assert passed is False
    assert "known mistake" in text and mistake in text
    assert "Or perhaps" not in text  # on this example every mistake has its own number
    assert f"{answers['right']:.2f}" not in text


def test_by_hand_two_mistakes_with_one_number_are_named_together(run_check):
    # On the chapter's example, out[1, 2] and the -1 read as +1 both give one number.
    output = convolution.correlate2d(CHAPTER_IMAGE, CHAPTER_KERNEL)
    swapped = output[1, 2]
    assert swapped == convolution.correlate2d(CHAPTER_IMAGE, np.abs(CHAPTER_KERNEL))[2, 1]
    passed, text = run_check(exercises.check_convolution_by_hand, swapped, CHAPTER_IMAGE, CHAPTER_KERNEL)
    assert passed is False
    assert "row and column are swapped" in text and "Or perhaps a negative weight was taken as positive" in text


def test_by_hand_unknown_answer_gets_the_hint(run_check, example):
    image, kernel, answers = example
    passed, text = run_check(exercises.check_convolution_by_hand, answers["right"] + 100, image, kernel)
    assert passed is False and "which is not it" in text and "Hint: find the window" in text


@pytest.mark.parametrize(
    "image, kernel, words",
    [
        (np.arange(5.0), np.ones((3, 3)), "image must have shape (H, W)"),
        (np.ones((5, 5)), np.ones(3), "kernel must have shape (kh, kw)"),
        (np.ones((4, 5)), np.ones((3, 3)), "at least 3 x 3"),
    ],
)
def test_by_hand_refuses_arrays_without_out_2_1(image, kernel, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        exercises.check_convolution_by_hand(1.0, image, kernel)


# --- check_convolution_blur ----------------------------------------------------------------------


def test_blur_right_kernel_passes(run_check, digit):
    # Right when it reproduces the mean of every window, computed here with NumPy.
    mean_kernel = np.full((3, 3), 1 / 9)
    windows = np.lib.stride_tricks.sliding_window_view(digit.astype(np.float64), (3, 3))
    np.testing.assert_allclose(convolution.correlate2d(digit.astype(np.float64), mean_kernel), windows.mean(axis=(2, 3)),
                               rtol=1e-12, atol=1e-12)
    assert run_check(exercises.check_convolution_blur, mean_kernel, digit) == (True, "check_convolution_blur: " + RIGHT + "\n")
    assert run_check(exercises.check_convolution_blur, mean_kernel.tolist(), digit)[0] is True


def test_blur_without_an_answer(run_check, digit):
    passed, text = run_check(exercises.check_convolution_blur, None, digit)
    assert passed is False and "no answer yet" in text and "a 3 x 3 kernel" in text


def ring():
    kernel = np.ones((3, 3))
    kernel[1, 1] = 0.0
    return kernel / kernel.sum()


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (np.ones((3, 3)), "known mistake: these weights give the sum of the window"),
        (np.ones((3, 3)) / 3, "known mistake: the weights are divided by 3"),
        (ring(), "known mistake: the centre is left out"),
        (np.full((3, 3), round(1 / 9, 3)), "known mistake: every output is 0.999 times the mean"),
        (np.full((3, 3), round(1 / 9, 2)), "known mistake: every output is 0.99 times the mean"),
        (np.eye(3) / 3, "the weights differ"),
        (np.full((3, 3), 0.5), "every output is 4.5 times the mean"),
        (np.full(9, 1 / 9), "it has shape (9,); the kernel must be a 3 x 3 array"),
    ],
)
def test_blur_mistakes_are_named_without_the_answer(run_check, digit, answer, phrase):
    passed, text = run_check(exercises.check_convolution_blur, answer, digit)
    assert passed is False
    assert phrase in text
    explanation = text.splitlines()[-1]  # the lines before it show the student's own answer
    assert "0.1111" not in explanation and "1 / 9" not in explanation and "1/9" not in explanation


def test_blur_unknown_kernel_fails(run_check, digit):
    passed, text = run_check(exercises.check_convolution_blur, np.random.default_rng(5).random((3, 3)), digit)
    assert passed is False and "not yet" in text


@pytest.mark.parametrize("bad, words", [(np.zeros((28, 28)), "must not be all zeros"),
                                        (np.ones(28), "digit must have shape (H, W)"),
                                        (np.ones((2, 28)), "H, W >= 3")])
def test_blur_and_shift_refuse_a_digit_they_cannot_use(bad, words):
    for check in (exercises.check_convolution_blur, exercises.check_convolution_shift):
        with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
            check(np.ones((3, 3)), bad)


# --- check_convolution_shift ---------------------------------------------------------------------


def test_shift_right_kernel_passes(run_check, digit):
    moving = one_hot(1, 2)
    np.testing.assert_array_equal(convolution.correlate2d(digit, moving), digit[1:27, 2:28])
    assert run_check(exercises.check_convolution_shift, moving, digit) == (True, "check_convolution_shift: " + RIGHT + "\n")
    assert run_check(exercises.check_convolution_shift, moving.astype(int).tolist(), digit)[0] is True


def test_shift_without_an_answer(run_check, digit):
    passed, text = run_check(exercises.check_convolution_shift, None, digit)
    assert passed is False and "no answer yet" in text


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (one_hot(1, 2)[::-1, ::-1], "known mistake: the 1 is at the mirror image of its place"),
        (one_hot(1, 2).T, "known mistake: row and column are swapped"),
        (one_hot(1, 1), "known mistake: a 1 in the centre copies the pixel under the kernel's centre"),
        (one_hot(0, 1), "known mistake: the 1 is placed by its offset from the kernel's centre"),
        (np.zeros((3, 3)), "every weight is 0"),
        (2 * one_hot(1, 2), "copying a pixel unchanged needs weight 1"),
        (one_hot(1, 2) + one_hot(0, 0), "mixes several pixels"),
        (one_hot(2, 2), "copies one pixel of the window, but not the one asked for"),
        (np.ones((2, 2)), "it has shape (2, 2)"),
    ],
)
def test_shift_mistakes_are_named_without_the_answer(run_check, digit, answer, phrase):
    passed, text = run_check(exercises.check_convolution_shift, answer, digit)
    assert passed is False
    assert phrase in text
    assert "kernel[1, 2]" not in text


# --- check_convolution_flip ----------------------------------------------------------------------


def test_flip_right_kernels_pass(run_check):
    random = np.random.default_rng(6).normal(size=(3, 3))
    for kernel in ([[1, 2, 3], [4, 5, 4], [3, 2, 1]], one_hot(1, 1), random + random[::-1, ::-1]):
        turned = np.asarray(kernel, dtype=float)[::-1, ::-1]
        image = np.random.default_rng(7).normal(size=(6, 7))
        # The course's claim: convolution is cross-correlation with the turned kernel; here they agree.
        np.testing.assert_allclose(convolution.correlate2d(image, turned), convolution.correlate2d(image, kernel), atol=1e-12)
        assert run_check(exercises.check_convolution_flip, kernel) == (True, "check_convolution_flip: " + RIGHT + "\n")


def test_flip_without_an_answer(run_check):
    passed, text = run_check(exercises.check_convolution_flip, None)
    assert passed is False and "no answer yet" in text and "not the same number everywhere" in text


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (np.full((3, 3), 2.0), "every weight is the same number"),
        (kernels.edge_kernels("prewitt")["vertical"], "known mistake: turning your kernel by 180 degrees changes the sign"),
        (kernels.edge_kernels("prewitt")["diagonal \\"], "changes the sign"),
        ([[1, 2, 1], [3, 4, 3], [5, 6, 5]], "known mistake: your kernel is its own mirror image along one axis only"),
        ([[1, 2, 3], [4, 5, 6], [1, 2, 3]], "along one axis only"),
        ([[1, 2, 3], [2, 5, 6], [3, 6, 9]], "known mistake: your kernel equals its transpose"),
        (np.arange(9.0).reshape(3, 3) ** 2, "give different outputs with this kernel"),
        ([1, 2, 1], "it has shape (3,)"),
        ("symmetric", "it could not be used"),
    ],
)
def test_flip_mistakes_are_named(run_check, answer, phrase):
    passed, text = run_check(exercises.check_convolution_flip, answer)
    assert passed is False
    assert phrase in text
