"""The exercise checks of the chapter "Putting it together": shapes, parameters, receptive fields, ranking.

Every check here is an answer check. It takes the networks (a
``model.Sequential``) or the arrays the chapter built, and computes the right
answer and the known wrong answers from them with ``describe``,
``receptive_window`` and the layers' windows, so that nothing is typed in:

- :func:`check_together_same`: ``(inputs, parameters, layer)`` of the network with "same" padding;
- :func:`check_together_stride`: ``(size, inputs)`` after giving the first convolution stride 2;
- :func:`check_together_receptive_field`: ``(field, jump, first_row, last_row)`` of one cell;
- :func:`check_together_ranking`: ``(count, reason)``: softmax keeps the class of the largest logit.
"""

import math

import numpy as np

from cnn_course import layers, model
from cnn_course.exercises import verdict

__all__ = [
    "check_together_same",
    "check_together_stride",
    "check_together_receptive_field",
    "check_together_ranking",
]


def _check_network(network, name):
    if not isinstance(network, model.Sequential):
        raise TypeError(f"{name} must be a model.Sequential (the chapter's build_network()), got {type(network).__name__}")
    return network


def _only_layer(network, kind, name):
    """The one layer of class ``kind`` of ``network`` and its name, or a ValueError."""
    found = [(layer, layer_name) for layer, layer_name in zip(network.layers, network.names) if isinstance(layer, kind)]
    if len(found) != 1:
        raise ValueError(f"{name} must have exactly one {kind.__name__} layer, got {len(found)}")
    return found[0]


def _last_spatial_shape(network):
    """The (H, W, C) output of the last layer whose output is still an image: what Flatten receives."""
    return [record.output_shape for record in network.describe() if len(record.output_shape) == 3][-1]


def _spatial_windows(network):
    """``(layer, (k, s))`` along the rows, for each layer up to the first whose output is not an image."""
    windows = []
    for layer in network.layers:
        window = layer.window()
        if window is None:
            break
        (k, _), (s, _) = window
        windows.append((layer, (k, s)))
    return windows


def _shape_with_rule(network, first_rule, rule):
    """The (H, W, C) reaching Flatten when the sizes are worked out with ``rule(n, k, s)`` ("valid" layers).

    ``first_rule`` is used for the first layer with a window (the first
    convolution), ``rule`` for the others: how a student who rounds one way
    or the other would carry a mistake through the network.
    """
    height, width, channels = network.input_shape
    for index, (layer, (k, s)) in enumerate(_spatial_windows(network)):
        apply = first_rule if index == 0 else rule
        height, width = apply(height, k, s), apply(width, k, s)
        if isinstance(layer, layers.Conv2D):
            channels = layer.filters
    return height, width, channels


def _floor(n, k, s):
    return (n - k) // s + 1


