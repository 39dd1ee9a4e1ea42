"""cnn_course.fast against the readable functions it stands in for, and cnn_course.parallel."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from cnn_course import convolution, fast, gradients, layers, lenet, ops, optimizers, parallel

from numerics import assert_float64_close, assert_within, sum_tolerance
from strategies import POOL_CASES, WINDOW_CASES

# (batch, channels in, channels out): one grey channel takes fast's one-cell-at-a-time im2col.
SIZES = [(1, 1, 3), (5, 1, 4), (4, 3, 2), (70, 2, 3)]
# Chapter 9's two convolutions, large enough for every way fast cuts the work: (x, kernel).
CHAPTER_9 = {"conv1": ((64, 28, 28, 1), (5, 5, 1, 16)), "conv2": ((64, 12, 12, 16), (5, 5, 16, 32))}


def _operands(rng, batch, height, width, window, c_in, c_out, dtype=np.float64):
    x = rng.standard_normal((batch, height, width, c_in)).astype(dtype)
    kernel = rng.standard_normal((*window, c_in, c_out)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype)
    return x, kernel, bias


@pytest.mark.parametrize("height, width, window, stride, padding", WINDOW_CASES)
@pytest.mark.parametrize("batch, c_in, c_out", SIZES)
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_equals_the_readable_conv2d(height, width, window, stride, padding, batch, c_in, c_out, dilation):
    rng = np.random.default_rng(batch * 10 + c_in)
    x, kernel, bias = _operands(rng, batch, height + 4, width + 4, window, c_in, c_out)
    settings = dict(stride=stride, padding=padding, dilation=dilation)
    expected = ops.conv2d(x, kernel, bias, **settings)
    magnitude = ops.conv2d(np.abs(x), np.abs(kernel), np.abs(bias), **settings)
    assert_float64_close(fast.conv2d(x, kernel, bias, **settings), expected, magnitude)
    assert_float64_close(fast.conv2d(x, kernel, **settings), ops.conv2d(x, kernel, **settings), magnitude)


@pytest.mark.parametrize("height, width, window, stride, padding", WINDOW_CASES)
@pytest.mark.parametrize("batch, c_in, c_out", SIZES)
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_backward_equals_the_readable_backward(height, width, window, stride, padding, batch, c_in, c_out, dilation):
    rng = np.random.default_rng(batch * 10 + c_in + 1)
    x, kernel, _ = _operands(rng, batch, height + 4, width + 4, window, c_in, c_out)
    settings = dict(stride=stride, padding=padding, dilation=dilation)
    grad_output = rng.standard_normal(ops.conv2d(x, kernel, **settings).shape)
    expected = gradients.conv2d_backward(grad_output, x, kernel, **settings)
    # Each gradient is a sum of products of |grad_output| with |x| or |kernel|: its magnitude.
    magnitude = gradients.conv2d_backward(np.abs(grad_output), np.abs(x), np.abs(kernel), **settings)
    for need_grad_x in (True, False):
        got = fast.conv2d_backward(grad_output, x, kernel, need_grad_x=need_grad_x, **settings)
        if need_grad_x:
            assert_float64_close(got[0], expected[0], magnitude[0], "grad_x")
        else:
            assert got[0] is None
        assert_float64_close(got[1], expected[1], magnitude[1], "grad_kernel")
        assert_float64_close(got[2], expected[2], magnitude[2], "grad_bias")
    columns = convolution.im2col(x, window, stride, padding, dilation)
    with_columns = fast.conv2d_backward(grad_output, x, kernel, columns=columns, **settings)
    assert_float64_close(with_columns[1], expected[1], magnitude[1], "grad_kernel from given columns")


def test_float32_stays_float32_and_is_right():
    """Chapter 9's second convolution in float32, against float64, within the bound of a sum of products."""
    rng = np.random.default_rng(3)
    x, kernel, bias = _operands(rng, 64, 12, 12, (5, 5), 16, 32, np.float32)
    grad_output = rng.standard_normal((64, 8, 8, 32)).astype(np.float32)
    output = fast.conv2d(x, kernel, bias)
    grad_x, grad_kernel, grad_bias = fast.conv2d_backward(grad_output, x, kernel)
    assert {array.dtype for array in (output, grad_x, grad_kernel, grad_bias)} == {np.dtype(np.float32)}
    x64, kernel64, bias64, grad64 = (a.astype(np.float64) for a in (x, kernel, bias, grad_output))
    assert_within(output, ops.conv2d(x64, kernel64, bias64), sum_tolerance(ops.conv2d(np.abs(x64), np.abs(kernel64), np.abs(bias64)), 401))
    expected = gradients.conv2d_backward(grad64, x64, kernel64)
    magnitude = gradients.conv2d_backward(np.abs(grad64), np.abs(x64), np.abs(kernel64))
    assert_within(grad_x, expected[0], sum_tolerance(magnitude[0], 25 * 32))
    assert_within(grad_kernel, expected[1], sum_tolerance(magnitude[1], 64 * 8 * 8))
    assert_within(grad_bias, expected[2], sum_tolerance(magnitude[2], 64 * 8 * 8))


