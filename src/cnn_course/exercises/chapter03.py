"""The exercise checks of the chapter "Padding and stride".

Two function checks, :func:`check_conv_output_size` and :func:`check_pad2d`,
and :func:`check_receptive_field` for the recurrence of the receptive field;
the answer checks read what the student worked out by hand: the padding that
keeps the size (:func:`check_padding_keep`), the output sizes of a stride-2
layer (:func:`check_padding_halve`), where TensorFlow's "same" zeros go
(:func:`check_padding_tensorflow`), the pixels no window reaches
(:func:`check_padding_unused`), sizes and receptive fields of a small stack
(:func:`check_padding_receptive`) and dilated sizes
(:func:`check_padding_dilation`). Every answer is computed from the
exercise's numbers: the right one with the course's own functions, each
known wrong one with the mistaken rule, so none is typed in.

An answer of several numbers is checked with
:func:`cnn_course.exercises.verdict.check_parts`: a known mistake of the
whole answer is named; otherwise the verdict says which parts (each kernel,
image size, dilation or layer) are right and judges each other one on its
own, naming a mistake made in that part alone where the parts are worked out
independently.
"""

import numpy as np

from cnn_course import convolution, layers, model
from cnn_course.exercises import verdict

__all__ = [
    "check_conv_output_size",
    "check_pad2d",
    "check_padding_keep",
    "check_padding_halve",
    "check_padding_tensorflow",
    "check_padding_unused",
    "check_padding_receptive",
    "check_padding_dilation",
    "check_receptive_field",
]


# --- chapter 3: output size and padding ---------------------------------------------------------

_SIZE_CASES = [
    {"size": 5, "kernel_size": 3, "stride": 1, "padding": 0},
    {"size": 5, "kernel_size": 3, "stride": 1, "padding": 1},
    {"size": 7, "kernel_size": 3, "stride": 2, "padding": 0},
    {"size": 6, "kernel_size": 3, "stride": 2, "padding": 0},
    {"size": 7, "kernel_size": 3, "stride": 2, "padding": 1},
    {"size": 28, "kernel_size": 5, "stride": 2, "padding": 2},
    {"size": 32, "kernel_size": 4, "stride": 3, "padding": 1},
    {"size": 10, "kernel_size": 10, "stride": 4, "padding": 0},
]


def _output_size(size, kernel_size, stride, padding):
    return convolution.conv_output_size(size, kernel_size, stride, padding)


