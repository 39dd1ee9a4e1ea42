"""The answer checks of the chapter "Images as arrays": right answers pass, each known mistake is named.

The checks take the chapter's arrays as arguments; here they get small
arrays made in the test (a stroke on a 28 x 28 background, a few random
images), so no MNIST file is needed, and every expected value is computed
from those arrays.
"""

import numpy as np
import pytest

from cnn_course import exercises


@pytest.fixture
def digit():
    """A 28 x 28 uint8 "digit": a stroke of grey and white pixels on a black background."""
    rng = np.random.default_rng(11)
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:23, 11:14] = rng.integers(1, 256, size=(19, 3))
    image[8:11, 6:20] = 255
    return image


@pytest.fixture
def training_set():
    """Scaled float32 images of three classes, with their labels in a shuffled order."""
    rng = np.random.default_rng(12)
    labels = rng.permutation(np.arange(90) % 3)
    images = (rng.integers(0, 256, size=(90, 6, 5)) / 255).astype(np.float32)
    return images, labels


# --- check_images_ink -----------------------------------------------------------------------------


def ink_of(image):
    count = sum(1 for value in image.ravel() if value != 0)
    return count, count / image.size


def test_ink_right_answers_pass_exact_or_rounded_to_three_decimals(run_check, digit):
    count, fraction = ink_of(digit)
    run_check.right(exercises.check_images_ink, (count, fraction), digit)
    run_check.right(exercises.check_images_ink, [count, round(fraction, 3)], digit)
    run_check.no_answer(exercises.check_images_ink, digit)


def test_ink_count_must_be_exact(run_check, digit):
    count, fraction = ink_of(digit)
    passed, text = run_check(exercises.check_images_ink, (count + 1, fraction), digit)
    assert passed is False and "Hint: count the pixels" in text


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda image, count: (image.size - count, (image.size - count) / image.size), "you counted the zero pixels"),
        (lambda image, count: (count, 100 * count / image.size), "the fraction is a percentage"),
        (lambda image, count: (count, round(100 * count / image.size, 1)), "the fraction is a percentage"),
        (lambda image, count: (count, count / image.shape[1]), "divided by the width of one row"),
        (lambda image, count: (int(np.sum(image == 255)), np.sum(image == 255) / image.size), "only the pixels at 255"),
    ],
)
def test_ink_mistakes_are_named_without_the_answer(run_check, digit, wrong, words):
    count, fraction = ink_of(digit)
    text = run_check.named(exercises.check_images_ink, wrong(digit, count), words, digit)
    assert f"{fraction:.3f}" not in text  # the verdict echoes the answer, never the right fraction


def test_ink_answer_of_the_wrong_form_is_told_the_form(run_check, digit):
    passed, text = run_check(exercises.check_images_ink, ink_of(digit)[0], digit)
    assert passed is False and "The answer is 2 values in a tuple" in text


def test_ink_refuses_an_image_that_is_not_two_dimensional(digit):
    with pytest.raises(ValueError, match=r"image must be a non-empty array of shape \(H, W\), got shape \(1, 28, 28\)"):
        exercises.check_images_ink((1, 0.5), digit[np.newaxis])


# --- check_images_average -------------------------------------------------------------------------


def averages_of(images, labels):
    """Each class's mean, by adding every image into its class's sum in float64."""
    sums = np.zeros((labels.max() + 1,) + images.shape[1:])
    counts = np.zeros(labels.max() + 1)
    for image, label in zip(images, labels):
        sums[label] += image
        counts[label] += 1
    return sums / counts[:, None, None]


def test_average_right_answers_pass_in_float64_and_float32(run_check, training_set):
    images, labels = training_set
    run_check.right(exercises.check_images_average, averages_of(images, labels), images, labels)
    float32_means = np.stack([images[labels == digit].mean(axis=0) for digit in range(3)])
    assert float32_means.dtype == np.float32
    run_check.right(exercises.check_images_average, float32_means, images, labels)
    run_check.no_answer(exercises.check_images_average, images, labels)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda images, labels: 255 * averages_of(images, labels), "averages of the uint8 pixels"),
        (lambda images, labels: averages_of(images, labels) * np.bincount(labels)[:, None, None] / len(labels),
         "divided by all the images"),
        (lambda images, labels: np.stack([images[labels == digit][0] for digit in range(3)]), "one image of each class"),
        (lambda images, labels: np.stack([images.mean(axis=0)] * 3), "the average of all the training images"),
        (lambda images, labels: averages_of(images, labels).mean(axis=(1, 2)), "one number per class"),
    ],
)
def test_average_mistakes_are_named(run_check, training_set, wrong, words):
    images, labels = training_set
    run_check.named(exercises.check_images_average, wrong(images, labels), words, images, labels)


def test_average_in_the_wrong_order_fails_with_the_hint(run_check, training_set):
    images, labels = training_set
    passed, text = run_check(exercises.check_images_average, averages_of(images, labels)[::-1], images, labels)
    assert passed is False and "which is not it" in text and "Hint:" in text


def test_average_refuses_labels_that_do_not_fit(training_set):
    images, labels = training_set
    with pytest.raises(ValueError, match=r"labels must be integer labels of shape \(N,\) = \(90,\)"):
        exercises.check_images_average(None, images, labels[:10])


# --- check_images_negative ------------------------------------------------------------------------


