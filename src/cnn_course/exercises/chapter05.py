"""The exercise checks of the chapter "Pooling": pooling by hand, output sizes, ReLU order, pooling as a kernel.

Exercises that ask for several values at once take a tuple, and their
checks check each part on its own with
:func:`cnn_course.exercises.verdict.check_parts`: the verdict says which
parts are right and names the mistake in each wrong one, without showing
any right value. The answer checks:

- :func:`check_pooling_by_hand`: ``(max 2x2, average 2x2, max 3x3, global average)`` of a small map;
- :func:`check_pooling_overlap`: ``("valid" size, "same" size)`` of 3 x 3 pooling with stride 2;
- :func:`check_pooling_relu_order`: ``("yes"/"no", "yes"/"no", window)``: does ReLU commute with pooling;
- :func:`check_pooling_as_convolution`: the kernel that makes a convolution a 2 x 2 average pooling.
"""

import numpy as np

from cnn_course import checks, ops
from cnn_course.exercises import verdict

__all__ = [
    "check_pooling_by_hand",
    "check_pooling_overlap",
    "check_pooling_relu_order",
    "check_pooling_as_convolution",
]


def _one_map(feature_map):
    """A feature map as the course's (1, H, W, 1) batch, from (H, W) or (1, H, W, 1)."""
    feature_map = checks.as_float_array(feature_map, "feature_map")
    checks.check_rank(feature_map, (2, 4), "feature_map", "(H, W) or (1, H, W, 1)")
    if feature_map.ndim == 2:
        return feature_map[np.newaxis, :, :, np.newaxis]
    if feature_map.shape[0] != 1 or feature_map.shape[3] != 1:
        raise ValueError(f"feature_map must have shape (H, W) or (1, H, W, 1), got shape {feature_map.shape}")
    return feature_map


def check_pooling_by_hand(answer, feature_map):
    """Check exercise ex-pooling-by-hand: four poolings of a small map, worked out on paper.

    Introduced in the chapter "Pooling".

    Parameters
    ----------
    answer : tuple of (ndarray of shape (H', W'), ndarray of shape (H', W'), ndarray of shape (H'', W''), float) or None
        ``(max_2x2, average_2x2, max_3x3, global_average)``: 2 x 2 max and
        average pooling with stride 2, 3 x 3 max pooling with stride 1 (each a
        2-D array, or a list of lists), and the map's global average.
    feature_map : ndarray of shape (H, W) or (1, H, W, 1)
        The exercise's map. The expected values come from ``ops``.

    Recognises, in (a), the minimum, the largest absolute value, overlapping
    windows and swapped windows; in (b), the sums, negative values left out
    and swapped windows; in (c), the stride taken as the pool size and "same"
    padding; in (d), the sum, the mean of the maxima and the global maximum.

    Returns
    -------
    bool
    """
    x = _one_map(feature_map)

    def plane(pooled):
        return pooled[0, :, :, 0]

    max_2x2, average_2x2 = plane(ops.max_pool2d(x, 2)), plane(ops.avg_pool2d(x, 2))
    max_3x3 = plane(ops.max_pool2d(x, 3, stride=1))
    global_average = float(ops.global_avg_pool2d(x)[0, 0])
    swapped = ("the windows are swapped: output [i, j] comes from rows 2i and 2i + 1 and columns 2j and 2j + 1, so "
               "the top-right window gives the top-right value.")
    parts = [
        ("(a) max 2x2", dict(
            expected=max_2x2, asks="2 x 2 max pooling with stride 2, a 2-D array such as [[a, b], [c, d]]",
            hint="cut the map into 2 x 2 windows that do not overlap, and keep each window's largest number.",
            mistakes=[
                ("that keeps the smallest number of each window: max pooling keeps the largest.",
                 -plane(ops.max_pool2d(-x, 2))),
                ("that compares sizes without the sign: max pooling keeps the largest value, and a negative number "
                 "is smaller than any positive one.", plane(ops.max_pool2d(np.abs(x), 2))),
                ("the windows overlap: with stride 2 the window moves by two cells, so the 2 x 2 windows tile the "
                 "map without overlapping.", plane(ops.max_pool2d(x, 2, stride=1))),
                (swapped, max_2x2.T),
            ])),
        ("(b) average 2x2", dict(
            expected=average_2x2, asks="2 x 2 average pooling with stride 2, a 2-D array",
            hint="the same four windows as in (a); keep each window's mean.",
            mistakes=[
                ("these are the windows' sums: the average divides each sum by the 4 cells of the window.",
                 average_2x2 * 4),
                ("the negative numbers are left out: every cell counts in the mean, with its sign.",
                 plane(ops.avg_pool2d(np.maximum(x, 0), 2))),
                (swapped, average_2x2.T),
            ])),
        ("(c) max 3x3, stride 1", dict(
            expected=max_3x3, asks="3 x 3 max pooling with stride 1, a 2-D array",
            hint="with stride 1 the 3 x 3 window moves one cell at a time; the output size follows the formula.",
            mistakes=[
                ("that is a stride of 3, the pool size (the default): here the window moves by one cell, so the "
                 "windows overlap.", plane(ops.max_pool2d(x, 3))),
                ("that is \"same\" pooling, which pads the map: here the pooling is \"valid\", so every window lies "
                 "inside the map.", plane(ops.max_pool2d(x, 3, stride=1, padding="same"))),
            ])),
        ("(d) global average", dict(
            expected=global_average, asks="the global average, a number",
            hint="the mean of all the numbers of the map.",
            mistakes=[
                ("that is the sum of the map: the average divides it by the number of cells.", float(x.sum())),
                ("that is the mean of the maxima of (a): global average pooling averages every cell of the map.",
                 float(max_2x2.mean())),
                ("that is the global maximum: global *average* pooling takes the mean.",
                 float(ops.global_max_pool2d(x)[0, 0])),
            ])),
    ]
    return verdict.check_parts("check_pooling_by_hand", answer, parts,
                               asks="a tuple (max 2x2, average 2x2, max 3x3, global average): three 2-D arrays, such as "
                                    "[[a, b], [c, d]], and a number")


