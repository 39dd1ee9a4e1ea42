"""The exercise checks of the chapter "Images as arrays": ink, averages, negatives, one pixel and bytes.

Every check here is an answer check: it takes what the student computed or
worked out by hand, and the chapter's own arrays (a digit, the training
images) as arguments, so that the right answer and the known wrong answers
are computed from the exercise's data, never typed in:

- :func:`check_images_ink`: ``(count, fraction)`` of the pixels of a digit that are not zero;
- :func:`check_images_average`: the average image of each digit class, an array of shape (K, H, W);
- :func:`check_images_negative`: the negative of a digit, a float32 array in [0, 1];
- :func:`check_images_pixel`: ``(scaled, standardised)``, one pixel by hand;
- :func:`check_images_bytes`: ``(uint8_bytes, float32_bytes)`` of the training images.
"""

import numpy as np

from cnn_course.exercises import verdict

__all__ = [
    "check_images_ink",
    "check_images_average",
    "check_images_negative",
    "check_images_pixel",
    "check_images_bytes",
]

FLOAT32_EPSILON = float(np.finfo(np.float32).eps)


def _as_image(value, name, ndim):
    """``value`` as a NumPy array with ``ndim`` axes, or a ValueError naming the argument."""
    array = np.asarray(value)
    if array.ndim != ndim or array.size == 0:
        axes = {2: "(H, W)", 3: "(N, H, W)"}[ndim]
        raise ValueError(f"{name} must be a non-empty array of shape {axes}, got shape {array.shape}")
    return array


def check_images_ink(answer, image):
    """Check exercise ex-images-ink: how many pixels of a digit are not zero, and what fraction that is.

    Introduced in the chapter "Images as arrays". The answer is a tuple
    ``(count, fraction)``: the number of pixels of ``image`` that are not
    zero, and that number divided by all the pixels of the image, between 0
    and 1 (three decimals are enough). Recognises the zeros counted instead
    of the ink, the fraction given as a percentage, the count divided by one
    row's width instead of all the pixels, and only the brightest (255)
    pixels counted.

    Parameters
    ----------
    answer : tuple of (int, float) or None
        The student's ``(count, fraction)``.
    image : ndarray of shape (H, W)
        The digit of the exercise, ``x_train[0]`` (uint8 pixels).

    Returns
    -------
    bool
    """
    image = _as_image(image, "image", 2)
    size = image.size
    count = int(np.count_nonzero(image))
    brightest = int(np.count_nonzero(image == np.iinfo(np.uint8).max))
    mistakes = [
        ("you counted the zero pixels, the black background: the question is about the pixels that are "
         "*not* zero, the ink (np.count_nonzero counts those).", (size - count, (size - count) / size)),
        ("the fraction is a percentage: give it as a number between 0 and 1, the count divided by the "
         "number of pixels.", (count, 100 * count / size)),
        ("the fraction is a percentage: give it as a number between 0 and 1, the count divided by the "
         "number of pixels.", (count, round(100 * count / size, 1))),
        ("the count is divided by the width of one row: the fraction is of the whole image, all its "
         "H x W pixels.", (count, count / image.shape[1])),
        ("you counted only the pixels at 255, the brightest ink: every pixel that is not 0 holds some ink, "
         "the grey edges of the strokes too.", (brightest, brightest / size)),
    ]
    # A count is at most `size`, so this rtol keeps its tolerance below 1: it must be exact.
    return verdict.check_answer(
        "check_images_ink", answer, expected=(count, count / size), mistakes=mistakes,
        asks="a tuple (count, fraction): how many pixels are not zero, and that count as a fraction of all "
             "the pixels, between 0 and 1",
        hint="count the pixels whose value is not 0 with np.count_nonzero, then divide by the number of pixels, "
             "image.size.",
        rtol=min(1e-3, 0.4 / size), atol=5e-4,
    )


