"""The answer checks of "Pooling": right answers pass, each known mistake is named.

The right answers are worked out here with plain NumPy (windows cut by
reshaping or by ``sliding_window_view``) and the chapter's formulas, not with
``ops``, which the checks use.
"""

import math

import numpy as np
import pytest

from cnn_course import exercises, ops

sliding = np.lib.stride_tricks.sliding_window_view


def replaced(answer, index, value):
    parts = list(answer)
    parts[index] = value
    return tuple(parts)


# --- ex-pooling-by-hand ---------------------------------------------------------------------------

MAP = np.array([[2, -1, 0, 4], [5, 3, -2, 1], [-3, 0, 6, 2], [1, -4, 2, 8]], dtype=float)
BATCH = MAP.reshape(1, 4, 4, 1)
TILES = MAP.reshape(2, 2, 2, 2)                        # TILES[i, u, j, v] = MAP[2i + u, 2j + v]
MAX_2X2 = TILES.max(axis=(1, 3))
AVERAGE_2X2 = TILES.mean(axis=(1, 3))
MAX_3X3 = sliding(MAP, (3, 3)).max(axis=(2, 3))
GLOBAL_AVERAGE = MAP.mean()
BY_HAND_RIGHT = (MAX_2X2.tolist(), AVERAGE_2X2.tolist(), MAX_3X3.tolist(), float(GLOBAL_AVERAGE))

padded_same = np.pad(MAP, ((1, 1), (1, 1)), constant_values=-np.inf)     # "same", 3 x 3, stride 1
BY_HAND_MISTAKES = [
    (replaced(BY_HAND_RIGHT, 0, TILES.min(axis=(1, 3))), "keeps the smallest number"),
    (replaced(BY_HAND_RIGHT, 0, np.abs(TILES).max(axis=(1, 3))), "without the sign"),
    (replaced(BY_HAND_RIGHT, 0, sliding(MAP, (2, 2)).max(axis=(2, 3))), "the windows overlap"),
    (replaced(BY_HAND_RIGHT, 0, MAX_2X2.T), "the windows are swapped"),
    (replaced(BY_HAND_RIGHT, 1, TILES.sum(axis=(1, 3))), "these are the windows' sums"),
    (replaced(BY_HAND_RIGHT, 1, np.maximum(TILES, 0).mean(axis=(1, 3))), "the negative numbers are left out"),
    (replaced(BY_HAND_RIGHT, 1, AVERAGE_2X2.T), "the windows are swapped"),
    (replaced(BY_HAND_RIGHT, 2, sliding(MAP, (3, 3))[::3, ::3].max(axis=(2, 3))), "a stride of 3"),
    (replaced(BY_HAND_RIGHT, 2, sliding(padded_same, (3, 3)).max(axis=(2, 3))), '"same" pooling'),
    (replaced(BY_HAND_RIGHT, 3, MAP.sum()), "the sum of the map"),
    (replaced(BY_HAND_RIGHT, 3, MAX_2X2.mean()), "the mean of the maxima"),
    (replaced(BY_HAND_RIGHT, 3, MAP.max()), "the global maximum"),
]


def test_by_hand_right_answer_passes(run_check):
    passed, text = run_check(exercises.check_pooling_by_hand, BY_HAND_RIGHT, BATCH)
    assert passed is True and text == "check_pooling_by_hand: right. Well done!\n"
    # Arrays for lists, and the map given as a plain (H, W) array, are fine too.
    answer = (MAX_2X2, AVERAGE_2X2, MAX_3X3, GLOBAL_AVERAGE)
    assert run_check(exercises.check_pooling_by_hand, answer, MAP)[0] is True


@pytest.mark.parametrize("answer, words", BY_HAND_MISTAKES, ids=[f"{index}-{words}" for index, (_, words) in enumerate(BY_HAND_MISTAKES)])
def test_by_hand_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_pooling_by_hand, answer, BATCH)
    assert passed is False
    assert "known mistake" in text and words in text, text
    assert text.count("not yet") == 2                               # the verdict, and the one wrong part


def test_by_hand_wrong_parts_do_not_show_the_right_values(run_check):
    answer = ([[0, 0], [0, 0]], [[0, 0], [0, 0]], [[0, 0], [0, 0]], 0)
    passed, text = run_check(exercises.check_pooling_by_hand, answer, BATCH)
    assert passed is False and text.count("which is not it") == 4 and "Right:" not in text
    for right in (MAX_2X2, AVERAGE_2X2, MAX_3X3):
        assert str(right.tolist()) not in text and np.array2string(right) not in text
    assert "2.25" not in text and f"{GLOBAL_AVERAGE}" not in text


