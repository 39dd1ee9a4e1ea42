"""Argument checks shared by every module of the course.

Each check raises a ``TypeError`` (the argument has the wrong kind: a string
where a number belongs) or a ``ValueError`` (the right kind, a wrong value or
shape) whose message names the argument, what it got and what it needs, so that
a reader who passes the wrong array learns what to fix instead of meeting a
broadcast error deep inside NumPy. Every module uses these, so one mistake gets
one message and one exception type wherever it is made.
"""

import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_rank",
    "check_int",
    "check_positive_pair",
    "check_padding_amount",
    "check_padding",
    "check_rate",
    "check_bool",
    "check_name",
    "check_class_labels",
    "check_conv_operands",
    "check_dense_operands",
    "check_bias",
    "PADDING_WORDS",
]

PADDING_WORDS = ("valid", "same")


def as_float_array(value, name):
    """Return ``value`` as a floating-point ndarray, refusing non-numeric input.

    Integer and boolean arrays (an MNIST image is ``uint8``) become ``float64``
    so that sums of products cannot wrap around; float arrays keep their dtype.

    Parameters
    ----------
    value : array_like
        The argument to convert.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    ndarray
        A floating-point array with the same shape as ``value``.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    raise TypeError(f"{name} must be a numeric array, got an array of dtype {array.dtype}")


def check_rank(array, rank, name, layout):
    """Raise ``ValueError`` unless ``array`` has ``rank`` dimensions.

    Parameters
    ----------
    array : ndarray
        The array to check.
    rank : int or tuple of int
        The number of dimensions accepted.
    name : str
        The argument's name, used in the message.
    layout : str
        The shape it needs, spelled for a reader, e.g. ``"(N, H, W, C)"``.
    """
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    if array.ndim not in ranks:
        raise ValueError(
            f"{name} must have shape {layout} ({' or '.join(map(str, ranks))} dimensions), "
            f"got shape {array.shape}"
        )


def _is_whole_number(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int_pair(value, name, minimum, too_small):
    """``value`` as a pair of ints of at least ``minimum`` (an int is the same along height and width)."""
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2 or not all(_is_whole_number(v) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints (height, width), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(too_small)
    return int(pair[0]), int(pair[1])


def check_int(value, name, minimum):
    """Return ``value`` as an int, refusing floats, bools and values below ``minimum``.

    Parameters
    ----------
    value : int
        The value to check.
    name : str
        The argument's name, used in error messages.
    minimum : int
        The smallest value accepted.

    Returns
    -------
    int
    """
    if not _is_whole_number(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_positive_pair(value, name):
    """Return ``value`` as a pair of ints that are each at least 1.

    Used for ``stride``, ``kernel_size`` and ``pool_size``, which take an int
    (the same along height and width) or a ``(height, width)`` pair.

    Parameters
    ----------
    value : int or tuple of (int, int)
        The value to check.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    tuple of (int, int)
    """
    return _int_pair(value, name, 1, f"{name} must be at least 1 in each direction, got {value!r}")


def check_padding_amount(value, name="padding"):
    """Return an explicit padding as a pair of non-negative ints ``(ph, pw)``.

    Parameters
    ----------
    value : int or tuple of (int, int)
        Zero-padding added on *each* side: ``p`` rows above and below, ``p``
        columns left and right.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    tuple of (int, int)
    """
    return _int_pair(value, name, 0, f"{name} must not be negative, got {value!r}")


def check_padding(padding, allow_amount=True, name="padding"):
    """Return ``padding`` checked: a word, or (if ``allow_amount``) an explicit amount.

    Parameters
    ----------
    padding : {"valid", "same"}, int or tuple of (int, int)
        ``"valid"`` (no zeros), ``"same"`` (TensorFlow's rule) or, for
        convolutions, zeros on each side: ``p`` or ``(ph, pw)``.
    allow_amount : bool, default True
        False for pooling, which takes only ``"valid"`` or ``"same"``, as in Keras.
    name : str, default "padding"

    Returns
    -------
    str or tuple of (int, int)
        The word, or the amount as a pair ``(ph, pw)``.
    """
    if isinstance(padding, str):
        if padding in PADDING_WORDS:
            return padding
        needs = "'valid', 'same', an int or a pair of ints (height, width)" if allow_amount else "'valid' or 'same' for pooling"
        raise ValueError(f"{name} must be {needs}, got {padding!r}")
    if not allow_amount:
        raise ValueError(f"{name} must be 'valid' or 'same' for pooling, got {padding!r}")
    try:
        return check_padding_amount(padding, name)
    except TypeError:
        raise TypeError(f"{name} must be 'valid', 'same', an int or a pair of ints (height, width), got {padding!r}") from None


def check_rate(rate, name="rate"):
    """Return a fraction in ``[0, 1)`` as a float: a dropout rate, or batch norm's momentum.

    Parameters
    ----------
    rate : float
        The probability of dropping a unit, or the share of the old running
        statistics a batch norm keeps at each step.
    name : str, default "rate"
        The argument's name, for the error message.

    Returns
    -------
    float
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{name} must be a float in [0, 1), got {rate!r}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{name} must be a float in [0, 1), got {rate!r}")
    return float(rate)


def check_bool(value, name):
    """Return ``value`` if it is a bool (``True`` or ``False``), else raise a ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_name(name):
    """Return a layer's ``name``: a non-empty str, or None for the default."""
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"name must be a non-empty str or None, got {name!r}")
    return name