def check_images_average(answer, images, labels):
    """Check exercise ex-images-average: the average image of each digit class.

    Introduced in the chapter "Images as arrays". The answer is an array of
    shape (K, H, W): ``answer[d]`` is the mean of all the images of
    ``images`` whose label is ``d``. It may be float32 (the mean of float32
    pixels): the tolerance is that of a float32 sum of as many numbers as the
    largest class holds. Recognises the averages of the uint8 pixels (0 to
    255) instead of the scaled ones, each class's sum divided by all the
    images, one image per class instead of the mean, the mean of all the
    images for every class, and one number per class (the pixels averaged
    too).

    Parameters
    ----------
    answer : ndarray of shape (K, H, W) or None
        The student's ten averages, in the order of the digits.
    images : ndarray of shape (N, H, W)
        The scaled training images, ``x_train_scaled`` (floats in [0, 1]).
    labels : ndarray of shape (N,)
        Their labels, ``y_train``, the integers 0 to K - 1.

    Returns
    -------
    bool
    """
    images = _as_image(images, "images", 3)
    labels = np.asarray(labels)
    if labels.shape != images.shape[:1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer labels of shape (N,) = ({images.shape[0]},), got "
                         f"{labels.dtype} of shape {labels.shape}")
    classes = np.arange(int(labels.max()) + 1)
    members = [labels == digit for digit in classes]
    averages = np.stack([images[mask].mean(axis=0, dtype=np.float64) for mask in members])
    overall = images.mean(axis=0, dtype=np.float64)
    # A float32 mean adds up to max(class size) numbers of at most 1, one after the other:
    # its error stays below that many float32 epsilons.
    tolerance = max(int(mask.sum()) for mask in members) * FLOAT32_EPSILON * max(float(images.max()), 1.0)
    mistakes = [
        ("these are averages of the uint8 pixels, from 0 to 255: average x_train_scaled, the pixels "
         "scaled to [0, 1].", 255 * averages),
        ("each class's sum is divided by all the images instead of by the images of that class: take the "
         "mean over the batch axis of the class's images only.",
         np.stack([images[mask].sum(axis=0, dtype=np.float64) for mask in members]) / len(labels)),
        ("this is one image of each class, not the mean of all the images of that class.",
         np.stack([images[np.flatnonzero(mask)[0]] for mask in members])),
        ("every class got the average of all the training images: select the images of one class with "
         "the boolean mask y_train == digit before averaging.", np.stack([overall] * len(classes))),
        ("that is one number per class: the pixels were averaged too. Average over the batch axis only, "
         ".mean(axis=0), to keep one H x W image per class.", averages.mean(axis=(1, 2))),
    ]
    return verdict.check_answer(
        "check_images_average", answer, expected=averages, mistakes=mistakes,
        asks=f"the averages as one array of shape {averages.shape}, the average of digit d in answer[d]",
        hint="for each digit d, select x_train_scaled[y_train == d] and take its mean over axis 0; "
             "np.stack puts the ten averages into one array.",
        rtol=0.0, atol=tolerance,
    )


def check_images_negative(answer, image):
    """Check exercise ex-images-negative: the photographic negative of a digit, scaled to [0, 1], in float32.

    Introduced in the chapter "Images as arrays". The answer is a float32
    array of the image's shape whose pixels are 1 minus the scaled pixels,
    so that the image plus its negative is 1 everywhere. Recognises the
    negative in uint8 (``255 - image``), the uint8 pixels subtracted from 1
    without scaling, uint8 arithmetic that wraps around, the subtraction the
    wrong way round, and the values negated; an answer with the right values
    in another dtype is told to use float32.

    Parameters
    ----------
    answer : ndarray of shape (H, W) or None
        The student's negative.
    image : ndarray of shape (H, W), uint8
        The digit of the exercise as loaded, ``x_test[0]`` (pixels 0 to 255).

    Returns
    -------
    bool
    """
    image = _as_image(image, "image", 2)
    if image.dtype != np.uint8:
        raise TypeError(f"image must be the uint8 digit as loaded (pixels 0 to 255), got dtype {image.dtype}")
    white = int(np.iinfo(np.uint8).max)
    scaled = image.astype(np.float64) / white
    expected = 1.0 - scaled
    tolerance = 8 * FLOAT32_EPSILON  # float32 pixels in [0, 1]: a few roundings at most
    with np.errstate(over="ignore"):
        wrapped = np.uint8(1) - image  # what uint8 arithmetic gives: 1 - 255 wraps around to 2
    mistakes = [
        ("this is the negative in uint8, from 0 to 255: the exercise asks for it scaled to [0, 1], so "
         "work with x_test_scaled.", white - image),
        ("the uint8 pixels, 0 to 255, were subtracted from 1: scale the image to [0, 1] first.",
         1.0 - image.astype(np.float64)),
        ("uint8 has no negative numbers, so 1 - 255 wraps around to 2: subtract the scaled float32 pixels "
         "instead.", wrapped),
        ("the subtraction is the wrong way round: these values go from -1 to 0, and the negative must stay "
         "in [0, 1].", scaled - 1.0),
        ("negating the numbers is not a photographic negative: the values must stay in [0, 1], with the "
         "black background becoming white.", -scaled),
    ]

    def judge(negative):
        negative = np.asarray(negative)
        if negative.shape != expected.shape:
            return f"the answer has shape {negative.shape}; the negative has the shape of the image, {expected.shape}."
        if not np.allclose(negative.astype(np.float64), expected, rtol=0.0, atol=tolerance):
            return ("it is not the negative yet: in [0, 1] each pixel's negative is what it lacks to reach 1, "
                    "so that image + negative is 1 everywhere.")
        if negative.dtype != np.float32:
            return (f"the values are right, but the array is {negative.dtype}: the exercise asks for float32, "
                    "the type of x_test_scaled.")
        return None

    return verdict.check_answer(
        "check_images_negative", answer, mistakes=mistakes, judge=judge,
        asks=f"the negative as a float32 array of shape {image.shape}",
        rtol=0.0, atol=tolerance,
    )


