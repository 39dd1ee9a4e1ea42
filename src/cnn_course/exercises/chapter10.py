"""The exercise checks of the chapter "MNIST: from one Dense layer to a CNN".

Answer checks: :func:`check_mnist_seeds` (the test accuracies of other seeds)
and :func:`check_mnist_parameters` (the CNN's parameters counted by hand).
Function check: :func:`check_mnist_shift` (moving digits to the right).
"""

import numbers

import numpy as np

from cnn_course.exercises import verdict

__all__ = [
    "check_mnist_seeds",
    "check_mnist_parameters",
    "check_mnist_shift",
]

# The chapter's CNN reached 99.33% to 99.42% on the test digits for every seed and CPU measured, and
# the chapter asserts at least 99.2%; a run below 99% did not follow the recipe.
CNN_TEST_ACCURACY_AT_LEAST = 0.99
# The seed of section 2's CNN, whose test accuracy the other seeds are compared with.
CHAPTER_SEED = 42


# --- other seeds ---------------------------------------------------------------------------------


def _judge_seed_accuracies(accuracies):
    """None if ``accuracies`` is a plausible {seed: test accuracy} of the recipe, else what is wrong."""
    if not isinstance(accuracies, dict):
        return ("the answer is a dict from seed to test accuracy, {42: ..., 1: ..., 2: ...}, so that each accuracy "
                "is paired with the seed that gave it.")
    if CHAPTER_SEED not in accuracies:
        return (f"seed {CHAPTER_SEED} is missing: include the accuracy of section 2's CNN (cnn_test_accuracy) "
                "to compare the other seeds with.")
    if len(accuracies) < 3:
        return f"the answer has {len(accuracies)} seed(s): train the CNN with two seeds besides {CHAPTER_SEED}."
    for seed, accuracy in accuracies.items():
        if isinstance(accuracy, (list, tuple, np.ndarray)) and np.size(accuracy) == 2:
            return (f"This looks like a known mistake: seed {seed}'s value has two numbers. evaluate returns "
                    "[loss, accuracy]; keep the second: _, accuracy = model.evaluate(...).")
        if isinstance(accuracy, (bool, np.bool_)) or not isinstance(accuracy, numbers.Real):
            return f"seed {seed}'s value must be a number, the test accuracy, got {type(accuracy).__name__}."
        accuracy = float(accuracy)
        if 1.0 < accuracy <= 100.0:
            return (f"This looks like a known mistake: seed {seed}'s accuracy {accuracy:g} is a percentage. Give "
                    "the accuracies as fractions between 0 and 1, as evaluate returns them.")
        if not 0.0 <= accuracy <= 1.0:
            return f"seed {seed}'s value {accuracy:g} is not an accuracy: an accuracy lies between 0 and 1."
        if accuracy < 0.5:
            return (f"This looks like a known mistake: seed {seed}'s {accuracy:g} is far too low for this CNN. "
                    "evaluate returns [loss, accuracy], so it may be the loss; and a network that was built but "
                    "not trained guesses, about 0.1.")
        if accuracy < CNN_TEST_ACCURACY_AT_LEAST:
            return (f"seed {seed}'s accuracy {accuracy:g} is below {CNN_TEST_ACCURACY_AT_LEAST:.0%}, which the "
                    "recipe beats on every seed: train with train_cnn's defaults (6 epochs) and evaluate on the test "
                    "images, x_test[..., np.newaxis].")
    return None


def check_mnist_seeds(accuracies):
    """Check the test accuracies of the chapter's CNN trained with other seeds.

    The exercise "Other seeds" of the chapter "MNIST: from one Dense layer
    to a CNN" trains the CNN with two more seeds. The answer is a dict from
    seed to test accuracy (a fraction, as ``evaluate`` returns it), seed 42's
    (section 2's) included. The accuracies depend on the seed and the CPU, so
    there is no single right answer: the check accepts any three or more
    seeds whose accuracies are those of the recipe, at least 99%. Recognises
    ``evaluate``'s ``[loss, accuracy]`` pair passed whole, percentages instead
    of fractions, and a value far too low (the loss, or an untrained network).

    Parameters
    ----------
    accuracies : dict of {int: float} or None
        The student's test accuracy for each seed.

    Returns
    -------
    bool
    """
    return verdict.check_answer(
        "check_mnist_seeds", accuracies, judge=_judge_seed_accuracies,
        asks=f"a dict from seed to test accuracy, {{{CHAPTER_SEED}: cnn_test_accuracy, 1: ..., 2: ...}}")


# --- the parameter count -------------------------------------------------------------------------


def _weighted_layers(network):
    """(layer, kernel shape, has a bias) for every layer of a Keras model that has a kernel, in order."""
    found = []
    for layer in network.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            found.append((layer, tuple(int(size) for size in kernel.shape), getattr(layer, "bias", None) is not None))
    return found


def _count(network, bias=True, input_channels=True, skip_last_pooling=False):
    """The parameters of ``network`` counted from its kernel shapes, or with one of the known mistakes.

    ``bias=False`` leaves the biases out, ``input_channels=False`` counts a
    convolution's kernel as kh x kw x C_out, and ``skip_last_pooling=True``
    gives the first Dense layer after the convolutions the last convolution's
    output (before its pooling) as input.
    """
    total, last_conv_output = 0, None
    for layer, shape, has_bias in _weighted_layers(network):
        if len(shape) == 4:
            last_conv_output = int(np.prod(tuple(layer.output.shape)[1:]))
            weights = int(np.prod(shape)) if input_channels else shape[0] * shape[1] * shape[3]
        elif skip_last_pooling and last_conv_output is not None:
            weights, last_conv_output = last_conv_output * shape[-1], None
        else:
            weights = int(np.prod(shape))
        total += weights + (shape[-1] if has_bias and bias else 0)
    return total