def test_by_hand_missing_parts_and_forms(run_check):
    passed, text = run_check(exercises.check_pooling_by_hand, replaced(BY_HAND_RIGHT, 2, None), BATCH)
    assert passed is False and "(c) max 3x3, stride 1: no answer yet" in text and "Right: (a) max 2x2, (b) average 2x2, (d)" in text
    passed, text = run_check(exercises.check_pooling_by_hand, replaced(BY_HAND_RIGHT, 0, [5, 4, 1, 8]), BATCH)
    assert passed is False and "yours has shape (4,)" in text
    passed, text = run_check(exercises.check_pooling_by_hand, BY_HAND_RIGHT[:3], BATCH)
    assert passed is False and "The answer is 4 values in a tuple" in text
    passed, text = run_check(exercises.check_pooling_by_hand, None, BATCH)
    assert passed is False and "no answer yet" in text


def test_by_hand_refuses_a_map_of_several_channels():
    with pytest.raises(ValueError, match=r"feature_map must have shape \(H, W\) or \(1, H, W, 1\), got shape \(1, 4, 4, 2\)"):
        exercises.check_pooling_by_hand(None, np.zeros((1, 4, 4, 2)))


# --- ex-pooling-overlap: 3 x 3, stride 2, on 13 x 13 --------------------------------------------------

