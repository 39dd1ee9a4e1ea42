"""Figures the chapters share: image grids, one array with its numbers, feature maps.

Introduced in the chapter "Images as arrays". Every function draws on
matplotlib and returns the ``Figure`` so a chapter can add to it or save it.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

from cnn_course import checks

__all__ = ["show_images", "show_array", "show_feature_maps", "show_layer_outputs"]


def show_images(images, titles=None, columns=10, cmap="gray", size=1.2, suptitle=None):
    """Draw a grid of grey images, each with an optional title.

    Parameters
    ----------
    images : ndarray of shape (N, H, W) or (N, H, W, 1)
    titles : sequence of str, optional
        One title per image (for example its label).
    columns : int, default 10
    cmap : str, default "gray"
    size : float, default 1.2
        Width and height of one image, in inches.
    suptitle : str, optional
        A title for the whole grid.

    Returns
    -------
    matplotlib.figure.Figure
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    checks.check_rank(images, 3, "images", "(N, H, W) or (N, H, W, 1)")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must have one entry per image ({len(images)}), got {len(titles)}")
    columns = max(1, min(columns, len(images)))
    rows = math.ceil(len(images) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3 * (titles is not None)))
    axes = np.atleast_1d(axes).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], cmap=cmap)
            if titles is not None:
                axis.set_title(str(titles[index]), fontsize=9)
    if suptitle:
        figure.suptitle(suptitle)
    figure.tight_layout()
    return figure


def show_array(array, ax=None, cmap="gray", annotate=True, fmt="{:.0f}", title=None, fontsize=None):
    """Draw a 2-D array as an image, with each cell's number written on it.

    Parameters
    ----------
    array : ndarray of shape (H, W)
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    cmap : str, default "gray"
    annotate : bool, default True
        Write every value in its cell (readable up to about 30 x 30).
    fmt : str, default "{:.0f}"
        Format of the written values.
    title : str, optional
    fontsize : float, optional
        Size of the written values; chosen from the array size when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = np.asarray(array)
    checks.check_rank(array, 2, "array", "(H, W)")
    if ax is None:
        side = min(9.0, 0.45 * max(array.shape) + 1.5)
        _, ax = plt.subplots(figsize=(side, side))
    image = ax.imshow(array, cmap=cmap)
    if annotate:
        fontsize = fontsize or max(4.0, min(11.0, 140.0 / max(array.shape)))
        middle = (np.nanmax(array) + np.nanmin(array)) / 2
        for (row, column), value in np.ndenumerate(array):
            # Dark text on light cells and light text on dark cells keeps every number legible.
            colour = "black" if value > middle else "white"
            ax.text(column, row, fmt.format(value), ha="center", va="center", color=colour, fontsize=fontsize)
    ax.set_xlabel("column (width)")
    ax.set_ylabel("row (height)")
    if title:
        ax.set_title(title)
    return image.figure


def show_feature_maps(maps, titles=None, columns=8, cmap=None, size=1.5, suptitle=None, colorbar_label="value"):
    """Draw the channels of one feature map side by side, on one colour scale with a colour bar.

    All panels share one colour scale, so their colours compare. When some
    value is negative the scale is symmetric around zero, ``[-m, m]`` with
    ``m`` the largest ``|value|``, on a diverging colour map (white is 0, red
    positive, blue negative); otherwise it runs from 0 to the largest value.

    Parameters
    ----------
    maps : ndarray of shape (H, W, C)
        One image's activations (or the C kernels of one input channel), channels-last.
    titles : sequence of str, optional
        One title per channel; "channel k" by default.
    columns : int, default 8
    cmap : str, optional
        ``"RdBu_r"`` for signed maps and ``"viridis"`` for non-negative ones by default.
    size : float, default 1.5
        Width and height of one map, in inches.
    suptitle : str, optional
    colorbar_label : str, default "value"

    Returns
    -------
    matplotlib.figure.Figure
    """
    maps = np.asarray(maps)
    checks.check_rank(maps, 3, "maps", "(H, W, C)")
    channels = maps.shape[-1]
    titles = [f"channel {k}" for k in range(channels)] if titles is None else list(titles)
    if len(titles) != channels:
        raise ValueError(f"titles must have one entry per channel ({channels}), got {len(titles)}")
    style = _colour_scale(maps, cmap)
    columns = max(1, min(columns, channels))
    rows = math.ceil(channels / columns)
    # Each row below the first needs room for its titles; the colour bar takes the right edge.
    figure, axes = plt.subplots(
        rows, columns, figsize=(size * columns + 0.9, size * rows + 0.4 + 0.3 * (rows - 1)), layout="constrained"
    )
    axes = np.atleast_1d(axes).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index < channels:
            image = axis.imshow(maps[..., index], **style)
            axis.set_title(titles[index], fontsize=8)
    figure.colorbar(image, ax=axes.tolist(), shrink=0.9, label=colorbar_label)
    if suptitle:
        figure.suptitle(suptitle)
    return figure


def show_layer_outputs(blocks, columns=8, size=1.25, suptitle=None):
    """Draw several layers' outputs for one image, one block of rows and one colour bar per layer.

    Introduced in the chapter "Putting it together". Each layer gets the colour
    scale of :func:`show_feature_maps`: symmetric around zero on a diverging
    map when it has negative values (a convolution's output), from 0 on a
    sequential map otherwise (after ReLU or pooling).

    Parameters
    ----------
    blocks : sequence of (str, ndarray of shape (H, W, C))
        ``(layer name, its output for one image)`` pairs, drawn top to bottom.
    columns : int, default 8
    size : float, default 1.25
        Width and height of one map, in inches.
    suptitle : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    blocks = [(name, np.asarray(maps)) for name, maps in blocks]
    if not blocks:
        raise ValueError("blocks must hold at least one (name, maps) pair, got none")
    for name, maps in blocks:
        checks.check_rank(maps, 3, f"the maps of {name!r}", "(H, W, C)")
    rows = [math.ceil(maps.shape[-1] / columns) for _, maps in blocks]
    figure = plt.figure(figsize=(size * columns + 1.2, sum(size * r + 0.35 for r in rows) + 0.4), layout="constrained")
    subfigures = np.atleast_1d(figure.subfigures(len(blocks), 1, height_ratios=rows))
    for subfigure, (name, maps), block_rows in zip(subfigures, blocks, rows):
        style = _colour_scale(maps)
        axes = subfigure.subplots(block_rows, columns, squeeze=False)
        for k, axis in enumerate(axes.flat):
            axis.axis("off")
            if k < maps.shape[-1]:
                shown = axis.imshow(maps[..., k], **style)
                axis.set_title(f"{name} {k}", fontsize=8)
        subfigure.colorbar(shown, ax=axes, shrink=0.9, pad=0.01, label=name)
    if suptitle:
        figure.suptitle(suptitle)
    return figure


def _colour_scale(maps, cmap=None):
    """imshow's colour options: symmetric limits on a diverging map if any value is negative, else from 0."""
    largest = float(np.abs(maps).max()) if maps.size else 0.0
    largest = largest if largest > 0 else 1.0  # an all-zero map still gets a scale
    if (maps < 0).any():  # signed values: white is 0, red positive, blue negative
        return {"cmap": cmap or "RdBu_r", "vmin": -largest, "vmax": largest}
    return {"cmap": cmap or "viridis", "vmin": 0.0, "vmax": largest}