def check_pooling_overlap(answer):
    """Check exercise ex-pooling-overlap: 3 x 3 pooling with stride 2 on a 13 x 13 map.

    Introduced in the chapter "Pooling".

    Parameters
    ----------
    answer : tuple of (int, int) or None
        ``(valid_size, same_size)``: the output's height (and width) with
        "valid" and with "same" padding. The expected values come from
        ``ops.max_pool2d`` on a map of that size.

    Recognises, for "valid", the ``+ 1`` missing, the stride ignored and the
    stride taken as the pool size; for "same", the size of the input, the
    division rounded down and the stride taken as the pool size.

    Returns
    -------
    bool
    """
    side, pool_size, stride = 13, 3, 2
    x = np.zeros((1, side, side, 1))

    def size(pool_stride, padding):
        return ops.max_pool2d(x, pool_size, stride=pool_stride, padding=padding).shape[1]

    valid, same = size(stride, "valid"), size(stride, "same")
    pool_as_stride = ("the windows move by the stride, 2 here, not by their size: the stride is the pool size only "
                      "when no stride is given.")
    parts = [
        ("\"valid\"", dict(
            expected=valid, asks="the output size with \"valid\" padding, a whole number",
            hint="floor((n + 2p - k) / s) + 1, with p = 0.",
            mistakes=[
                ("the `+ 1` is missing: the first window counts too, floor((n - k) / s) + 1.",
                 ops.conv_output_size(side, pool_size, stride, 0) - 1),
                ("the stride is ignored: with stride 2 the window skips every other position.", size(1, "valid")),
                (pool_as_stride, size(None, "valid")),
            ])),
        ("\"same\"", dict(
            expected=same, asks="the output size with \"same\" padding, a whole number",
            hint="\"same\" padding gives ceil(n / s) outputs.",
            mistakes=[
                ("that is the size of the input: \"same\" keeps it only with stride 1; with stride s it gives "
                 "ceil(n / s).", size(1, "same")),
                ("the division is rounded down: \"same\" pads so that the last cells get a window too, "
                 "ceil(n / s).", side // stride),
                (pool_as_stride, size(None, "same")),
            ])),
    ]
    return verdict.check_parts("check_pooling_overlap", answer, parts, asks="a tuple (\"valid\" size, \"same\" size) of two numbers")


def check_pooling_relu_order(answer):
    """Check exercise ex-pooling-relu-order: does ReLU commute with max pooling, and with average pooling?

    Introduced in the chapter "Pooling". The expected words come from
    comparing the two orders with ``ops`` on random maps.

    Parameters
    ----------
    answer : tuple of (str, str, array_like of shape (2, 2)) or None
        ``(max_same, average_same, window)``: ``"yes"`` or ``"no"``, do ReLU
        then pooling and pooling then ReLU always agree for max pooling, and
        for average pooling; and a 2 x 2 window on which the two orders of
        2 x 2 average pooling differ (many are right).

    Recognises "no" for max pooling, "yes" for average pooling, and a window
    without a negative or without a positive number.

    Returns
    -------
    bool
    """
    maps = np.random.default_rng(5).normal(size=(8, 6, 6, 3))

    def orders_agree(pool, x):
        return bool(np.allclose(pool(ops.relu(x), 2), ops.relu(pool(x, 2)), rtol=verdict.TOLERANCE, atol=verdict.TOLERANCE))

    def word(pool):
        return "yes" if orders_agree(pool, maps) else "no"

    def other(word):
        return "no" if word == "yes" else "yes"

    max_same, average_same = word(ops.max_pool2d), word(ops.avg_pool2d)

    def judge_window(window):
        window = np.asarray(window, dtype=float)
        if window.shape != (2, 2):
            return f"the window has shape {window.shape}: it must be 2 x 2, such as [[a, b], [c, d]]."
        if not orders_agree(ops.avg_pool2d, window[np.newaxis, :, :, np.newaxis]):
            return None
        if window.min() >= 0:
            return ("No number in it is negative, so the ReLU changes nothing and both orders agree: the window "
                    "needs a negative number.")
        if window.max() <= 0:
            return "No number in it is positive, so both orders give 0: the window needs a positive number too."
        return "On this window both orders give the same result: try another."

    parts = [
        ("max pooling", dict(
            expected=max_same, asks="\"yes\" or \"no\": do the two orders always agree for max pooling?",
            mistakes=[
                ("the ReLU never changes the order of two numbers (if a <= b, then relu(a) <= relu(b)), so the "
                 "largest number of a window is still the largest after it.", other(max_same)),
            ])),
        ("average pooling", dict(
            expected=average_same, asks="\"yes\" or \"no\": do the two orders always agree for average pooling?",
            mistakes=[
                ("try a window with a negative and a positive number: the ReLU removes the negative one before the "
                 "mean, but after the mean it only sees their average.", other(average_same)),
            ])),
        ("window", dict(
            judge=judge_window, asks="a 2 x 2 window, such as [[a, b], [c, d]], on which the two orders of average "
                                     "pooling differ")),
    ]
    return verdict.check_parts("check_pooling_relu_order", answer, parts,
                               asks='a tuple ("yes" or "no" for max pooling, "yes" or "no" for average pooling, a 2 x 2 window)')


def check_pooling_as_convolution(answer, edge_maps):
    """Check exercise ex-pooling-as-convolution: the kernel that makes ``ops.conv2d`` a 2 x 2 average pooling.

    Introduced in the chapter "Pooling". Average pooling is linear, so the
    expected kernel is read off ``ops.avg_pool2d`` itself: its output for an
    input with a single 1 at ``(u, v, c)`` is ``kernel[u, v, c, :]``.

    Parameters
    ----------
    answer : ndarray of shape (2, 2, C, C) or None
        The kernel, ``(kh, kw, C_in, C_out)``, for which
        ``ops.conv2d(edge_maps, kernel, stride=2)`` equals
        ``ops.avg_pool2d(edge_maps, 2)``.
    edge_maps : ndarray of shape (N, H, W, C)
        The chapter's edge maps; only their number of channels is used.

    Recognises 1/4 on every weight (channels mixed), the mean over the window
    and the channels, the window's sum instead of its mean, and one cell of
    each window kept (subsampling).

    Returns
    -------
    bool
    """
    edge_maps = checks.as_float_array(edge_maps, "edge_maps")
    checks.check_rank(edge_maps, 4, "edge_maps", "(N, H, W, C)")
    pool, channels = 2, edge_maps.shape[3]
    size = pool * pool * channels
    basis = np.eye(size).reshape(size, pool, pool, channels)        # basis[(u, v, c)] has one 1, at (u, v, c)
    expected = ops.avg_pool2d(basis, pool).reshape(pool, pool, channels, channels)
    weight = expected.max()                                         # the weight of each cell in its own channel
    top_left = np.zeros_like(expected)
    top_left[0, 0] = expected.sum(axis=(0, 1))
    mistakes = [
        ("every weight is the same, so each output channel averages all four input channels together. Pooling "
         "never mixes channels: every weight between two different channels must be 0.", np.full_like(expected, weight)),
        ("that averages over the window and all the channels at once: output channel k must average the window of "
         "input channel k only.", np.full_like(expected, 1 / size)),
        ("that is the window's sum: the mean divides it by the window's 4 cells.", expected / weight),
        ("that keeps one cell of each window (subsampling): the average weighs all four cells of the window equally.",
         top_left),
    ]
    return verdict.check_answer("check_pooling_as_convolution", answer, expected=expected, mistakes=mistakes,
                                asks=f"a kernel of shape {expected.shape}, (kh, kw, C_in, C_out)",
                                hint="kernel[u, v, c, k] is the weight of cell (u, v) of input channel c in output "
                                     "channel k.")
