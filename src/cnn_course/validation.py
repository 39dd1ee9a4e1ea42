"""Argument checks shared by every operation of the course.

Each check raises a ``TypeError`` or ``ValueError`` whose message names the
argument, what it got and what it needs, so that a reader who passes the wrong
array learns what to fix instead of meeting a broadcast error deep inside NumPy.
"""

import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_rank",
    "check_int",
    "check_positive_pair",
    "check_padding_amount",
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
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2 or not all(_is_whole_number(v) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints (height, width), got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{name} must be at least 1 in each direction, got {value!r}")
    return int(pair[0]), int(pair[1])


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
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2 or not all(_is_whole_number(v) for v in pair):
        raise TypeError(
            f"{name} must be 'valid', 'same', an int or a pair of ints (height, width), "
            f"got {value!r}"
        )
    if min(pair) < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return int(pair[0]), int(pair[1])
