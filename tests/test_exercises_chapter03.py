"""The exercise checks of chapter 3, "Padding and stride": right answers pass, each known mistake is named.

Right answers are computed with the course's functions from the exercises'
numbers; each wrong answer is the exercise's numbers put through the
mistaken formula, as a student would.
"""

import math

import numpy as np
import pytest

from cnn_course import exercises, layers, model, ops


# --- right answers, from the course's functions ---------------------------------------------------


def keep_answer():
    return tuple(next(p for p in range(k) if ops.conv_output_size(28, k, 1, p) == 28) for k in (5, 7))


def halve_answer():
    sizes = [ops.conv_output_size(28, 3, 2, p) for p in (0, 1)]
    return (*sizes, next(p for p, size in zip((0, 1), sizes) if 2 * size == 28))


def tensorflow_answer():
    return [(ops.conv_output_size(n, 3, 2, "same"), *ops.padding_amounts(n, 3, 2, "same")) for n in (7, 8)]


def unused_answer():
    # Change one row at a time: the rows whose change leaves the output alone are never used.
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(1, 10, 10, 1)), rng.normal(size=(3, 3, 1, 1))
    base = ops.conv2d(image, kernel, stride=3)
    unused = []
    for row in range(10):
        changed = image.copy()
        changed[0, row] += 1.0
        if np.array_equal(ops.conv2d(changed, kernel, stride=3), base):
            unused.append(row)
    return unused


def receptive_answer():
    stack = model.Sequential([layers.Conv2D(2, 3), layers.MaxPool2D(2), layers.Conv2D(2, 3)], (28, 28, 1))
    return [(r.output_shape[0], r.receptive_field[0], r.jump[0]) for r in stack.describe()]


def dilation_answer():
    rows = []
    for d in (2, 3):
        out = ops.conv_output_size(28, 3, 1, 0, dilation=d)
        rows.append((28 - out + 1, out, next(p for p in range(28) if ops.conv_output_size(28, 3, 1, p, dilation=d) == 28)))
    return rows


RIGHT = [
    (exercises.check_padding_keep, keep_answer),
    (exercises.check_padding_halve, halve_answer),
    (exercises.check_padding_tensorflow, tensorflow_answer),
    (exercises.check_padding_unused, unused_answer),
    (exercises.check_padding_receptive, receptive_answer),
    (exercises.check_padding_dilation, dilation_answer),
]
IDS = [check.__name__ for check, _ in RIGHT]


@pytest.mark.parametrize("check, right", RIGHT, ids=IDS)
def test_the_right_answer_passes(run_check, check, right):
    passed, text = run_check(check, right())
    assert passed is True
    assert text == f"{check.__name__}: right. Well done!\n"


@pytest.mark.parametrize("check, right", RIGHT, ids=IDS)
def test_no_answer_yet(run_check, check, right):
    passed, text = run_check(check, None)
    assert passed is False
    assert text.startswith(f"{check.__name__}: no answer yet. Replace None with ")


@pytest.mark.parametrize("check, right", RIGHT, ids=IDS)
def test_the_right_answer_as_a_numpy_array_passes(run_check, check, right):
    passed, _ = run_check(check, np.array(right()))
    assert passed is True


# --- each known mistake, fed its wrong answer -------------------------------------------------------


def with_index(rows, column, values):
    return [row[:column] + (value,) + row[column + 1:] for row, value in zip(rows, values)]