def _ceil(n, k, s):
    return -(-(n - k) // s) + 1


def _without_plus_one(n, k, s):
    return (n - k) // s


def check_together_same(answer, same_network, network):
    """Check exercise ex-together-same: the network with "same" padding, worked out by hand.

    Introduced in the chapter "Putting it together". The answer is a tuple
    ``(inputs, parameters, layer)``: the number of inputs of the dense layer
    for one digit (what ``Flatten`` gives), the total number of parameters,
    and the name of the one layer whose parameter count differs from
    ``network``'s. Recognises the padding forgotten (the "valid" network's
    numbers), the size kept through the pooling layers, the last pooling
    forgotten, the dense biases forgotten, the channels forgotten in
    Flatten, and a convolution named as the layer that changes.

    Parameters
    ----------
    answer : tuple of (int, int, str) or None
        The student's ``(inputs, parameters, layer)``.
    same_network : model.Sequential
        The chapter's network with ``padding="same"``.
    network : model.Sequential
        The chapter's network with "valid" padding, the same layers otherwise.

    Returns
    -------
    bool
    """
    same_network, network = _check_network(same_network, "same_network"), _check_network(network, "network")
    same_records, records = same_network.describe(), network.describe()
    if [record.name for record in same_records] != [record.name for record in records]:
        raise ValueError(f"same_network and network must have the same layers, got {same_network.names} and {network.names}")
    changed = [mine.name for mine, other in zip(same_records, records) if mine.parameters != other.parameters]
    if len(changed) != 1:
        raise ValueError(f"same_network and network must differ in one layer's parameters, they differ in {changed}")
    dense, _ = _only_layer(same_network, layers.Dense, "same_network")
    old_dense, _ = _only_layer(network, layers.Dense, "network")
    units, inputs = dense.output_shape[0], dense.input_shape[0]
    shape, total = _last_spatial_shape(same_network), same_network.count_params()
    others = total - dense.count_params()  # every parameter but the dense layer's

    def numbers(dense_inputs):
        return (dense_inputs, others + dense_inputs * units + units)

    weighted = [record.name for record in same_records if record.parameters > 0]
    no_pooling = math.prod(same_network.input_shape[:2]) * shape[2]
    last_conv = [record for record in same_records if record.kind == "Conv2D"][-1]
    mistakes = [
        ("these are the numbers of the network with \"valid\" padding: with \"same\" padding and stride 1, a "
         "convolution keeps the height and width of its input.",
         (old_dense.input_shape[0], network.count_params(), changed[0])),
        ("\"same\" padding keeps the size through the convolutions only: each max pooling still divides the "
         "height and the width by its stride.", (*numbers(no_pooling), changed[0])),
        (f"that is the output of {last_conv.name}: the max pooling after it still shrinks the height and the "
         "width before Flatten.", (*numbers(math.prod(last_conv.output_shape)), changed[0])),
        (f"the dense layer's {units} biases are missing from the count: it has one weight per (input, output) "
         "pair plus one bias per output.", (inputs, total - units, changed[0])),
        ("Flatten passes every channel: it gives H x W x C numbers, and the dense layer has one weight per "
         "number and class, plus the biases.", (*numbers(shape[0] * shape[1]), changed[0])),
    ]
    for name in weighted:
        if name != changed[0]:
            mistakes.append(
                ("a filter's weights do not depend on the size of the image: padding adds zeros around the image, "
                 "not weights. Which layer's weights depend on how many numbers it receives?", (inputs, total, name)))
    options = ", ".join(f'"{name}"' for name in weighted[:-1]) + f' or "{weighted[-1]}"'
    return verdict.check_answer(
        "check_together_same", answer, expected=(inputs, total, changed[0]), mistakes=mistakes,
        asks=f"a tuple (inputs, parameters, layer): how many numbers reach the dense layer for one digit, the "
             f"total number of parameters, and the name of the layer whose parameter count changes ({options})",
        hint="follow the height and width layer by layer (\"same\": a stride-1 convolution keeps them; a 2 x 2 "
             "pool halves them, rounding down), then count the dense layer's weights and biases.",
    )


def check_together_stride(answer, strided_network, network):
    """Check exercise ex-together-stride: the sizes after giving the first convolution stride 2.

    Introduced in the chapter "Putting it together". The answer is a tuple
    ``(size, inputs)``: the height (and width) of the first convolution's
    output for one digit, and the number of inputs of the dense layer (what
    ``Flatten`` gives), the rows of its weight matrix. Recognises the stride
    forgotten (the numbers of ``network``), the division rounded up (at the
    first convolution or everywhere), the ``+ 1`` forgotten, the dense
    inputs kept from ``network``, and the channels forgotten in Flatten.

    Parameters
    ----------
    answer : tuple of (int, int) or None
        The student's ``(size, inputs)``.
    strided_network : model.Sequential
        The chapter's network with stride 2 in its first convolution.
    network : model.Sequential
        The chapter's network (stride 1), whose weights the exercise copies.

    Returns
    -------
    bool
    """
    strided_network, network = _check_network(strided_network, "strided_network"), _check_network(network, "network")
    conv = next(layer for layer in strided_network.layers if isinstance(layer, layers.Conv2D))
    old_conv = next(layer for layer in network.layers if isinstance(layer, layers.Conv2D))
    dense, _ = _only_layer(strided_network, layers.Dense, "strided_network")
    old_dense, _ = _only_layer(network, layers.Dense, "network")
    size, inputs = conv.output_shape[0], dense.input_shape[0]
    (k, _), (s, _) = conv.window()
    height = strided_network.input_shape[0]
    spatial = _last_spatial_shape(strided_network)

    def flattened(first_rule, rule):
        return math.prod(_shape_with_rule(strided_network, first_rule, rule))

    rounded_up = ("the division is rounded up: a window must fit inside the image, so the output size is "
                  "rounded down, floor((n - k) / s) + 1.")
    mistakes = [
        (f"these are the numbers of the stride-{old_conv.stride[0]} network: with stride {s} the kernel jumps {s} "
         "pixels at a time, so there are fewer window positions.", (old_conv.output_shape[0], old_dense.input_shape[0])),
        (rounded_up, (_ceil(height, k, s), flattened(_ceil, _floor))),
        (rounded_up, (_ceil(height, k, s), flattened(_ceil, _ceil))),
        ("the + 1 is missing: the window at position 0 counts too, floor((n - k) / s) + 1.",
         (_without_plus_one(height, k, s), flattened(_without_plus_one, _floor))),
        ("the dense layer's inputs are what Flatten gives now: the stride changed every later shape, so the "
         "dense weights need another number of rows. That is why set_weights refuses the old ones.",
         (size, old_dense.input_shape[0])),
        ("Flatten passes every channel: it gives H x W x C numbers.", (size, spatial[0] * spatial[1])),
    ]
    return verdict.check_answer(
        "check_together_stride", answer, expected=(size, inputs), mistakes=mistakes,
        asks="a tuple (size, inputs) of two whole numbers: the height (= width) of the first convolution's output, "
             "and how many numbers reach the dense layer, for one digit",
        hint="use floor((n - k) / s) + 1 layer by layer up to the second pooling; Flatten multiplies the three "
             "sizes of its input.",
    )


def check_together_receptive_field(answer, network, layer, cell):
    """Check exercise ex-together-receptive-field: a receptive field, its jump and the rows one cell sees.

    Introduced in the chapter "Putting it together", with the recurrence of
    "Padding and stride". The answer is a tuple ``(field, jump, first_row,
    last_row)``: the receptive field (rows) and the jump of ``layer``, and
    the first and last input rows that cell ``cell`` of ``layer`` sees (both
    included). Recognises the jump updated before the field, the field grown
    by ``k - 1`` at every layer (jumps ignored), the stride of the first
    convolution forgotten, the last row one too far (the end of a slice),
    and cells taken one field apart instead of one jump.

    Parameters
    ----------
    answer : tuple of 4 int or None
        The student's ``(field, jump, first_row, last_row)``.
    network : model.Sequential
        The network of the exercise (the chapter's, with stride 2 in its first convolution).
    layer : str
        The layer, e.g. "max_pool2".
    cell : tuple of (int, int)
        The output cell ``(row, column)`` of ``layer``.

    Returns
    -------
    bool
    """
    network = _check_network(network, "network")
    records = {record.name: record for record in network.describe()}
    if layer not in records:
        raise ValueError(f"layer must be one of the network's layers {network.names}, got {layer!r}")
    if not isinstance(cell, (tuple, list)) or len(cell) != 2:
        raise ValueError(f"cell must be a (row, column) pair of ints, got {cell!r}")
    (first, end), _ = network.receptive_window(layer, *cell)
    record, row = records[layer], int(cell[0])
    field, jump, start = record.receptive_field[0], record.jump[0], record.start[0]
    spatial = _spatial_windows(network)[: network.names.index(layer) + 1]
    windows = [k_s for _, k_s in spatial]

    def recurrence(windows, early_jump=False, grow_by_jump=True):
        r, j = 1, 1
        for k, s in windows:
            if early_jump:
                j *= s
                r += (k - 1) * j
            else:
                r += (k - 1) * (j if grow_by_jump else 1)
                j *= s
        return r, j

    def answer_for(r, j):
        return (r, j, start + row * j, start + row * j + r - 1)

    strided_convs = [index for index, (member, (_, s)) in enumerate(spatial) if isinstance(member, layers.Conv2D) and s > 1]
    mistakes = []
    if strided_convs:
        without_stride = [(k, 1) if index == strided_convs[0] else (k, s) for index, (k, s) in enumerate(windows)]
        mistakes.append(
            (f"these are the numbers without the stride of {network.names[strided_convs[0]]}: a stride multiplies "
             "the jump, and with it what every later window adds to the field.", answer_for(*recurrence(without_stride))))
    mistakes += [
        ("the jump was updated before the field: a layer grows the field by (k - 1) times the jump of its "
         "*input*, r + (k - 1) j, and only then does the jump become j s.",
         answer_for(*recurrence(windows, early_jump=True))),
        ("the field grew by k - 1 at every layer: a deeper layer's window steps over cells that are j input "
         "pixels apart, so it grows the field by (k - 1) j.", answer_for(*recurrence(windows, grow_by_jump=False))),
        ("the last row is one too far: a field of r rows that starts at row a ends at row a + r - 1 "
         "(receptive_window gives a + r, the end of a slice).", (field, jump, first, end)),
        ("the next cell starts one jump further, not one field further: neighbouring cells' fields overlap.",
         (field, jump, start + row * field, start + row * field + field - 1)),
    ]
    return verdict.check_answer(
        "check_together_receptive_field", answer, expected=(field, jump, first, end - 1), mistakes=mistakes,
        asks=f"a tuple (field, jump, first_row, last_row) of four whole numbers: the receptive field and the jump "
             f"of {layer}, and the first and last input rows that its cell {tuple(cell)} sees",
        hint="start from r = j = 1 and apply r <- r + (k - 1) j, then j <- j s, layer by layer (ReLU: k = s = 1); "
             "cell i starts i jumps after cell 0.",
    )


def check_together_ranking(answer, logits, probabilities):
    """Check exercise ex-together-ranking: softmax keeps the class with the largest logit, and why.

    Introduced in the chapter "Putting it together". The answer is a tuple
    ``(count, reason)``: how many rows of ``logits`` and ``probabilities``
    pick the same class with ``argmax``, and the word that says why it must
    be so, "increasing", "normalised" or "positive". Recognises argmax over
    the batch axis, the largest values compared instead of their classes,
    argmax over the whole array, and each of the two other reasons.

    Parameters
    ----------
    answer : tuple of (int, str) or None
        The student's ``(count, reason)``.
    logits : ndarray of shape (N, K)
        The dense layer's outputs, ``outputs["dense1"]``.
    probabilities : ndarray of shape (N, K)
        The softmax of the logits, ``outputs["softmax1"]``.

    Returns
    -------
    bool
    """
    logits, probabilities = np.asarray(logits), np.asarray(probabilities)
    if logits.ndim != 2 or probabilities.shape != logits.shape:
        raise ValueError(f"logits and probabilities must be two arrays of the same shape (N, K), got {logits.shape} "
                         f"and {probabilities.shape}")
    count = int(np.sum(logits.argmax(axis=1) == probabilities.argmax(axis=1)))
    reason = "increasing"
    mistakes = [
        ("argmax over axis 0 picks, for each class, the digit with the largest score: the classes are on the "
         "last axis, one row per digit, so use axis=1.",
         (int(np.sum(logits.argmax(axis=0) == probabilities.argmax(axis=0))), reason)),
        ("the largest values were compared, not their classes: a logit and a probability are different numbers. "
         "Compare where the largest value is, with argmax.",
         (int(np.sum(logits.max(axis=1) == probabilities.max(axis=1))), reason)),
        ("argmax without an axis looks at the whole (N, K) array as one: give axis=1 to get one class per digit.",
         (int(logits.argmax() == probabilities.argmax()), reason)),
        ("the probabilities do sum to 1, but that alone does not keep an order: z / sum(z) sums to 1 too, and "
         "it can reverse the order of negative logits. Look at what e^z does to two logits a < b.", (count, "normalised")),
        ("every probability is positive, but that says nothing about which one is largest. Look at what e^z does "
         "to two logits a < b, and at the denominator.", (count, "positive")),
    ]
    return verdict.check_answer(
        "check_together_ranking", answer, expected=(count, reason), mistakes=mistakes,
        asks=f"a tuple (count, reason): how many of the {len(logits):,} digits have their largest logit and their "
             'largest probability in the same class, and why, "increasing", "normalised" or "positive"',
        hint="compare logits.argmax(axis=1) with probabilities.argmax(axis=1) and count the digits where they agree; "
             'the reason is one of the three words "increasing", "normalised" or "positive".',
    )