@pytest.mark.parametrize("batch", [64, 200])
@pytest.mark.parametrize("layer", CHAPTER_9)
def test_every_way_of_cutting_the_work_equals_the_readable_functions(layer, batch):
    """Halves of the forward product (conv2), tasks and halves of the backward pass, and, for 200
    images, im2col a few dozen images at a time: float64, against ops and gradients."""
    x_shape, kernel_shape = CHAPTER_9[layer]
    rng = np.random.default_rng(batch)
    x, kernel, bias = _operands(rng, batch, *x_shape[1:3], kernel_shape[:2], *kernel_shape[2:])
    magnitude = ops.conv2d(np.abs(x), np.abs(kernel), np.abs(bias))
    assert_float64_close(fast.conv2d(x, kernel, bias), ops.conv2d(x, kernel, bias), magnitude)
    grad_output = rng.standard_normal(magnitude.shape)
    expected = gradients.conv2d_backward(grad_output, x, kernel)
    bounds = gradients.conv2d_backward(np.abs(grad_output), np.abs(x), np.abs(kernel))
    for need_grad_x in (True, False):
        got = fast.conv2d_backward(grad_output, x, kernel, need_grad_x=need_grad_x)
        for name, a, b, bound in zip(("grad_x", "grad_kernel", "grad_bias"), got, expected, bounds):
            if a is not None:
                assert_float64_close(a, b, bound, name)