N, POOL, STRIDE = 13, 3, 2
OVERLAP_RIGHT = ((N - POOL) // STRIDE + 1, math.ceil(N / STRIDE))
OVERLAP_MISTAKES = [
    (replaced(OVERLAP_RIGHT, 0, (N - POOL) // STRIDE), "the `+ 1` is missing"),
    (replaced(OVERLAP_RIGHT, 0, N - POOL + 1), "the stride is ignored"),
    (replaced(OVERLAP_RIGHT, 0, (N - POOL) // POOL + 1), "not by their size"),
    (replaced(OVERLAP_RIGHT, 1, N), "that is the size of the input"),
    (replaced(OVERLAP_RIGHT, 1, N // STRIDE), "the division is rounded down"),
    (replaced(OVERLAP_RIGHT, 1, math.ceil(N / POOL)), "not by their size"),
]


def test_overlap_right_answer_passes_and_matches_max_pool2d(run_check):
    x = np.zeros((1, N, N, 1))
    assert ops.max_pool2d(x, POOL, STRIDE).shape[1] == OVERLAP_RIGHT[0]
    assert ops.max_pool2d(x, POOL, STRIDE, padding="same").shape[1] == OVERLAP_RIGHT[1]
    passed, text = run_check(exercises.check_pooling_overlap, OVERLAP_RIGHT)
    assert passed is True and text == "check_pooling_overlap: right. Well done!\n"


@pytest.mark.parametrize("answer, words", OVERLAP_MISTAKES, ids=[f"{answer}-{words}" for answer, words in OVERLAP_MISTAKES])
def test_overlap_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_pooling_overlap, answer)
    assert passed is False
    assert "known mistake" in text and words in text, text


def test_overlap_unknown_answer_and_none(run_check):
    passed, text = run_check(exercises.check_pooling_overlap, (2, 3))
    assert passed is False and text.count("which is not it") == 2 and "Hint: floor((n + 2p - k) / s) + 1" in text
    assert str(OVERLAP_RIGHT[0]) not in text and str(OVERLAP_RIGHT[1]) not in text
    passed, text = run_check(exercises.check_pooling_overlap, None)
    assert passed is False and "no answer yet" in text


# --- ex-pooling-relu-order ------------------------------------------------------------------------


def two_orders_agree(pool, maps):
    """ReLU then pool against pool then ReLU, 2 x 2 windows with stride 2, in NumPy."""
    def pooled(x):
        n, h, w, c = x.shape
        return pool(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))
    return bool(np.allclose(pooled(np.maximum(maps, 0)), np.maximum(pooled(maps), 0)))


MAPS = np.random.default_rng(6).normal(size=(4, 6, 6, 2))
MAX_WORD = "yes" if two_orders_agree(np.max, MAPS) else "no"
AVERAGE_WORD = "yes" if two_orders_agree(np.mean, MAPS) else "no"
RELU_RIGHT = (MAX_WORD, AVERAGE_WORD, [[-1, 1], [0, 0]])


@pytest.mark.parametrize("window", [[[-1, 1], [0, 0]], [[3, -2], [-5, 1]], np.array([[0.5, -0.25], [0, 0]])])
def test_relu_order_accepts_any_window_where_the_orders_differ(run_check, window):
    assert not two_orders_agree(np.mean, np.asarray(window, dtype=float).reshape(1, 2, 2, 1))
    passed, text = run_check(exercises.check_pooling_relu_order, (MAX_WORD.upper(), f" {AVERAGE_WORD}", window))
    assert passed is True and text == "check_pooling_relu_order: right. Well done!\n"


RELU_MISTAKES = [
    (replaced(RELU_RIGHT, 0, "no" if MAX_WORD == "yes" else "yes"), "never changes the order of two numbers"),
    (replaced(RELU_RIGHT, 1, "no" if AVERAGE_WORD == "yes" else "yes"), "try a window with a negative and a positive number"),
    (replaced(RELU_RIGHT, 2, [[1, 2], [0, 3]]), "the window needs a negative number"),
    (replaced(RELU_RIGHT, 2, [[-1, -2], [0, -3]]), "the window needs a positive number too"),
    (replaced(RELU_RIGHT, 2, [-1, 1, 0, 0]), "it must be 2 x 2"),
]


@pytest.mark.parametrize("answer, words", RELU_MISTAKES, ids=[words for _, words in RELU_MISTAKES])
def test_relu_order_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_pooling_relu_order, answer)
    assert passed is False
    assert words in text, text
    assert text.count("not yet") == 2


def test_relu_order_other_wrong_answers(run_check):
    passed, text = run_check(exercises.check_pooling_relu_order, ("maybe", "no", "window"))
    assert passed is False and "max pooling: not yet. You answered 'maybe', which is not it." in text
    assert "window: not yet" in text and "it could not be used" in text
    passed, text = run_check(exercises.check_pooling_relu_order, None)
    assert passed is False and "no answer yet" in text


# --- ex-pooling-as-convolution ----------------------------------------------------------------------


def averaging_kernel(channels):
    kernel = np.zeros((2, 2, channels, channels))
    for k in range(channels):
        kernel[:, :, k, k] = 1 / (2 * 2)
    return kernel


EDGE_MAPS = np.abs(np.random.default_rng(7).normal(size=(1, 6, 8, 4)))


def test_as_convolution_right_answer_passes_and_pools(run_check):
    kernel = averaging_kernel(4)
    tiles = EDGE_MAPS.reshape(1, 3, 2, 4, 2, 4)
    np.testing.assert_allclose(ops.conv2d(EDGE_MAPS, kernel, stride=2), tiles.mean(axis=(2, 4)), rtol=1e-12, atol=1e-12)
    passed, text = run_check(exercises.check_pooling_as_convolution, kernel, EDGE_MAPS)
    assert passed is True and text == "check_pooling_as_convolution: right. Well done!\n"
    # The channel count comes from the maps.
    assert run_check(exercises.check_pooling_as_convolution, averaging_kernel(3), EDGE_MAPS[..., :3])[0] is True


def top_left(channels):
    kernel = np.zeros((2, 2, channels, channels))
    kernel[0, 0] = np.eye(channels)
    return kernel


AS_CONVOLUTION_MISTAKES = [
    (np.full((2, 2, 4, 4), 1 / 4), "Pooling never mixes channels"),
    (np.full((2, 2, 4, 4), 1 / 16), "averages over the window and all the channels"),
    (averaging_kernel(4) * 4, "that is the window's sum"),
    (top_left(4), "subsampling"),
]


@pytest.mark.parametrize("kernel, words", AS_CONVOLUTION_MISTAKES, ids=[words for _, words in AS_CONVOLUTION_MISTAKES])
def test_as_convolution_mistakes_are_named(run_check, kernel, words):
    passed, text = run_check(exercises.check_pooling_as_convolution, kernel, EDGE_MAPS)
    assert passed is False
    assert "known mistake" in text and words in text, text


def test_as_convolution_unknown_and_misshapen_answers(run_check):
    channels_reversed = np.broadcast_to(np.eye(4)[::-1] / 2, (2, 2, 4, 4))     # mixes channels, and halves
    passed, text = run_check(exercises.check_pooling_as_convolution, channels_reversed, EDGE_MAPS)
    assert passed is False and "which is not it" in text and "Hint: kernel[u, v, c, k]" in text
    assert "0.25" not in text
    passed, text = run_check(exercises.check_pooling_as_convolution, averaging_kernel(4)[:, :, 0], EDGE_MAPS)
    assert passed is False and "yours has shape (2, 2, 4)" in text
    passed, text = run_check(exercises.check_pooling_as_convolution, None, EDGE_MAPS)
    assert passed is False and "no answer yet. Replace None with a kernel of shape (2, 2, 4, 4)" in text


def test_as_convolution_refuses_maps_without_a_batch_axis():
    with pytest.raises(ValueError, match=r"edge_maps must have shape \(N, H, W, C\).*got shape \(6, 8, 4\)"):
        exercises.check_pooling_as_convolution(None, EDGE_MAPS[0])
