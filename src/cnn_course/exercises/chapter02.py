"""The exercise checks of the chapter "Convolution".

One function check, for the exercise that writes a function:

- :func:`check_correlate2d`: ``f(image, kernel)``, the "valid" cross-correlation.

The answer checks, for the exercises worked out by hand (each takes the
answer, and the chapter's arrays the exercise is about):

- :func:`check_convolution_sizes`: ``(height, width, parameters)``, three numbers;
- :func:`check_convolution_by_hand`: ``out[2, 1]`` of the 5 x 5 example, a number;
- :func:`check_convolution_blur`: a 3 x 3 kernel whose output is the mean of its window;
- :func:`check_convolution_shift`: a 3 x 3 kernel that moves the image;
- :func:`check_convolution_flip`: a 3 x 3 kernel for which the flip changes nothing.
"""

import itertools

import numpy as np

from cnn_course import checks, convolution, layers, model
from cnn_course.exercises import verdict

__all__ = [
    "check_correlate2d",
    "check_convolution_sizes",
    "check_convolution_by_hand",
    "check_convolution_blur",
    "check_convolution_shift",
    "check_convolution_flip",
]


def _correlate_cases():
    rng = np.random.default_rng(2)
    return [
        {"image": np.arange(9.0).reshape(3, 3), "kernel": np.array([[1.0, 2.0], [0.0, -1.0]])},
        {"image": rng.integers(0, 5, size=(5, 5)).astype(float), "kernel": np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 1.0]])},
        {"image": rng.integers(0, 5, size=(4, 6)).astype(float), "kernel": rng.integers(-2, 3, size=(2, 3)).astype(float)},
        {"image": rng.integers(0, 5, size=(6, 5)).astype(float), "kernel": rng.integers(-2, 3, size=(3, 1)).astype(float)},
    ]


def check_correlate2d(function):
    """Check ``function(image, kernel) -> ndarray``: the "valid" cross-correlation of chapter 2.

    ``out[i, j] = sum over (u, v) of image[i + u, j + v] * kernel[u, v]``, of
    shape (H - kh + 1, W - kw + 1). Introduced in the chapter "Convolution".
    Recognises a flipped kernel (true convolution), a transposed kernel, zero
    padding ("same" size) and an output one row and column too small.

    Returns
    -------
    bool
    """

    def same_size(image, kernel):
        kh, kw = kernel.shape
        top, left = (kh - 1) // 2, (kw - 1) // 2
        padded = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
        return convolution.correlate2d(padded, kernel)

    mistakes = [
        ("the kernel is flipped: that is the mathematical convolution. Deep-learning 'convolution' is "
         "cross-correlation: image[i + u, j + v] * kernel[u, v], no flip.",
         lambda image, kernel: convolution.correlate2d(image, kernel[::-1, ::-1])),
        ("the kernel is transposed: kernel[u, v] goes with image[i + u, j + v] (row offset u, column offset v).",
         lambda image, kernel: convolution.correlate2d(image, kernel.T)),
        ("the output has the size of the image: that is 'same' padding. 'valid' takes only the windows that fit "
         "inside the image: (H - kh + 1) x (W - kw + 1).", same_size),
        ("one row and one column are missing: there are H - kh + 1 window positions, range(H - kh + 1).",
         lambda image, kernel: convolution.correlate2d(image, kernel)[:-1, :-1]),
    ]
    return verdict.check_function("check_correlate2d", function, _correlate_cases(), convolution.correlate2d, mistakes)


# --- the answer checks ---------------------------------------------------------------------------

_KNOWN = "This looks like a known mistake: "


def _picture(value, name):
    """A 2-D float64 picture of at least 3 x 3 that is not all zeros (the exercises' image or digit)."""
    array = np.asarray(checks.as_float_array(value, name), dtype=np.float64)
    checks.check_rank(array, 2, name, "(H, W)")
    if array.shape[0] < 3 or array.shape[1] < 3:
        raise ValueError(f"{name} must have shape (H, W) with H, W >= 3 to hold a 3 x 3 window, got shape {array.shape}")
    if not np.any(array):
        raise ValueError(f"{name} must not be all zeros: on a black image every kernel gives 0; pass the chapter's {name}")
    return array