def test_negative_right_answer_passes(run_check, digit):
    negative = 1.0 - digit.astype(np.float32) / 255
    assert negative.dtype == np.float32
    run_check.right(exercises.check_images_negative, negative, digit)
    run_check.no_answer(exercises.check_images_negative, digit)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda image: 255 - image, "the negative in uint8"),
        (lambda image: 1.0 - image, "were subtracted from 1: scale the image"),
        (lambda image: 1 - image, "wraps around to 2"),  # uint8 arithmetic: 1 - 255 is 2
        (lambda image: (image / 255 - 1).astype(np.float32), "the wrong way round"),
        (lambda image: -(image / 255).astype(np.float32), "negating the numbers"),
    ],
)
def test_negative_mistakes_are_named(run_check, digit, wrong, words):
    run_check.named(exercises.check_images_negative, wrong(digit), words, digit)


def test_negative_in_float64_is_told_to_use_float32(run_check, digit):
    passed, text = run_check(exercises.check_images_negative, 1.0 - digit / 255, digit)
    assert passed is False and "the array is float64" in text and "the exercise asks for float32" in text, text


@pytest.mark.parametrize("wrong, words", [
    (lambda digit: np.ones((28, 27), np.float32), "has shape (28, 27)"),
    (lambda digit: (digit / 255).astype(np.float32), "not the negative yet"),
])
def test_negative_of_another_shape_or_values_fails(run_check, digit, wrong, words):
    passed, text = run_check(exercises.check_images_negative, wrong(digit), digit)
    assert passed is False and "not yet" in text and words in text and "known mistake" not in text, text


def test_negative_refuses_a_scaled_image(digit):
    with pytest.raises(TypeError, match="image must be the uint8 digit as loaded"):
        exercises.check_images_negative(None, digit / 255)


# --- check_images_pixel ---------------------------------------------------------------------------

PIXEL_CASES = [(126, 0.1307, 0.3081), (200, 0.2, 0.25)]


@pytest.mark.parametrize("pixel, mean, std", PIXEL_CASES)
def test_pixel_right_answers_pass_exact_or_with_two_decimals(run_check, pixel, mean, std):
    scaled = pixel / 255
    standardised = (scaled - mean) / std
    run_check.right(exercises.check_images_pixel, (scaled, standardised), np.uint8(pixel), mean, std)
    run_check.right(exercises.check_images_pixel, (round(scaled, 2), round(standardised, 2)), pixel, mean, std)
    run_check.no_answer(exercises.check_images_pixel, pixel, mean, std)


@pytest.mark.parametrize("pixel, mean, std", PIXEL_CASES)
@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda pixel, mean, std: (pixel / 255, (pixel / 255 - std) / mean), "are swapped"),
        (lambda pixel, mean, std: (pixel / 255, pixel / 255 / std - mean), "the division came before the subtraction"),
        (lambda pixel, mean, std: (pixel / 255, (pixel / 255 - mean) * std), "multiplied by the standard deviation"),
        (lambda pixel, mean, std: (pixel, (pixel - mean) / std), "without scaling it first"),
    ],
)
def test_pixel_mistakes_are_named_also_when_rounded(run_check, pixel, mean, std, wrong, words):
    wrong_answer = wrong(pixel, mean, std)
    text = run_check.named(exercises.check_images_pixel, wrong_answer, words, pixel, mean, std)
    assert f"{(pixel / 255 - mean) / std:.2f}" not in text
    run_check.named(exercises.check_images_pixel, tuple(round(value, 2) for value in wrong_answer), words, pixel, mean, std)


def test_pixel_off_by_more_than_rounding_fails(run_check):
    passed, text = run_check(exercises.check_images_pixel, (0.49, 1.17), 126, 0.1307, 0.3081)
    assert passed is False and "Hint: scaling divides by 255" in text


def test_pixel_refuses_a_value_outside_uint8():
    with pytest.raises(ValueError, match="pixel must be a uint8 value, an int from 0 to 255, got 300"):
        exercises.check_images_pixel(None, 300, 0.1, 0.3)


# --- check_images_bytes ---------------------------------------------------------------------------


@pytest.fixture
def small_set():
    return np.zeros((7, 5, 4), dtype=np.uint8)


def test_bytes_right_answer_passes(run_check, small_set):
    images_as_float32 = small_set.astype(np.float32)
    run_check.right(exercises.check_images_bytes, (small_set.nbytes, images_as_float32.nbytes), small_set)
    run_check.no_answer(exercises.check_images_bytes, small_set)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda images: (images[0].size, 4 * images[0].size), "the size of one image"),
        (lambda images: (images.size, 32 * images.size), "32 *bits*, not 32 bytes"),
        (lambda images: (8 * images.size, 32 * images.size), "those are bits"),
        (lambda images: (images.size, images.astype(np.float64).nbytes), "8 bytes per number is float64"),
        (lambda images: (images.size / 1e6, 4 * images.size / 1e6), "those are megabytes"),
    ],
)
def test_bytes_mistakes_are_named_without_the_answer(run_check, small_set, wrong, words):
    text = run_check.named(exercises.check_images_bytes, wrong(small_set), words, small_set)
    assert str(small_set.astype(np.float32).nbytes) not in text


def test_bytes_unrelated_answer_fails_with_the_hint(run_check, small_set):
    passed, text = run_check(exercises.check_images_bytes, (140, 561), small_set)
    assert passed is False and "Hint: count the numbers first" in text