MISTAKES = [
    # check_padding_keep
    (exercises.check_padding_keep, tuple(k - 1 for k in (5, 7)), "the total number of zeros"),
    (exercises.check_padding_keep, tuple(k / 2 for k in (5, 7)), "the `+ 1` of the output size is missing"),
    (exercises.check_padding_keep, (1, 1), "only for a 3 x 3 kernel"),
    # check_padding_halve: the size mistakes are named whatever the third number
    (exercises.check_padding_halve, ((28 - 3) // 2, (28 + 2 - 3) // 2, 1), "the `+ 1` is missing"),
    (exercises.check_padding_halve, ((28 - 3) // 2, (28 + 2 - 3) // 2, 0), "the `+ 1` is missing"),
    (exercises.check_padding_halve, (math.ceil((28 - 3) / 2) + 1, math.ceil((28 + 2 - 3) / 2) + 1, 0), "rounded up"),
    (exercises.check_padding_halve, (28 - 3 + 1, 28 + 2 - 3 + 1, 1), "the stride is left out"),
    (exercises.check_padding_halve, ((28 - 3) / 2 + 1, (28 + 2 - 3) / 2 + 1, 1), "floor division"),
    (exercises.check_padding_halve, ((28 - 3) // 2 + 1, (28 + 2 - 3) // 2 + 1, 0), "the other padding halves"),
    # check_padding_tensorflow
    (exercises.check_padding_tensorflow, [(4, 1, 1), (4, 1, 0)], "the odd extra zero goes after"),
    (exercises.check_padding_tensorflow, [((n + 2 - 3) // 2 + 1, 1, 1) for n in (7, 8)], "'same' at stride 1"),
    (exercises.check_padding_tensorflow, [(n, ((n - 1) * 2 + 3 - n) // 2, (n - 1) * 2 + 3 - n - ((n - 1) * 2 + 3 - n) // 2)
                                          for n in (7, 8)], "keeps the size only at stride 1"),
    (exercises.check_padding_tensorflow, [(n // 2, max((n // 2 - 1) * 2 + 3 - n, 0) // 2,
                                           max((n // 2 - 1) * 2 + 3 - n, 0) - max((n // 2 - 1) * 2 + 3 - n, 0) // 2)
                                          for n in (7, 8)], "rounded down"),
    (exercises.check_padding_tensorflow, [((n - 3) // 2 + 1, 0, 0) for n in (7, 8)], "'valid' padding"),
    # check_padding_unused
    (exercises.check_padding_unused, [10], "count the rows from 0"),
    (exercises.check_padding_unused, [], "some rows are left out"),
    (exercises.check_padding_unused, list(range(2 * 3, 10)), "one window is missing"),
    (exercises.check_padding_unused, [0, 9], "row 0 is used"),
    (exercises.check_padding_unused, [row for row in range(10) if row not in (0, 3, 6)], "each window covers k = 3 rows"),
    # check_padding_receptive, the stack [(3, 1), (2, 2), (3, 1)]
    (exercises.check_padding_receptive, [(26, 3, 1), (13, 4, 2), (11, 6, 2)], "the jump is left out of the field"),
    (exercises.check_padding_receptive, [(26, 3, 1), (13, 4, 1), (11, 6, 1)], "the jump is left out of the field"),
    (exercises.check_padding_receptive, [(26, 3, 1), (13, 3 + 1 * 2, 2), (11, 5 + 2 * 2, 2)], "the jump is updated before"),
    (exercises.check_padding_receptive, [(26, 3, 1), (13, 3, 2), (11, 3 + 2 * 2, 2)], "the pooling window counts like a kernel"),
    (exercises.check_padding_receptive, [(28 - 3, 3, 1), ((28 - 3 - 2) // 2, 4, 2), ((28 - 3 - 2) // 2 - 3, 8, 2)],
     "the `+ 1` is missing from the output sizes"),
    # check_padding_dilation: a wrong span, and the output size and padding that follow from it
    (exercises.check_padding_dilation, [(d * 3, 28 - d * 3 + 1, (d * 3 - 1) / 2) for d in (2, 3)], "the span is not d k"),
    (exercises.check_padding_dilation, [(d * 2, 28 - d * 2 + 1, (d * 2 - 1) / 2) for d in (2, 3)], "but not the pixel the first tap"),
    (exercises.check_padding_dilation, [(3, 26, 1), (3, 26, 1)], "the dilation is left out"),
    (exercises.check_padding_dilation, [(d * 2 + 1, 28 - 3 + 1, d) for d in (2, 3)], "computed with k"),
    (exercises.check_padding_dilation, [(d * 2 + 1, 28 - d * 2, 2 * d) for d in (2, 3)], "the total of both sides"),
]


@pytest.mark.parametrize("check, answer, words", MISTAKES, ids=[f"{check.__name__}-{words}" for check, _, words in MISTAKES])
def test_a_known_mistake_is_named(run_check, check, answer, words):
    passed, text = run_check(check, answer)
    assert passed is False
    assert "This looks like a known mistake: " in text
    assert words in text


def test_the_mistakes_are_wrong_answers():
    right = {check: answer() for check, answer in RIGHT}
    for check, answer, _ in MISTAKES:
        assert np.asarray(answer, dtype=float).shape != np.asarray(right[check], dtype=float).shape or not np.allclose(
            np.asarray(answer, dtype=float), np.asarray(right[check], dtype=float)), (check.__name__, answer)


# --- unrelated wrong answers, and the verdict does not give the answer away -------------------------


UNRELATED = [
    (exercises.check_padding_keep, (0, 7)),
    (exercises.check_padding_halve, (10, 20, 1)),
    (exercises.check_padding_tensorflow, [(5, 2, 2), (5, 3, 3)]),
    (exercises.check_padding_unused, [3, 4]),
    (exercises.check_padding_receptive, [(20, 2, 1), (10, 3, 3), (5, 9, 3)]),
    (exercises.check_padding_dilation, [(9, 10, 11), (12, 13, 14)]),
]


@pytest.mark.parametrize("check, answer", UNRELATED, ids=[check.__name__ for check, _ in UNRELATED])
def test_an_unrelated_wrong_answer_fails_without_a_named_mistake(run_check, check, answer):
    passed, text = run_check(check, answer)
    assert passed is False
    assert "not yet" in text and "known mistake" not in text


@pytest.mark.parametrize("check, answer", UNRELATED, ids=[check.__name__ for check, _ in UNRELATED])
def test_the_verdict_does_not_show_the_right_answer(run_check, check, answer):
    right = dict(RIGHT)[check]()
    _, text = run_check(check, answer)
    after_answer = text.split("You answered", 1)[1].split("\n", 1)[1]   # what the verdict says, not what it repeats
    shown = repr(tuple(right)) if isinstance(right, tuple) else repr(right)
    assert shown not in text
    if isinstance(right, list) and right and isinstance(right[0], tuple):
        assert not any(repr(row) in after_answer for row in right)


def test_a_partly_right_answer_is_told_which_parts_are_right(run_check):
    right = receptive_answer()
    _, text = run_check(exercises.check_padding_receptive, right[:2] + with_index(right[2:], 2, [99]))
    assert text.startswith("check_padding_receptive: not yet. Right: after the first convolution, after the pooling.\n")
    assert "after the second convolution: not yet. You answered (11, 8, 99), which is not it." in text
    assert all(repr(row) not in text for row in right)
    _, text = run_check(exercises.check_padding_keep, (keep_answer()[0], 0))
    assert "Right: p for the 5 x 5 kernel.\n  p for the 7 x 7 kernel: not yet. You answered 0, which is not it." in text


def test_the_layers_of_the_receptive_stack_are_judged_in_order(run_check):
    # Each layer's (r, j) build on the layer before it: only the first wrong one is judged.
    right = receptive_answer()
    _, text = run_check(exercises.check_padding_receptive, with_index(right, 2, [99, 99, 99]))
    assert "after the first convolution: not yet. You answered (26, 3, 99)" in text
    assert "after the pooling" not in text and "The parts after this one are checked once it is right." in text


@pytest.mark.parametrize("check, answer, part, words", [
    (exercises.check_padding_keep, (2, 7 - 1), "p for the 7 x 7 kernel", "the total number of zeros"),
    (exercises.check_padding_halve, (13, (28 + 2 - 3) // 2, 1), "the output size with padding 1", "the `+ 1` is missing"),
    (exercises.check_padding_halve, (math.ceil((28 - 3) / 2) + 1, 14, 1), "the output size without padding", "rounded up"),
    (exercises.check_padding_tensorflow, [(4, 1, 1), (8, 4, 5)], "for n = 8", "keeps the size only at stride 1"),
    (exercises.check_padding_dilation, [(5, 24, 2), (9, 20, 4)], "for dilation 3", "the span is not d k"),
])
def test_a_mistake_in_one_part_alone_is_named_in_that_part(run_check, check, answer, part, words):
    passed, text = run_check(check, answer)
    assert passed is False
    assert f"\n  {part}: not yet. You answered " in text and words in text, text
    assert text.count("known mistake") == 1


def test_an_answer_of_the_wrong_form_is_told_the_form(run_check):
    _, text = run_check(exercises.check_padding_receptive, [(26, 3), (13, 4), (11, 8)])
    assert "The answer has shape (3,), yours has shape (2,): (output size, r, j) after the first convolution" in text
    _, text = run_check(exercises.check_padding_halve, 13)
    assert "The answer is 3 values in a tuple: three numbers (output size without padding" in text
    _, text = run_check(exercises.check_padding_tensorflow, [(4, 1, 1)])
    assert "The answer is 2 values in a tuple" in text


@pytest.mark.parametrize("answer", [9, (9,), {9}, [9.0], np.array([9]), [9, 9]])
def test_the_unused_rows_may_be_given_in_any_collection(run_check, answer):
    assert set(unused_answer()) == {9}
    passed, _ = run_check(exercises.check_padding_unused, answer)
    assert passed is True


@pytest.mark.parametrize(
    "answer, words",
    [
        ([11], "numbered 0 to 9"),
        ([7, 8, 9], "so are rows that a window covers"),
        ("row 9", "it could not be used"),
        ([9.5], "is not a list of row numbers"),
        ([1, 5], "Hint: write down where each window starts"),
    ],
)
def test_other_unused_rows_get_a_sentence_about_them(run_check, answer, words):
    passed, text = run_check(exercises.check_padding_unused, answer)
    assert passed is False
    assert words in text


# --- check_receptive_field: a function ---------------------------------------------------------------


def student_receptive_field(windows):
    r, j = 1, 1
    for span, stride in windows:
        r = r + (span - 1) * j
        j = j * stride
    return r, j


def test_the_right_receptive_field_passes(run_check):
    passed, text = run_check(exercises.check_receptive_field, student_receptive_field)
    assert passed is True
    assert text == "check_receptive_field: all 8 cases pass. Well done!\n"


def test_the_receptive_field_reference_is_describe():
    # The chapter's three stacks: the recurrence and describe() agree.
    stack = model.Sequential([layers.Conv2D(2, 3, stride=2), layers.MaxPool2D(2), layers.Conv2D(2, 3, dilation=2)], (40, 40, 1))
    last = stack.describe()[-1]
    assert student_receptive_field([(3, 2), (2, 2), (5, 1)]) == (last.receptive_field[0], last.jump[0])


def jump_left_out(windows):
    r, j = 1, 1
    for span, stride in windows:
        r, j = r + span - 1, j * stride
    return r, j


def jump_first(windows):
    r, j = 1, 1
    for span, stride in windows:
        j = j * stride
        r = r + (span - 1) * j
    return r, j


@pytest.mark.parametrize(
    "function, words",
    [
        (jump_left_out, "the jump is left out of the field"),
        (jump_first, "the jump is updated before the field"),
        (lambda windows: (student_receptive_field(windows)[0] - 1, student_receptive_field(windows)[1]), "r starts at 0"),
        (lambda windows: student_receptive_field(windows)[::-1], "the two values are swapped"),
    ],
    ids=["jump left out", "jump first", "r from 0", "swapped"],
)
def test_a_known_receptive_field_mistake_is_named(run_check, function, words):
    passed, text = run_check(exercises.check_receptive_field, function)
    assert passed is False
    assert "This looks like a known mistake: " + words in text


def test_other_receptive_field_failures(run_check):
    passed, text = run_check(exercises.check_receptive_field, lambda windows: None)
    assert passed is False and "your function returned None" in text
    passed, text = run_check(exercises.check_receptive_field, lambda windows: student_receptive_field(windows)[0])
    assert passed is False and "it must return 2" in text
    passed, text = run_check(exercises.check_receptive_field, lambda windows: (len(windows), 1))
    assert passed is False and "known mistake" not in text
    passed, text = run_check(exercises.check_receptive_field, student_receptive_field(windows=[(3, 1)]))
    assert passed is False and "Pass the function itself" in text