def _three_by_three(answer):
    """The answer as a 3 x 3 float kernel, or a sentence saying why it is not one."""
    kernel = np.asarray(answer, dtype=float)
    if kernel.shape != (3, 3):
        return None, (f"it has shape {kernel.shape}; the kernel must be a 3 x 3 array, one weight per pixel of the "
                      "window, e.g. np.array([[a, b, c], [d, e, f], [g, h, i]]).")
    return kernel, None


def _one_hot(shape, position):
    kernel = np.zeros(shape)
    kernel[position] = 1.0
    return kernel


# The exercise "Sizes and parameters": a 5 x 5 kernel on 28 x 28 x 1 images, Keras's Conv2D(16, 5).
_SIZES_IMAGE, _SIZES_KERNEL, _SIZES_FILTERS = 28, 5, 16


def check_convolution_sizes(answer):
    """Check the exercise "Sizes and parameters" of the chapter "Convolution".

    The answer is ``(height, width, parameters)``: the output size of a 5 x 5
    kernel on a 28 x 28 image without padding, and the number of parameters
    of Keras's ``Conv2D(16, 5)`` on 28 x 28 x 1 images. The expected numbers
    come from :func:`cnn_course.convolution.conv_output_size` and
    :meth:`cnn_course.model.Sequential.describe`. Recognises, alone or
    together, an output size without the ``+ 1`` or with the size of the
    image ("same" padding assumed), and a parameter count without the biases,
    with a kernel of 5 weights instead of 5 x 5, or equal to the number of
    output values (activations).

    Parameters
    ----------
    answer : tuple of (int, int, int) or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    height = width = convolution.conv_output_size(_SIZES_IMAGE, _SIZES_KERNEL)
    layer = layers.Conv2D(_SIZES_FILTERS, _SIZES_KERNEL)
    (record,) = model.Sequential([layer], input_shape=(_SIZES_IMAGE, _SIZES_IMAGE, 1)).describe()
    (row_kernel,) = model.Sequential([layers.Conv2D(_SIZES_FILTERS, (1, _SIZES_KERNEL))],
                                     input_shape=(_SIZES_IMAGE, _SIZES_IMAGE, 1)).describe()
    same = convolution.conv_output_size(_SIZES_IMAGE, _SIZES_KERNEL, padding="same")
    sizes = [
        (None, height),
        ("the output size is one short: along each axis the window fits in n - k + 1 positions, because the "
         "position that starts at 0 counts too.", height - 1),
        ("the output has the size of the image: without padding the kernel must fit inside the image, so the "
         "output loses k - 1 rows and k - 1 columns.", same),
    ]
    parameters = [
        (None, record.parameters),
        ("the parameter count leaves out the biases: each filter has one bias besides its kernel weights.",
         layer.params["kernel"].size),
        ("the parameter count gives each kernel 5 weights: the 5 in Conv2D(16, 5) is the kernel size, so each "
         "filter has 5 x 5 (x 1 input channel) weights.", row_kernel.parameters),
        ("that parameter count is the number of output values (height x width x 16 feature maps). The "
         "parameters are what the layer learns, its kernels and biases, and they do not depend on the image size.",
         record.activations),
    ]
    mistakes = []
    for (size_mistake, size), (parameter_mistake, count) in itertools.product(sizes, parameters):
        explanations = [text for text in (size_mistake, parameter_mistake) if text]
        if explanations:
            mistakes.append((" Also, ".join(explanations), (size, size, count)))
    return verdict.check_answer(
        "check_convolution_sizes", answer, expected=(height, width, record.parameters), mistakes=mistakes,
        asks="(height, width, parameters): the output's height and width, then the parameters of Conv2D(16, 5)",
        hint="count the positions where the 5 x 5 window fits along one axis; for the parameters, count each "
             "filter's weights and its bias.",
    )


def check_convolution_by_hand(answer, image, kernel):
    """Check the exercise "One output value by hand": ``out[2, 1]`` of the chapter's 5 x 5 example.

    The answer is a number, ``correlate2d(image, kernel)[2, 1]`` worked out
    on paper; ``image`` and ``kernel`` are the chapter's 5 x 5 image and
    3 x 3 kernel. Introduced in the chapter "Convolution". Recognises row and
    column swapped (``out[1, 2]``), the kernel's centre put on ``image[2, 1]``,
    the kernel flipped (mathematical convolution), a negative weight taken as
    positive, and the window added up without its weights. Mistakes that give
    the right number on these arrays are not named; two that give the same
    wrong number are named together.

    Parameters
    ----------
    answer : float or None
        The student's answer; None before they give one.
    image : ndarray of shape (H, W)
        The chapter's example image, H >= 5 and W >= 4 (so that ``out[2, 1]`` exists).
    kernel : ndarray of shape (kh, kw)
        The chapter's example kernel.

    Returns
    -------
    bool
    """
    image = checks.as_float_array(image, "image")
    kernel = checks.as_float_array(kernel, "kernel")
    checks.check_rank(image, 2, "image", "(H, W)")
    checks.check_rank(kernel, 2, "kernel", "(kh, kw)")
    output = convolution.correlate2d(image, kernel)
    if output.shape[0] < 3 or output.shape[1] < 3:
        raise ValueError(f"image and kernel must give an output of at least 3 x 3, so that out[2, 1] and out[1, 2] "
                         f"exist; image of shape {image.shape} and kernel of shape {kernel.shape} give {output.shape}")
    kh, kw = kernel.shape
    mistakes = [
        ("row and column are swapped: out[2, 1] is row 2, column 1, and the row comes first, as in "
         "image[row, column].", output[1, 2]),
        ("a negative weight was taken as positive: the weight -1 makes its pixel count against the sum.",
         convolution.correlate2d(image, np.abs(kernel))[2, 1]),
        ("the pixels of the window are added without their weights: first multiply each pixel by the kernel "
         "weight on top of it, then add the products.", convolution.correlate2d(image, np.ones_like(kernel))[2, 1]),
        ("the kernel is flipped, which is the mathematical convolution: correlate2d multiplies each pixel by "
         "the weight right on top of it, without turning the kernel.",
         convolution.correlate2d(image, kernel[::-1, ::-1])[2, 1]),
    ]
    if kh // 2 <= 2 and kw // 2 <= 1:
        mistakes.append((
            "the kernel's centre was put on image[2, 1]: out[i, j] belongs to the window whose top-left corner "
            "is image[i, j], so its centre is one row and one column further on.", output[2 - kh // 2, 1 - kw // 2]))
    return verdict.check_answer(
        "check_convolution_by_hand", answer, expected=output[2, 1], mistakes=mistakes,
        asks="out[2, 1], a number",
        hint="find the window whose top-left corner is image[2, 1], multiply each pixel by the weight on top "
             "of it and add the products; show_arithmetic(image, kernel, 0, 0) does it for out[0, 0].",
    )


def check_convolution_blur(answer, digit):
    """Check the exercise "A blurring kernel": a 3 x 3 kernel whose output is the mean of each window.

    The answer is a 3 x 3 kernel (an array or nested lists). It is right when
    ``correlate2d(digit, answer)`` equals the mean of every 3 x 3 window of
    ``digit``, computed with NumPy's ``sliding_window_view``. Introduced in
    the chapter "Convolution". Recognises the sum instead of the mean (all
    weights 1), weights divided by 3 instead of by 9, the centre left out,
    unequal weights, weights rounded by hand, and an answer of another shape.

    Parameters
    ----------
    answer : array_like of shape (3, 3) or None
        The student's kernel; None before they give one.
    digit : ndarray of shape (H, W)
        The chapter's digit (any image that is not all zeros).

    Returns
    -------
    bool
    """
    digit = _picture(digit, "digit")
    means = np.lib.stride_tricks.sliding_window_view(digit, (3, 3)).mean(axis=(2, 3))
    tolerance = 1e-9 * (1 + np.abs(digit).max())
    ring = np.ones((3, 3))
    ring[1, 1] = 0.0

    def judge(answer):
        kernel, problem = _three_by_three(answer)
        if problem:
            return problem
        if np.allclose(convolution.correlate2d(digit, kernel), means, rtol=1e-9, atol=tolerance):
            return None
        if np.ptp(kernel) > 1e-12:
            return "the weights differ: a mean gives each of the nine pixels of the window the same weight."
        factor = kernel.sum()
        if abs(factor - 1) < 0.02:  # 0.11 or 0.111 typed for each weight
            return (f"{_KNOWN}every output is {factor:.4g} times the mean of its window, close but not exact: the "
                    "weights look rounded by hand. Let Python work out the fraction, to 16 digits.")
        return (f"every output is {factor:.4g} times the mean of its window: the mean divides the sum of the "
                "pixels by how many there are.")

    mistakes = [
        ("these weights give the sum of the window, nine times its mean: the mean divides that sum by the "
         "number of pixels.", np.ones((3, 3))),
        ("the weights are divided by 3, the side of the window: the mean divides by the number of pixels in it.",
         np.ones((3, 3)) / 3),
        ("the centre is left out: that is the mean of the eight neighbours, but the window's pixels include "
         "the one under the kernel's centre.", ring / ring.sum()),
    ]
    return verdict.check_answer("check_convolution_blur", answer, mistakes=mistakes, judge=judge,
                                asks="a 3 x 3 kernel, such as np.array([[a, b, c], [d, e, f], [g, h, i]])")


# The exercise "A kernel that moves the image": out[i, j] must be digit[i + 1, j + 2].
_SHIFT = (1, 2)


def check_convolution_shift(answer, digit):
    """Check the exercise "A kernel that moves the image": ``correlate2d(digit, k)[i, j] == digit[i + 1, j + 2]``.

    The answer is a 3 x 3 kernel (an array or nested lists); it is right when
    its output is ``digit[1:H - 1, 2:W]``. Introduced in the chapter
    "Convolution". Recognises the 1 at the mirror position (the flip of
    mathematical convolution), row and column swapped, the 1 in the centre
    (no move), the 1 placed by its offset from the centre, a weight other
    than 1, and a kernel that mixes several pixels.

    Parameters
    ----------
    answer : array_like of shape (3, 3) or None
        The student's kernel; None before they give one.
    digit : ndarray of shape (H, W)
        The chapter's digit (any image that is not all zeros).

    Returns
    -------
    bool
    """
    digit = _picture(digit, "digit")
    height, width = digit.shape
    target = digit[_SHIFT[0] : _SHIFT[0] + height - 2, _SHIFT[1] : _SHIFT[1] + width - 2]
    tolerance = 1e-9 * (1 + np.abs(digit).max())
    moved = _one_hot((3, 3), _SHIFT)  # used only to make the wrong answers, never shown

    def judge(answer):
        kernel, problem = _three_by_three(answer)
        if problem:
            return problem
        if np.allclose(convolution.correlate2d(digit, kernel), target, rtol=1e-9, atol=tolerance):
            return None
        weights = kernel[kernel != 0]
        if weights.size == 0:
            return "every weight is 0, so the output is 0 everywhere: one weight must pick the pixel."
        if weights.size > 1:
            return "the output mixes several pixels of the window: to copy one pixel, give it weight 1 and every other weight 0."
        if not np.isclose(weights[0], 1.0):
            return f"the one weight that is not 0 is {weights[0]:.4g}: copying a pixel unchanged needs weight 1."
        return ("your kernel copies one pixel of the window, but not the one asked for: kernel[u, v] multiplies "
                "digit[i + u, j + v].")

    centre = (1, 1)
    mistakes = [
        ("the 1 is at the mirror image of its place. Turning the kernel by 180 degrees is what mathematical "
         "convolution does; correlate2d multiplies digit[i + u, j + v] by kernel[u, v], without a flip.",
         moved[::-1, ::-1]),
        ("row and column are swapped: kernel[u, v] multiplies digit[i + u, j + v], so the first index is the "
         "row offset and the second the column offset.", moved.T),
        ("a 1 in the centre copies the pixel under the kernel's centre, digit[i + 1, j + 1], so the image does "
         "not move sideways: the exercise asks for the pixel to its right.", _one_hot((3, 3), centre)),
        ("the 1 is placed by its offset from the kernel's centre, but kernel indices count from the top-left "
         "corner, which sits on digit[i, j].", _one_hot((3, 3), (_SHIFT[0] - centre[0], _SHIFT[1] - centre[1]))),
    ]
    return verdict.check_answer("check_convolution_shift", answer, mistakes=mistakes, judge=judge,
                                asks="a 3 x 3 kernel, such as np.array([[a, b, c], [d, e, f], [g, h, i]])")


def check_convolution_flip(answer):
    """Check the exercise "When the flip does not matter": a kernel for which convolution equals cross-correlation.

    The answer is a 3 x 3 kernel (an array or nested lists) that is not the
    same number everywhere. It is right when the cross-correlation with it,
    ``correlate2d(x, kernel)``, equals the convolution,
    ``correlate2d(x, kernel[::-1, ::-1])``, on a random test image ``x``
    (random, so that no symmetry of the image hides a difference).
    Introduced in the chapter "Convolution". Recognises a constant kernel, a
    kernel that the flip turns into its negative (the edge kernels), one
    mirror-symmetric along one axis only, and one equal to its transpose.

    Parameters
    ----------
    answer : array_like of shape (3, 3) or None
        The student's kernel; None before they give one.

    Returns
    -------
    bool
    """
    test_image = np.random.default_rng(0).normal(size=(8, 8))

    def judge(answer):
        kernel, problem = _three_by_three(answer)
        if problem:
            return problem
        scale = 1e-9 * (1 + np.abs(kernel).max())
        if np.ptp(kernel) <= scale:
            return ("every weight is the same number: the flip cannot change that kernel, but the exercise asks "
                    "for one that is not the same number everywhere.")
        cross = convolution.correlate2d(test_image, kernel)
        convolved = convolution.correlate2d(test_image, kernel[::-1, ::-1])
        if np.allclose(cross, convolved, rtol=1e-9, atol=scale * 9 * np.abs(test_image).max()):
            return None
        turned = kernel[::-1, ::-1]
        if np.allclose(turned, -kernel, atol=scale):
            return (f"{_KNOWN}turning your kernel by 180 degrees changes the sign of every weight, as for the edge "
                    "kernels, so convolution gives minus the cross-correlation.")
        if np.allclose(kernel, kernel[:, ::-1], atol=scale) or np.allclose(kernel, kernel[::-1, :], atol=scale):
            return (f"{_KNOWN}your kernel is its own mirror image along one axis only: the flip reverses both axes, "
                    "top to bottom and left to right.")
        if np.allclose(kernel, kernel.T, atol=scale):
            return (f"{_KNOWN}your kernel equals its transpose, but the flip is not a transpose: it reverses both "
                    "axes, kernel[::-1, ::-1].")
        return ("convolution and cross-correlation give different outputs with this kernel: compare it with the "
                "copy that convolution uses, kernel[::-1, ::-1].")

    return verdict.check_answer("check_convolution_flip", answer, judge=judge,
                                asks="a 3 x 3 kernel that is not the same number everywhere, such as "
                                     "np.array([[a, b, c], [d, e, f], [g, h, i]])")