def check_images_pixel(answer, pixel, mean, std):
    """Check exercise ex-images-pixel: one pixel scaled to [0, 1] and then standardised, by hand.

    Introduced in the chapter "Images as arrays". The answer is a tuple
    ``(scaled, standardised)``: ``pixel / 255`` and ``(scaled - mean) / std``,
    two decimals being enough. Recognises the mean and the standard
    deviation swapped, the division done before the subtraction, the
    difference multiplied by the standard deviation, and the raw uint8
    value standardised without scaling.

    Parameters
    ----------
    answer : tuple of (float, float) or None
        The student's ``(scaled, standardised)``.
    pixel : int
        The pixel of the exercise, ``x_train[0][5, 16]`` (0 to 255).
    mean, std : float
        The mean and standard deviation of the scaled training pixels.

    Returns
    -------
    bool
    """
    if isinstance(pixel, (bool, np.bool_)) or not isinstance(pixel, (int, np.integer)) or not 0 <= pixel <= 255:
        raise ValueError(f"pixel must be a uint8 value, an int from 0 to 255, got {pixel!r}")
    scaled = int(pixel) / int(np.iinfo(np.uint8).max)
    mistakes = [
        ("the mean and the standard deviation are swapped: subtract the mean, then divide by the standard "
         "deviation.", (scaled, (scaled - std) / mean)),
        ("the division came before the subtraction: standardising is (x - mean) / std, the subtraction in "
         "brackets first.", (scaled, scaled / std - mean)),
        ("the difference is multiplied by the standard deviation: standardising *divides* by it, so that the "
         "spread becomes 1.", (scaled, (scaled - mean) * std)),
        ("the pixel was standardised without scaling it first: the mean and standard deviation are those of "
         "the pixels in [0, 1], so divide by 255 first.", (int(pixel), (int(pixel) - mean) / std)),
    ]
    # Two decimals by hand, with the rounded constants 0.1307 and 0.3081: within 0.005 plus a little.
    return verdict.check_answer(
        "check_images_pixel", answer, expected=(scaled, (scaled - mean) / std), mistakes=mistakes,
        asks="a tuple (scaled, standardised) of two numbers, two decimals are enough",
        hint="scaling divides by 255; standardising subtracts the mean, then divides by the standard deviation.",
        rtol=1e-3, atol=6e-3,
    )


def check_images_bytes(answer, images):
    """Check exercise ex-images-bytes: the bytes the training images take as uint8 and as float32.

    Introduced in the chapter "Images as arrays". The answer is a tuple
    ``(uint8_bytes, float32_bytes)`` of two whole numbers: the number of
    pixels of ``images`` times 1 and times 4 bytes. Recognises the bytes of
    one image, float32's 32 bits taken as 32 bytes, bits instead of bytes,
    float64's 8 bytes, and megabytes instead of bytes.

    Parameters
    ----------
    answer : tuple of (int, int) or None
        The student's ``(uint8_bytes, float32_bytes)``.
    images : ndarray of shape (N, H, W)
        The training images, ``x_train``.

    Returns
    -------
    bool
    """
    images = _as_image(images, "images", 3)
    numbers = images.size
    one_image = images[0].size
    uint8_bytes, float32_bytes = np.dtype(np.uint8).itemsize, np.dtype(np.float32).itemsize
    bits_per_byte = 8
    mistakes = [
        ("that is the size of one image: x_train holds all the training images, so count the numbers of the "
         "whole (N, H, W) array.", (one_image * uint8_bytes, one_image * float32_bytes)),
        ("float32 has 32 *bits*, not 32 bytes: a byte is 8 bits.",
         (numbers * uint8_bytes, numbers * float32_bytes * bits_per_byte)),
        ("those are bits: a byte is 8 bits, and the question asks for bytes.",
         (numbers * uint8_bytes * bits_per_byte, numbers * float32_bytes * bits_per_byte)),
        ("8 bytes per number is float64: float32 takes 32 bits.",
         (numbers * uint8_bytes, numbers * np.dtype(np.float64).itemsize)),
        ("those are megabytes: the question asks for bytes, as whole numbers.",
         (numbers * uint8_bytes / 1e6, numbers * float32_bytes / 1e6)),
    ]
    return verdict.check_answer(
        "check_images_bytes", answer, expected=(numbers * uint8_bytes, numbers * float32_bytes), mistakes=mistakes,
        asks="a tuple (uint8_bytes, float32_bytes) of two whole numbers",
        hint="count the numbers first, the product of the three sizes in x_train.shape, then multiply by the "
             "bytes per number.",
    )