@pytest.mark.parametrize("layer", CHAPTER_9)
def test_results_do_not_depend_on_the_number_of_threads(layer):
    """The work is cut by the arrays' sizes only, so one thread and four give the same bits."""
    x_shape, kernel_shape = CHAPTER_9[layer]
    rng = np.random.default_rng(4)
    x, kernel, bias = _operands(rng, *x_shape[:3], kernel_shape[:2], *kernel_shape[2:], np.float32)
    grad_output = rng.standard_normal(ops.conv2d(x, kernel).shape).astype(np.float32)
    results = []
    for count in (1, 2, 4):
        with parallel.threads(count):
            results.append((
                fast.conv2d(x, kernel, bias),
                *fast.conv2d_backward(grad_output, x, kernel),
                *fast.conv2d_backward(grad_output, x, kernel, need_grad_x=False)[1:],
                fast.max_pool2d(x),
                fast.max_pool2d_backward(grad_output[:, : x.shape[1] // 2, : x.shape[2] // 2, : x.shape[3]], x),
            ))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_chapter_9_training_does_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(5)
    images = rng.random((128, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    weights = []
    for count in (1, 2):
        network = lenet.build_lenet(seed=0)
        with parallel.threads(count):
            network.fit(images, labels, optimizers.Adam(0.002), epochs=1, batch_size=64, progress=False)
        weights.append(network.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_conv2d_layer_uses_the_fast_functions_and_keeps_only_its_input():
    layer = layers.Conv2D(4, 3)
    layer.build((9, 9, 2), np.random.default_rng(0), dtype="float64")
    x = np.random.default_rng(1).standard_normal((3, 9, 9, 2))
    output = layer.forward(x, training=True)
    assert layer._cache is x
    assert_float64_close(output, ops.conv2d(x, layer.params["kernel"], layer.params["bias"]), 100.0)


def test_max_pool_layer_uses_the_fast_functions_and_keeps_only_its_input():
    layer = layers.MaxPool2D(3, stride=2, padding="same")
    layer.build((9, 9, 2), np.random.default_rng(0), dtype="float64")
    x = np.random.default_rng(1).standard_normal((3, 9, 9, 2))
    output = layer.forward(x, training=True)
    assert layer._cache is x
    np.testing.assert_array_equal(output, ops.max_pool2d(x, 3, 2, "same"))
    grad_output = np.random.default_rng(2).standard_normal(output.shape)
    assert_float64_close(layer.backward(grad_output), gradients.max_pool2d_backward(grad_output, x, 3, 2, "same"), np.abs(grad_output).sum())


# POOL_CASES, and windows with gaps between them and uncovered last rows and columns.
FAST_POOL_CASES = POOL_CASES + [(7, 7, 2, None, "valid"), (7, 8, 2, 3, "valid"), (8, 7, (2, 1), (3, 2), "same")]


def _pool_input(rng, shape, dtype=np.float64):
    """Random values after a ReLU (so many windows tie at 0), with one NaN and one -inf."""
    x = np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    x.flat[3] = np.nan
    x.flat[shape[-1] * 5 + 1] = -np.inf
    return x


@pytest.mark.parametrize("height, width, pool_size, stride, padding", FAST_POOL_CASES)
@pytest.mark.parametrize("batch, channels", [(1, 1), (3, 2), (70, 3)])
def test_max_pooling_equals_the_readable_max_pooling(height, width, pool_size, stride, padding, batch, channels):
    """Ties go to the first cell, a NaN makes the window's maximum NaN and its gradient 0, as in
    the readable functions; windows that do not overlap give exactly their bits."""
    rng = np.random.default_rng(batch + channels)
    x = _pool_input(rng, (batch, height, width, channels))
    settings = dict(pool_size=pool_size, stride=stride, padding=padding)
    expected = ops.max_pool2d(x, **settings)
    np.testing.assert_array_equal(fast.max_pool2d(x, **settings), expected)
    grad_output = rng.standard_normal(expected.shape)
    expected_grad = gradients.max_pool2d_backward(grad_output, x, **settings)
    got_grad = fast.max_pool2d_backward(grad_output, x, **settings)
    strides = pool_size if stride is None else stride
    if np.all(np.greater_equal(strides, pool_size)):
        np.testing.assert_array_equal(got_grad, expected_grad)
    else:
        # Overlapping windows add their gradients, in another order: within rounding.
        magnitude = gradients.max_pool2d_backward(np.abs(grad_output), x, **settings)
        assert_float64_close(got_grad, expected_grad, magnitude)


def test_max_pooling_keeps_the_readable_types():
    rng = np.random.default_rng(7)
    x = _pool_input(rng, (64, 24, 24, 16), np.float32)
    grad_output = rng.standard_normal((64, 12, 12, 16)).astype(np.float32)
    assert fast.max_pool2d(x).dtype == np.float32
    np.testing.assert_array_equal(fast.max_pool2d_backward(grad_output, x), gradients.max_pool2d_backward(grad_output, x))
    assert fast.max_pool2d_backward(grad_output, x).dtype == np.float32
    # A float64 gradient through float32 maps comes back in float64, as from the readable function.
    wide = grad_output.astype(np.float64)
    assert fast.max_pool2d_backward(wide, x).dtype == gradients.max_pool2d_backward(wide, x).dtype == np.float64
    integers = np.arange(2 * 4 * 4 * 1).reshape(2, 4, 4, 1)
    np.testing.assert_array_equal(fast.max_pool2d(integers), ops.max_pool2d(integers))


@pytest.mark.parametrize(
    "call",
    [
        lambda f, x, k, g: f.conv2d(x[0], k),
        lambda f, x, k, g: f.conv2d(x, k[:, :, :1]),
        lambda f, x, k, g: f.conv2d(x, k, np.zeros(3)),
        lambda f, x, k, g: f.conv2d(x, k, stride=0),
        lambda f, x, k, g: f.conv2d(x, k, padding="full"),
        lambda f, x, k, g: f.conv2d_backward(g[:, :2], x, k),
        lambda f, x, k, g: f.conv2d_backward(g, x, k, columns=np.zeros((2, 3))),
        lambda f, x, k, g: f.conv2d_backward(g, x, k[:, :, :1]),
        lambda f, x, k, g: f.conv2d_backward("grad", x, k),
        lambda f, x, k, g: f.max_pool2d(x[0]),
        lambda f, x, k, g: f.max_pool2d(x, 0),
        lambda f, x, k, g: f.max_pool2d(x, 2, padding=1),
        lambda f, x, k, g: f.max_pool2d(x, 7),
        lambda f, x, k, g: f.max_pool2d_backward(g, x),
        lambda f, x, k, g: f.max_pool2d_backward(g[:, :3, :3, :2], x, output=np.zeros(2)),
        lambda f, x, k, g: f.max_pool2d_backward(g[:, :3, :3, :2], "x"),
    ],
)
def test_bad_input_gets_the_readable_functions_error(call):
    rng = np.random.default_rng(6)
    x, kernel = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((3, 3, 2, 4))
    grad_output = np.zeros((2, 4, 4, 4))
    readable = type("readable", (), {
        "conv2d": staticmethod(ops.conv2d),
        "conv2d_backward": staticmethod(gradients.conv2d_backward),
        "max_pool2d": staticmethod(ops.max_pool2d),
        "max_pool2d_backward": staticmethod(gradients.max_pool2d_backward),
    })
    with pytest.raises((TypeError, ValueError)) as expected:
        call(readable, x, kernel, grad_output)
    with pytest.raises(expected.type) as got:
        call(fast, x, kernel, grad_output)
    assert str(got.value) == str(expected.value)


def test_split_cuts_into_nearly_equal_consecutive_slices():
    assert parallel.split(10, 3) == [slice(0, 4), slice(4, 7), slice(7, 10)]
    assert parallel.split(2, 4) == [slice(0, 1), slice(1, 2)]
    assert parallel.split(0, 2) == [slice(0, 0)]
    with pytest.raises(ValueError, match="parts must be at least 1"):
        parallel.split(5, 0)


def test_map_chunks_keeps_the_order_and_uses_the_threads():
    seen = set()

    def work(chunk):
        seen.add(threading.current_thread().name)
        return chunk * 10

    with parallel.threads(2):
        assert parallel.map_chunks(work, range(7)) == [0, 10, 20, 30, 40, 50, 60]
    assert seen == {threading.current_thread().name, "cnn_course-worker"}
    seen.clear()
    with parallel.threads(1):
        assert parallel.map_chunks(work, range(3)) == [0, 10, 20]
    assert seen == {threading.current_thread().name}


def test_map_chunks_raises_an_error_from_any_chunk_and_recovers():
    def work(chunk):
        if chunk == 3:
            raise ValueError("chunk 3 failed")
        return chunk

    with parallel.threads(2):
        with pytest.raises(ValueError, match="chunk 3 failed"):
            parallel.map_chunks(work, range(6))
        assert parallel.map_chunks(lambda chunk: -chunk, range(4)) == [0, -1, -2, -3]


def test_nested_map_chunks_runs_serially_instead_of_waiting_forever():
    with parallel.threads(2):
        result = parallel.map_chunks(lambda outer: parallel.map_chunks(lambda inner: outer * 10 + inner, range(3)), range(4))
    assert result == [[10 * outer + inner for inner in range(3)] for outer in range(4)]


def test_thread_count_comes_from_the_environment():
    code = "from cnn_course import parallel; print(parallel.thread_count())"
    environment = {**os.environ, "CNN_COURSE_THREADS": "3"}
    assert subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True).stdout.strip() == "3"
    environment["CNN_COURSE_THREADS"] = "none"
    failed = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert failed.returncode != 0 and "CNN_COURSE_THREADS must be a positive whole number, got 'none'" in failed.stderr
    with pytest.raises(ValueError, match="count must be at least 1"):
        with parallel.threads(0):
            pass