def check_class_labels(labels, count, classes, scores_name):
    """Return ``labels`` checked against scores of shape ``(count, classes)``.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        True classes, in ``0 .. K - 1``.
    count, classes : int
        ``N`` and ``K`` of the scores the labels go with.
    scores_name : str
        The name of those scores (``"logits"``, ``"probabilities"``) for messages.

    Returns
    -------
    ndarray of int, shape (N,)
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array of class indices, got an array of dtype {labels.dtype}")
    if labels.shape != (count,):
        raise ValueError(
            f"labels must have shape (N,) = ({count},) to match {scores_name} of shape ({count}, {classes}), "
            f"got shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"labels must be class indices in 0 .. {classes - 1} (K = {classes}), got {bad}")
    return labels


def check_conv_operands(x, kernel):
    """Return a batch and a kernel of a convolution, as float arrays whose channels agree.

    Parameters
    ----------
    x : array_like of shape (N, H, W, C_in)
    kernel : array_like of shape (kh, kw, C_in, C_out)

    Returns
    -------
    x, kernel : ndarray
    """
    x, kernel = _matching_operands(x, "(N, H, W, C_in)", kernel, "kernel", "(kh, kw, C_in, C_out)", "C_in")
    kh, kw, _, c_out = kernel.shape
    if min(kh, kw, c_out) < 1:
        raise ValueError(f"kernel must have kh, kw and C_out of at least 1, got shape {kernel.shape}")
    return x, kernel


def check_dense_operands(x, weights):
    """Return the input and the weights of a dense layer, as float arrays whose sizes agree.

    Parameters
    ----------
    x : array_like of shape (N, D_in)
    weights : array_like of shape (D_in, D_out)

    Returns
    -------
    x, weights : ndarray
    """
    return _matching_operands(x, "(N, D_in)", weights, "weights", "(D_in, D_out)", "D_in")


def check_bias(bias, c_out):
    """Return None, or ``bias`` as a float array of shape ``(C_out,)``."""
    if bias is None:
        return None
    bias = as_float_array(bias, "bias")
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have shape (C_out,) = ({c_out},), got shape {bias.shape}")
    return bias


def _matching_operands(x, x_layout, weights, weights_name, weights_layout, size_name):
    """Check ranks, and that the input's last axis is the weights' second-to-last (C_in or D_in)."""
    x, weights = as_float_array(x, "x"), as_float_array(weights, weights_name)
    check_rank(x, x_layout.count(",") + 1, "x", x_layout)
    check_rank(weights, weights_layout.count(",") + 1, weights_name, weights_layout)
    if weights.shape[-2] != x.shape[-1]:
        raise ValueError(
            f"{weights_name} must have shape {weights_layout} with {size_name} = {x.shape[-1]} to match "
            f"x of shape {x.shape}, got {weights_name} of shape {weights.shape}"
        )
    return x, weights