def check_conv_output_size(function):
    """Check ``function(size, kernel_size, stride, padding) -> int``: ``floor((n + 2p - k) / s) + 1``.

    Introduced in the chapter "Padding and stride". Recognises a missing
    ``+ 1``, padding ignored or counted on one side only, true division and
    rounding up.

    Returns
    -------
    bool
        True if every case passes.
    """

    def not_an_int(case, received):
        if isinstance(received, (bool, np.bool_)) or not isinstance(received, (int, np.integer)):
            if isinstance(received, (float, np.floating)) and float(received) == _output_size(**case):
                return ("the value is right but it is a float: an output size is a whole number; use floor "
                        "division, //, so that the result is an int.")
            return None
        return None

    mistakes = [
        ("the `+ 1` is missing: the first window counts too, so a kernel as wide as the input still gives one "
         "output, (n + 2p - k) // s + 1.", lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) // stride),
        ("the padding is ignored: padding p adds p cells on *both* sides, so the input is n + 2p wide.",
         lambda size, kernel_size, stride, padding: (size - kernel_size) // stride + 1),
        ("the padding is counted once: it goes on both sides, n + 2p.",
         lambda size, kernel_size, stride, padding: (size + padding - kernel_size) // stride + 1),
        ("the division is rounded up: a window that would stick out past the border is not taken, so it is floor "
         "division, //.", lambda size, kernel_size, stride, padding: -(-(size + 2 * padding - kernel_size) // stride) + 1),
        ("the `+ 1` is inside the division: it counts the first window, after dividing the remaining distance by the "
         "stride: (n + 2p - k) // s + 1.", lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size + 1) // stride),
        ("true division, /, gives a fraction where a window does not fit: use //.",
         lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) / stride + 1),
    ]
    return verdict.check_function("check_conv_output_size", function, _SIZE_CASES, _output_size, mistakes, extra_check=not_an_int)


def _pad_cases():
    rng = np.random.default_rng(3)
    return [
        {"x": rng.integers(1, 10, size=(1, 2, 2, 1)).astype(float), "padding": 1},
        {"x": rng.integers(1, 10, size=(1, 3, 2, 2)).astype(float), "padding": 1},
        {"x": rng.integers(1, 10, size=(2, 3, 4, 3)).astype(float), "padding": 2},
        {"x": rng.integers(1, 10, size=(2, 2, 2, 1)).astype(float), "padding": 0},
    ]


def check_pad2d(function):
    """Check ``function(x, padding) -> ndarray``: ``padding`` zeros around the height and width of ``x``.

    ``x`` has shape (N, H, W, C) and ``padding`` is an int; the result has
    shape (N, H + 2p, W + 2p, C). Introduced in the chapter "Padding and
    stride". Recognises padding on the batch or channel axes, on one side
    only, and padding with something other than zeros.

    Returns
    -------
    bool
    """
    mistakes = [
        ("every axis is padded, the batch and the channels too: only height and width get zeros, "
         "np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))).", lambda x, padding: np.pad(x, padding)),
        ("the width and the channels are padded instead of the height and the width: that is the layout of a "
         "channels-first (N, C, H, W) array; the course's arrays are (N, H, W, C).",
         lambda x, padding: np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))),
        ("the batch and the height are padded: the spatial axes of (N, H, W, C) are 1 and 2.",
         lambda x, padding: np.pad(x, ((padding, padding), (padding, padding), (0, 0), (0, 0)))),
        ("the zeros go on one side only: padding p puts p zeros before *and* p after each spatial axis.",
         lambda x, padding: np.pad(x, ((0, 0), (0, 2 * padding), (0, 2 * padding), (0, 0)))),
    ]

    def border(case, received):
        expected = convolution.pad2d(case["x"], case["padding"])
        received = np.asarray(received, dtype=float)
        p = case["padding"]
        inside = (slice(None), slice(p, received.shape[1] - p), slice(p, received.shape[2] - p), slice(None))
        if received.shape == expected.shape and np.array_equal(received[inside], case["x"]) and not np.array_equal(received, expected):
            return "the image is in the right place but the border is not zero: zero padding writes 0 in the border."
        return None

    return verdict.check_function("check_pad2d", function, _pad_cases(), lambda x, padding: convolution.pad2d(x, padding), mistakes,
                    extra_check=border)


# --- chapter 3: answers worked out by hand ------------------------------------------------------


def _part_mistakes(mistakes, index):
    """Item ``index`` of each whole wrong answer, as a mistake of that part alone.

    For answers whose parts are worked out independently (one per kernel,
    per image size, per dilation), where a mistake made in one part only is
    still that mistake.
    """
    return [(explanation, wrong[index]) for explanation, wrong in mistakes]


def _keeping_padding(size, kernel_size, dilation=1):
    """The zeros on each side that keep a stride-1 output at ``size``."""
    return next(p for p in range(size) if convolution.conv_output_size(size, kernel_size, 1, p, dilation) == size)


_KEEP_SIZE, _KEEP_KERNELS = 28, (5, 7)


def check_padding_keep(answer):
    """Check exercise ex-padding-keep: the padding that keeps 28 x 28 under a 5 x 5 and a 7 x 7 kernel.

    Introduced in the chapter "Padding and stride". The answer is a pair of
    ints, ``(p for the 5 x 5 kernel, p for the 7 x 7 kernel)``, the zeros on
    each side at stride 1. Recognises the total number of zeros (``k - 1``,
    also the "full" padding) given instead of the zeros on each side, the
    ``+ 1`` of the output size forgotten (``k / 2``), and the one-pixel
    padding of a 3 x 3 kernel used for every kernel, for both kernels or
    for one.

    Parameters
    ----------
    answer : tuple of (int, int) or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    size, kernels = _KEEP_SIZE, _KEEP_KERNELS
    expected = np.array([_keeping_padding(size, k) for k in kernels])
    totals = np.array([sum(convolution.padding_amounts(size, k, 1, "same")) for k in kernels])
    mistakes = [
        ("that is the total number of zeros along an axis (it is also the 'full' padding, k - 1). Padding p puts "
         "p zeros on *each* side, so the axis grows by 2p.", totals),
        ("the `+ 1` of the output size is missing: solve floor((n + 2p - k) / s) + 1 = n, where the + 1 counts the "
         "window that starts at 0.", (totals + 1) / 2),
        ("one pixel of padding keeps the size only for a 3 x 3 kernel: a k x k kernel loses k - 1 rows and columns "
         "without padding, so a larger kernel needs more zeros.", np.full(len(kernels), _keeping_padding(size, 3))),
    ]
    parts = [(f"p for the {k} x {k} kernel", dict(
        expected=expected[index], mistakes=_part_mistakes(mistakes, index),
        asks=f"the zeros on each side for the {k} x {k} kernel, a whole number",
        hint=f"find the p for which floor(({size} + 2p - {k}) / 1) + 1 = {size}."))
        for index, k in enumerate(kernels)]
    return verdict.check_parts(
        "check_padding_keep", answer, parts, mistakes=mistakes,
        asks=f"a pair (p for the {kernels[0]} x {kernels[0]} kernel, p for the {kernels[1]} x {kernels[1]} kernel), "
             "the zeros on each side")


_HALVE = {"size": 28, "kernel_size": 3, "stride": 2, "paddings": (0, 1)}


def check_padding_halve(answer):
    """Check exercise ex-padding-halve: a 3 x 3 kernel with stride 2 on 28 x 28, without padding and with padding 1.

    Introduced in the chapter "Padding and stride". The answer is three
    numbers, ``(output size without padding, output size with padding 1, the
    padding that halves the image exactly: 0 or 1)``. Recognises the missing
    ``+ 1``, the division rounded up, the stride forgotten and true division
    (a fraction) in the output sizes, whatever the third number (in both
    sizes or in one), and the wrong padding named as the one that halves.

    Parameters
    ----------
    answer : tuple of (int, int, int) or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    n, k, s, paddings = _HALVE["size"], _HALVE["kernel_size"], _HALVE["stride"], _HALVE["paddings"]
    sizes = [convolution.conv_output_size(n, k, s, p) for p in paddings]
    halving = next(p for p, size in zip(paddings, sizes) if size * s == n)
    expected = np.array([*sizes, halving])
    wrong_sizes = [
        ("the `+ 1` is missing: after floor((n + 2p - k) / s), add one for the window that starts at 0.",
         lambda p: (n + 2 * p - k) // s),
        ("the division is rounded up: a window that would stick out past the border is not taken, so it is "
         "floor((n + 2p - k) / s) + 1.", lambda p: -(-(n + 2 * p - k) // s) + 1),
        ("the stride is left out: with stride s the kernel jumps s pixels, so the distance n + 2p - k is divided "
         "by s before the + 1.", lambda p: convolution.conv_output_size(n, k, 1, p)),
        ("an output size is a whole number of windows: the division is floor division, floor((n + 2p - k) / s) + 1.",
         lambda p: (n + 2 * p - k) / s + 1),
    ]
    mistakes = []
    for explanation, size_of in wrong_sizes:
        wrong = [size_of(p) for p in paddings]
        if not np.allclose(wrong, sizes):
            mistakes += [(explanation, np.array([*wrong, p])) for p in paddings]
    other_padding = [("the two output sizes are right, but the other padding halves the image: exactly half means the "
                      f"output size times {s} is {n}.", p) for p in paddings if p != halving]
    mistakes += [(explanation, np.array([*sizes, p])) for explanation, p in other_padding]
    labels = ["the output size without padding", "the output size with padding 1"]
    parts = [(label, dict(expected=size, mistakes=[(explanation, size_of(p)) for explanation, size_of in wrong_sizes],
                          asks=f"{label}, a whole number", hint=f"use floor((n + 2p - k) / s) + 1 with p = {p}."))
             for label, size, p in zip(labels, sizes, paddings)]
    parts.append(("the padding that halves", dict(
        expected=halving, mistakes=other_padding, asks="the padding that halves the image exactly, 0 or 1",
        hint=f"exactly half means the output size times {s} is {n}.")))
    return verdict.check_parts(
        "check_padding_halve", answer, parts, mistakes=mistakes,
        asks="three numbers (output size without padding, output size with padding 1, the padding that halves "
             "the image exactly: 0 or 1)")


_TENSORFLOW = {"sizes": (7, 8), "kernel_size": 3, "stride": 2}


def _split(total):
    """A total number of zeros split as TensorFlow does: half before, the odd extra one after."""
    return total // 2, total - total // 2


def check_padding_tensorflow(answer):
    """Check exercise ex-padding-tensorflow: TensorFlow's "same" with a 3 x 3 kernel and stride 2, on 7 x 7 and 8 x 8.

    Introduced in the chapter "Padding and stride". The answer is a list of
    two triples, ``[(output size, zeros above, zeros below) for n = 7, (the
    same) for n = 8]``. Recognises the odd extra zero put at the top, the
    stride-1 rule ``(k - 1) / 2`` on each side used with a stride, "same"
    taken to keep the size ``n``, the output ``n / s`` rounded down, and
    "valid" padding (no zeros), for both sizes or for one.

    Parameters
    ----------
    answer : list of two (int, int, int) or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    sizes, k, s = _TENSORFLOW["sizes"], _TENSORFLOW["kernel_size"], _TENSORFLOW["stride"]
    expected = np.array([(convolution.conv_output_size(n, k, s, "same"), *convolution.padding_amounts(n, k, s, "same"))
                         for n in sizes])
    stride_one = [convolution.padding_amounts(n, k, 1, "same") for n in sizes]

    def for_output(out_of):
        # The zeros TensorFlow would need for out_of(n) windows, split its way.
        return np.array([(out_of(n), *_split(max((out_of(n) - 1) * s + k - n, 0))) for n in sizes])

    mistakes = [
        ("the odd extra zero goes after: TensorFlow puts it at the bottom (and on the right), not at the top.",
         expected[:, [0, 2, 1]]),
        ("that is 'same' at stride 1, (k - 1) / 2 zeros on each side, whatever the stride. With a stride, TensorFlow "
         "first fixes the output size, ceil(n / s), then adds just enough zeros for that many windows.",
         np.array([(convolution.conv_output_size(n, k, s, pads[0]), *pads) for n, pads in zip(sizes, stride_one)])),
        ("'same' keeps the size only at stride 1: with stride s TensorFlow's 'same' gives ceil(n / s) outputs.",
         for_output(lambda n: n)),
        ("the output size n / s is rounded down: TensorFlow's 'same' rounds it up, ceil(n / s), so that every "
         "input pixel is in some window.", for_output(lambda n: n // s)),
        ("that is 'valid' padding, no zeros at all: 'same' adds zeros so that the output has ceil(n / s) cells.",
         np.array([(convolution.conv_output_size(n, k, s, "valid"), 0, 0) for n in sizes])),
    ]
    parts = [(f"for n = {n}", dict(
        expected=row, mistakes=_part_mistakes(mistakes, index),
        asks=f"(output size, zeros above, zeros below) for n = {n}, three whole numbers",
        hint="the output is ceil(n / s); its windows span (out - 1) s + k cells, and the missing ones are zeros."))
        for index, (n, row) in enumerate(zip(sizes, expected))]
    return verdict.check_parts(
        "check_padding_tensorflow", answer, parts, mistakes=mistakes,
        asks=f"a list of two triples, [(output size, zeros above, zeros below) for n = {sizes[0]}, "
             f"(output size, zeros above, zeros below) for n = {sizes[1]}]")


_UNUSED = {"size": 10, "kernel_size": 3, "stride": 3}


def _rows_in_no_window(size, kernel_size, stride, windows=None):
    """The rows (counted from 0) that none of the first ``windows`` windows along the axis covers."""
    rows = np.broadcast_to(np.arange(size, dtype=float)[np.newaxis, :, np.newaxis, np.newaxis], (1, size, size, 1))
    view = convolution.window_view(rows, kernel_size, stride=stride)   # (1, H', W', kh, kw, 1): each window's row numbers
    used = set(view[0, :windows, 0, :, 0, 0].ravel().astype(int).tolist())
    return sorted(set(range(size)) - used)


def _as_row_list(answer):
    """The answer as a sorted list of distinct ints, or the answer unchanged if it is not a collection of whole numbers."""
    try:
        if isinstance(answer, (set, frozenset)):
            values = list(answer)
        elif isinstance(answer, (str, dict)):
            return answer
        elif np.ndim(answer) == 0:
            values = [answer]
        else:
            values = np.asarray(answer).ravel().tolist()
        if any(isinstance(value, (str, bool)) or not float(value).is_integer() for value in values):
            return answer
    except (TypeError, ValueError):
        return answer
    return sorted({int(value) for value in values})


def check_padding_unused(answer):
    """Check exercise ex-padding-unused: the rows a 3 x 3 kernel with stride 3 never reaches on a 10 x 10 image.

    Introduced in the chapter "Padding and stride". The answer is a list of
    the row numbers, counted from 0, that no window covers (the columns are
    the same); any order, a set or a single int also do. Recognises rows
    counted from 1, no row left out (a window sticking out past the border),
    one window too few (the missing ``+ 1``), row 0 named as unused too, and
    windows taken to cover only the row where they start.

    Parameters
    ----------
    answer : list of int or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    n, k, s = _UNUSED["size"], _UNUSED["kernel_size"], _UNUSED["stride"]
    expected = _rows_in_no_window(n, k, s)
    windows = convolution.conv_output_size(n, k, s)
    mistakes = [
        (f"count the rows from 0, as NumPy does: a {n} x {n} image has rows 0 to {n - 1}.", [row + 1 for row in expected]),
        ("some rows are left out: every row would be used only if a window stuck out past the border, and such a "
         "window is not taken (the output size rounds down). List the rows each window covers.", []),
        ("one window is missing: there are floor((n - k) / s) + 1 windows, the + 1 counting the window that starts "
         "at row 0.", _rows_in_no_window(n, k, s, windows - 1)),
        ("row 0 is used: the first window starts there. The rows that are left out are at the end, after the last "
         "window.", sorted({0, *expected})),
        (f"each window covers k = {k} rows, not only the row where it starts.",
         sorted(set(range(n)) - set(range(0, windows * s, s)))),
    ]

    def judge(rows):
        if not isinstance(rows, list) or not all(isinstance(row, int) for row in rows):
            raise TypeError(f"{rows!r} is not a list of row numbers")
        if rows == expected:
            return None
        if any(row < 0 or row >= n for row in rows):
            return f"the rows of a {n} x {n} image are numbered 0 to {n - 1}."
        if set(rows) < set(expected):
            return "every row you list is unused, but some unused rows are missing."
        if set(rows) > set(expected):
            return "every unused row is in your list, but so are rows that a window covers."
        return (f"that is not it. Hint: write down where each window starts (0, {s}, ...) and the {k} rows it "
                "covers; a row in no window is unused.")

    return verdict.check_answer(
        "check_padding_unused", _as_row_list(answer), mistakes=mistakes, judge=judge,
        asks="a list of the row numbers, counted from 0, that no window covers ([] if there are none; the columns "
             "are the same)")


def _receptive_stack():
    """The network of exercise ex-padding-receptive: 3 x 3 convolution, 2 x 2 max pooling, 3 x 3 convolution."""
    return model.Sequential([layers.Conv2D(1, 3), layers.MaxPool2D(2), layers.Conv2D(1, 3)], (28, 28, 1))


def check_padding_receptive(answer):
    """Check exercise ex-padding-receptive: output size, receptive field and jump after each layer of a small stack.

    Introduced in the chapter "Padding and stride". The stack is a 3 x 3
    convolution, a 2 x 2 max pooling with stride 2 and a 3 x 3 convolution on
    a 28 x 28 image, and the answer is a list of three triples,
    ``[(output size, r, j) after each layer]``. Recognises the jump left out of
    the field (``r <- r + k - 1``), the jump updated before the field, the
    pooling window not widening the field, and the ``+ 1`` missing from the
    output sizes.

    Parameters
    ----------
    answer : list of three (int, int, int) or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    network = _receptive_stack()
    records = network.describe()
    expected = np.array([(record.output_shape[0], record.receptive_field[0], record.jump[0]) for record in records])
    windows = [(layer.window()[0][0], layer.window()[1][0]) for layer in network.layers]
    pooling = [record.kind == "MaxPool2D" for record in records]

    def fields(step):
        # The (r, j) after each layer when every layer does step(r, j, span, stride, is_pooling).
        r, j, out = 1, 1, []
        for (span, stride), is_pooling in zip(windows, pooling):
            r, j = step(r, j, span, stride, is_pooling)
            out.append((r, j))
        return np.array(out)

    sizes, right = expected[:, 0], expected[:, 1:]
    no_jump = fields(lambda r, j, span, stride, is_pooling: (r + span - 1, j * stride))
    jump_first = fields(lambda r, j, span, stride, is_pooling: (r + (span - 1) * j * stride, j * stride))
    pooling_flat = fields(lambda r, j, span, stride, is_pooling: (r if is_pooling else r + (span - 1) * j, j * stride))
    short_sizes, size = [], network.input_shape[0]
    for span, stride in windows:
        size = (size - span) // stride
        short_sizes.append(size)
    mistakes = [
        ("the jump is left out of the field: after the pooling, neighbouring cells are j pixels apart, so each "
         "further step of a window adds (k - 1) j pixels, not k - 1.", np.column_stack([sizes, no_jump])),
        ("the jump is left out of the field: after the pooling, neighbouring cells are j pixels apart, so each "
         "further step of a window adds (k - 1) j pixels, not k - 1.",
         np.column_stack([sizes, no_jump[:, 0], np.ones(len(windows), dtype=int)])),
        ("the jump is updated before the field: a layer's window reads cells of the layer below, which are the "
         "old j apart, so first r <- r + (k - 1) j, then j <- j s.", np.column_stack([sizes, jump_first])),
        ("the pooling window counts like a kernel: its 2 x 2 window also widens the field, r <- r + (k - 1) j.",
         np.column_stack([sizes, pooling_flat])),
        ("the `+ 1` is missing from the output sizes: floor((n - k) / s) + 1, the + 1 counting the first window.",
         np.column_stack([short_sizes, right])),
    ]
    # A layer's (r, j) follow from the layer before it, so a mistake in one row shows in the rows after it:
    # the mistakes are those of the whole list, and the rows are judged in order.
    labels = ["after the first convolution", "after the pooling", "after the second convolution"]
    parts = [(label, dict(
        expected=row, asks=f"(output size, r, j) {label}, three whole numbers",
        hint="work layer by layer from r = j = 1: first r <- r + (k - 1) j, then j <- j s."))
        for label, row in zip(labels, expected)]
    return verdict.check_parts(
        "check_padding_receptive", answer, parts, mistakes=mistakes, in_order=True,
        asks="a list of three triples [(output size, r, j) after the first convolution, after the pooling, after "
             "the second convolution]")


_DILATION = {"size": 28, "kernel_size": 3, "dilations": (2, 3)}


def check_padding_dilation(answer):
    """Check exercise ex-padding-dilation: span, output size and "same" padding of a dilated 3 x 3 kernel on 28 x 28.

    Introduced in the chapter "Padding and stride". The answer is a list of
    two triples, ``[(span, output size without padding, padding on each side
    that keeps 28) for dilation 2, (the same) for dilation 3]``, at stride 1.
    Recognises the span taken as ``d k`` or ``d (k - 1)`` (with the sizes and
    paddings that follow from it), the dilation left out, the output size
    computed with ``k`` instead of the span, and the padding given as the
    total of both sides, for both dilations or for one.

    Parameters
    ----------
    answer : list of two (int, int, int) or None
        The student's answer; None before they give one.

    Returns
    -------
    bool
    """
    n, k, dilations = _DILATION["size"], _DILATION["kernel_size"], _DILATION["dilations"]
    spans = [n - convolution.conv_output_size(n, k, 1, 0, dilation=d) + 1 for d in dilations]
    expected = np.array([(span, convolution.conv_output_size(n, k, 1, 0, dilation=d), _keeping_padding(n, k, d))
                         for span, d in zip(spans, dilations)])

    def from_spans(wrong_spans):
        # What a student gets from these spans: the output size of a kernel that long, and half its "same" zeros.
        return np.array([(span, convolution.conv_output_size(n, span), sum(convolution.padding_amounts(n, span, 1, "same")) / 2)
                         for span in wrong_spans])

    mistakes = [
        ("the span is not d k: the k taps have k - 1 gaps of d pixels between them, plus the pixel the first tap "
         "sits on.", from_spans([d * k for d in dilations])),
        ("the k - 1 gaps of d pixels are counted, but not the pixel the first tap sits on: add 1.",
         from_spans([d * (k - 1) for d in dilations])),
        ("the dilation is left out: with dilation d the taps are d pixels apart, so the kernel spans more than k "
         "pixels, and the output size uses that span in place of k.", from_spans([k for _ in dilations])),
        ("the output size is computed with k, but a dilated kernel needs its whole span to fit: the span replaces "
         "k in the output size.",
         np.column_stack([expected[:, 0], [convolution.conv_output_size(n, k) for _ in dilations], expected[:, 2]])),
        ("that padding is the total of both sides: p is the number of zeros on *each* side, and the axis grows "
         "by 2p.", np.column_stack([expected[:, :2], 2 * expected[:, 2]])),
    ]
    parts = [(f"for dilation {d}", dict(
        expected=row, mistakes=_part_mistakes(mistakes, index),
        asks=f"(span, output size, padding) for dilation {d}, three numbers",
        hint="the span is d (k - 1) + 1, and it replaces k in the output size floor((n + 2p - span) / s) + 1."))
        for index, (d, row) in enumerate(zip(dilations, expected))]
    return verdict.check_parts(
        "check_padding_dilation", answer, parts, mistakes=mistakes,
        asks=f"a list of two triples, [(span, output size, padding) for dilation {dilations[0]}, "
             f"(span, output size, padding) for dilation {dilations[1]}]")


# --- chapter 3: the receptive-field recurrence as a function --------------------------------------


def _receptive_cases():
    return [
        {"windows": [(3, 1)]},
        {"windows": [(3, 1), (3, 1)]},
        {"windows": [(3, 2), (3, 1)]},
        {"windows": [(2, 2), (3, 1)]},
        {"windows": [(3, 1), (2, 2), (3, 1)]},
        {"windows": [(3, 1), (5, 1), (9, 1)]},
        {"windows": [(5, 2), (3, 2), (3, 1)]},
        {"windows": [(7, 2), (3, 2), (3, 2), (3, 2), (3, 1)]},
    ]


def _receptive_reference(windows):
    # A stack of pooling windows of these spans and strides, on an input large enough for all of them;
    # describe() applies the recurrence (a pooling window counts like a kernel).
    size = sum(span for span, _ in windows) * int(np.prod([stride for _, stride in windows]))
    network = model.Sequential([layers.MaxPool2D(span, stride) for span, stride in windows], (size, size, 1))
    last = network.describe()[-1]
    return last.receptive_field[0], last.jump[0]


def check_receptive_field(function):
    """Check ``function(windows) -> (r, j)``: the receptive field and the jump after a stack of layers.

    ``windows`` is a list of ``(span, stride)`` pairs, one per layer (the span
    of a dilated kernel is ``d (k - 1) + 1``); starting from ``r = j = 1``,
    each layer does ``r <- r + (span - 1) j``, then ``j <- j stride``.
    Introduced in the chapter "Padding and stride" (exercise
    ex-padding-recurrence). The reference is ``Sequential.describe()``.
    Recognises the jump left out of the field, the jump updated before the
    field, ``r`` started at 0 and ``(j, r)`` returned in the wrong order.

    Returns
    -------
    bool
    """

    def recurrence(windows, step, start=1):
        r, j = start, 1
        for span, stride in windows:
            r, j = step(r, j, span, stride)
        return r, j

    mistakes = [
        ("the jump is left out of the field: the window of a later layer reads cells j input pixels apart, so it "
         "adds (span - 1) j pixels, not span - 1.",
         lambda windows: recurrence(windows, lambda r, j, span, stride: (r + span - 1, j * stride))),
        ("the jump is updated before the field: a layer's window reads cells of the layer below, which are the old "
         "j apart, so first r <- r + (span - 1) j, then j <- j stride.",
         lambda windows: recurrence(windows, lambda r, j, span, stride: (r + (span - 1) * j * stride, j * stride))),
        ("r starts at 0: before any layer, one cell sees one pixel, so r = j = 1.",
         lambda windows: recurrence(windows, lambda r, j, span, stride: (r + (span - 1) * j, j * stride), start=0)),
        ("the two values are swapped: return r first, then j.",
         lambda windows: recurrence(windows, lambda r, j, span, stride: (r + (span - 1) * j, j * stride))[::-1]),
    ]
    return verdict.check_function("check_receptive_field", function, _receptive_cases(), _receptive_reference, mistakes)
