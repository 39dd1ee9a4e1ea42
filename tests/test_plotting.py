"""The shared figures: one colour scale per figure, symmetric around zero when sign matters."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_course import plotting  # noqa: E402


def _panels(figure):
    return [axis for axis in figure.axes if axis.images and axis.get_label() != "<colorbar>"]


def test_signed_maps_share_a_symmetric_scale_and_a_colour_bar():
    maps = np.zeros((4, 4, 3))
    maps[0, 0, 0], maps[1, 1, 2] = -0.5, 2.0
    figure = plotting.show_feature_maps(maps)
    panels = _panels(figure)
    assert len(panels) == 3
    for axis in panels:
        image = axis.images[0]
        assert image.get_clim() == (-2.0, 2.0) and image.get_cmap().name == "RdBu_r"
    assert any(axis.get_label() == "<colorbar>" for axis in figure.axes)
    plt.close(figure)


def test_non_negative_maps_start_at_zero():
    maps = np.arange(2 * 2 * 2, dtype=float).reshape(2, 2, 2)
    figure = plotting.show_feature_maps(maps, titles=["a", "b"])
    for axis in _panels(figure):
        assert axis.images[0].get_clim() == (0.0, 7.0) and axis.images[0].get_cmap().name == "viridis"
    plt.close(figure)


def test_feature_map_arguments_are_checked():
    with pytest.raises(ValueError, match=r"maps must have shape \(H, W, C\)"):
        plotting.show_feature_maps(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"titles must have one entry per channel \(2\), got 1"):
        plotting.show_feature_maps(np.zeros((4, 4, 2)), titles=["only one"])


def test_layer_outputs_get_one_scale_and_colour_bar_per_layer():
    signed = np.linspace(-1.0, 3.0, 4 * 4 * 2).reshape(4, 4, 2)
    after_relu = np.maximum(signed, 0.0)
    figure = plotting.show_layer_outputs([("conv", signed), ("relu", after_relu)], columns=2)
    limits = [axis.images[0].get_clim() for axis in _panels(figure)]
    assert limits == [(-3.0, 3.0)] * 2 + [(0.0, 3.0)] * 2
    assert sorted(axis.get_ylabel() for axis in figure.axes if axis.get_label() == "<colorbar>") == ["conv", "relu"]
    plt.close(figure)
    with pytest.raises(ValueError, match=r"the maps of 'flat' must have shape \(H, W, C\)"):
        plotting.show_layer_outputs([("flat", np.zeros(5))])