def _largest(network, key):
    return max(_weighted_layers(network), key=key)[0].name


def _multiplications(entry):
    """Multiply-accumulates of one layer per image: each weight once per output position."""
    layer, shape, _ = entry
    positions = int(np.prod(tuple(layer.output.shape)[1:-1])) if len(shape) == 4 else 1
    return positions * int(np.prod(shape))


def check_mnist_parameters(answer, network):
    """Check the parameter count of the chapter's Keras CNN and the layer that holds the most.

    The exercise "Count the parameters" of the chapter "MNIST: from one Dense
    layer to a CNN". The answer is ``(total, name)``: the number of
    parameters counted by hand from the kernel shapes and the name of the
    layer with the most, as Keras names it. The right answer and the wrong
    ones are computed from ``network``'s layers: for each ``Conv2D`` and
    ``Dense``, its kernel's size plus one bias per output channel or unit.
    Recognises the biases forgotten, the input channels of a convolution's
    kernel forgotten, the last pooling forgotten before the hidden Dense
    layer, and the layer that does the most multiplications named instead of
    the one with the most parameters.

    Parameters
    ----------
    answer : tuple of (int, str) or None
        The student's total and layer name.
    network : keras.Model
        The chapter's CNN (``build_cnn()`` or the trained ``cnn``), built.

    Returns
    -------
    bool
    """
    if not hasattr(network, "layers") or not _weighted_layers(network):
        raise TypeError(f"network must be a built Keras model with Conv2D or Dense layers, got {type(network).__name__}")
    total = _count(network)
    largest = _largest(network, key=lambda entry: int(np.prod(entry[1])) + entry[1][-1] * entry[2])
    busiest = _largest(network, key=_multiplications)
    mistakes = [
        ("the biases are left out: each Conv2D filter and each Dense unit also has one bias, so add C_out (or the "
         "number of units) per layer.", (_count(network, bias=False), largest)),
        ("a convolution's input channels are left out: each of its C_out filters is kh x kw x C_in, as deep as "
         "the maps it reads have channels.", (_count(network, input_channels=False), largest)),
        ("the hidden Dense layer's input is counted from the last convolution's maps: it reads them flattened "
         "after the pooling that follows, which halves their height and width.",
         (_count(network, skip_last_pooling=True), largest)),
        (f"the count is right, but {busiest} is the layer that does the most multiplications (each of its weights "
         "is used at every position of its output), not the one that holds the most parameters.", (total, busiest)),
    ]
    return verdict.check_answer(
        "check_mnist_parameters", answer, expected=(total, largest), mistakes=mistakes,
        asks='(total number of parameters, name of the layer that holds the most), e.g. (1000, "conv1")',
        hint="for each Conv2D, kh x kw x C_in x C_out weights plus C_out biases; for each Dense, inputs x units plus "
             "units; pooling, flatten, dropout and the random shift have none.",
        rtol=0.0, atol=0.0)


# --- shifting a digit ----------------------------------------------------------------------------


def _shift_right(images, pixels):
    width = images.shape[2]
    return np.pad(images, ((0, 0), (0, 0), (pixels, 0)))[:, :, :width]


def _shift_cases():
    rng = np.random.default_rng(10)
    return [
        {"images": np.arange(1.0, 13.0).reshape(1, 3, 4), "pixels": 1},
        {"images": rng.integers(1, 10, size=(2, 3, 5)).astype(float), "pixels": 2},
        {"images": rng.integers(1, 10, size=(1, 4, 6)).astype(float), "pixels": 3},
    ]


def check_mnist_shift(function):
    """Check ``function(images, pixels) -> ndarray``: every image moved ``pixels`` columns to the right.

    ``images`` has shape (N, H, W); the result has the same shape, with
    ``pixels`` columns of zeros coming in on the left and the last ``pixels``
    columns dropped. The exercise "Shift a digit" of the chapter "MNIST: from
    one Dense layer to a CNN". Recognises a shift to the left, ``np.roll``
    (the columns wrap around), a shift down (the rows' axis), the last
    columns not dropped, and the first ones dropped instead (no shift).

    Returns
    -------
    bool
    """

    def pad_left(images, pixels):
        return np.pad(images, ((0, 0), (0, 0), (pixels, 0)))

    mistakes = [
        ("the digits move to the left: to move them right, the zeros come in on the left, ((0, 0), (0, 0), "
         "(pixels, 0)), and the last columns are dropped.",
         lambda images, pixels: np.pad(images, ((0, 0), (0, 0), (0, pixels)))[:, :, pixels:]),
        ("the columns that leave on the right come back on the left: that is np.roll. A shifted digit gets zeros "
         "(background) where it came from.", lambda images, pixels: np.roll(images, pixels, axis=2)),
        ("the digits move down: for (N, H, W) images the columns are axis 2; axis 1 is the rows.",
         lambda images, pixels: np.pad(images, ((0, 0), (pixels, 0), (0, 0)))[:, : images.shape[1]]),
        ("the images got wider: after padding on the left, drop the last columns so that they keep their width.",
         pad_left),
        ("nothing moved: after padding on the left, keep the *first* W columns ([:, :, :W]); dropping the first "
         "ones removes the zeros again.", lambda images, pixels: pad_left(images, pixels)[:, :, pixels:]),
    ]
    return verdict.check_function("check_mnist_shift", function, _shift_cases(), _shift_right, mistakes)
