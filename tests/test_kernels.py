"""The hand-made edge kernels: what each one measures, on images whose answer is known."""

import numpy as np
import pytest

from cnn_course import kernels, ops


@pytest.mark.parametrize("kind, centre", [("prewitt", 1.0), ("sobel", 2.0)])
def test_edge_kernels_named_and_weighted(kind, centre):
    found = kernels.edge_kernels(kind)
    assert tuple(found) == kernels.EDGE_DIRECTIONS
    np.testing.assert_array_equal(found["vertical"], [[1, 0, -1], [centre, 0, -centre], [1, 0, -1]])
    np.testing.assert_array_equal(found["horizontal"], found["vertical"].T)
    np.testing.assert_array_equal(found["diagonal /"], np.fliplr(found["diagonal \\"]))
    for kernel in found.values():
        assert kernel.shape == (3, 3) and kernel.dtype == np.float64 and kernel.sum() == 0


@pytest.mark.parametrize("kind", ["prewitt", "sobel"])
def test_each_detector_answers_most_to_its_own_edge(kind):
    rows, columns = np.indices((9, 9))
    edges = {  # bright (1) on the left / top / above the diagonal: every detector answers positively
        "vertical": (columns < 4),
        "horizontal": (rows < 4),
        "diagonal \\": (columns > rows),
        "diagonal /": (rows + columns < 8),
    }
    found = kernels.edge_kernels(kind)
    for name, kernel in found.items():
        responses = {edge: ops.correlate2d(image.astype(float), kernel).max() for edge, image in edges.items()}
        assert max(responses, key=responses.get) == name
        assert responses[name] > 0


def test_a_flat_patch_gives_zero_and_the_stack_is_a_conv_kernel():
    filters = kernels.edge_filters("sobel", dtype="float32")
    assert filters.shape == (3, 3, 1, 4) and filters.dtype == np.float32
    for k, name in enumerate(kernels.EDGE_DIRECTIONS):
        np.testing.assert_array_equal(filters[:, :, 0, k], kernels.edge_kernels("sobel")[name])
    np.testing.assert_allclose(ops.conv2d(np.full((1, 5, 5, 1), 0.7), filters.astype(np.float64)), 0.0, atol=1e-12)


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="kind must be 'prewitt' or 'sobel', got 'canny'"):
        kernels.edge_kernels("canny")
