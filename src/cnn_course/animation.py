"""An animation of a kernel sliding over a zero-padded image with a stride.

Introduced in the chapter "Padding and stride". Every number the animation
shows comes from :mod:`cnn_course.ops` (``padding_amounts``, ``pad2d`` and
``conv2d``), so the picture cannot disagree with the functions the chapters
build. Each artist that a frame changes carries a ``gid`` (``"window"``,
``"output-cell"``, ``"output-i-j"``), so tests and readers can find it.

Its HTML player (``to_jshtml()``) needs nothing from the network: matplotlib's
player takes its button icons from Font Awesome on a CDN, so offline (or with
the CDN blocked) the buttons would be blank; here they are inline SVG icons, and
the frame picture and slider carry the text a screen reader announces.
"""

import html
import re

import matplotlib.animation
import matplotlib.figure
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np

from cnn_course import checks, ops

__all__ = ["ConvolutionAnimation", "animate_convolution"]

# Colours of the three panels: padding cells are grey so the border of zeros
# stands out from the image, and the moving window and the output cell it
# fills share one colour.
_PADDING_COLOUR = "#d9d9d9"
_IMAGE_COLOUR = "#ffffff"
_KERNEL_COLOUR = "#fde9c9"
_HIGHLIGHT_COLOUR = "tab:red"

# The Font Awesome 4 icons of matplotlib's HTML player, drawn as small inline SVG paths
# on a 16 x 16 grid (no icon font, which may be missing, and no request).
_BUTTON_ICONS = {
    "fa-minus": "M2 7h12v2H2z",  # slower
    "fa-fast-backward": "M1 2h2v12H1zM9 2 3 8l6 6zM15 2 9 8l6 6z",  # first frame
    "fa-step-backward": "M2 2h3v12H2zM13 2 5 8l8 6z",  # previous frame
    "fa-play fa-flip-horizontal": "M12 2 2 8l10 6z",  # play backwards
    "fa-pause": "M3 2h4v12H3zM9 2h4v12H9z",
    "fa-play": "M4 2l10 6-10 6z",
    "fa-step-forward": "M11 2h3v12h-3zM3 2l8 6-8 6z",  # next frame
    "fa-fast-forward": "M13 2h2v12h-2zM7 2l6 6-6 6zM1 2l6 6-6 6z",  # last frame
    "fa-plus": "M7 2h2v5h5v2H9v5H7V9H2V7h5z",  # faster
}


def _check_padding(padding):
    """Return ``padding`` checked as every op checks it, as one word or one int for both axes."""
    padding = checks.check_padding(padding)
    if isinstance(padding, str):
        return padding
    if padding[0] != padding[1]:
        raise ValueError(f"padding must be the same along height and width for the animation, got {padding!r}")
    return padding[0]


def _draw_grid(axes, values, colours, fmt, title, text_colour="black", gid_prefix=None):
    """Draw ``values`` as a table of coloured cells, one number per cell; return the texts."""
    rows, columns = values.shape
    for (row, column), colour in np.ndenumerate(colours):
        cell = matplotlib.patches.Rectangle(
            (column - 0.5, row - 0.5), 1, 1, facecolor=colour, edgecolor="#808080", linewidth=0.8, clip_on=False
        )
        axes.add_patch(cell)
    texts = {}
    for (row, column), value in np.ndenumerate(values):
        text = axes.text(column, row, fmt.format(value), ha="center", va="center", fontsize=9, color=text_colour)
        if gid_prefix is not None:
            text.set_gid(f"{gid_prefix}-{row}-{column}")
        texts[row, column] = text
    axes.set_xlim(-0.5, columns - 0.5)
    # Row 0 at the top, as in a matrix and in imshow.
    axes.set_ylim(rows - 0.5, -0.5)
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_title(title, fontsize=9)
    return texts


def animate_convolution(image, kernel, stride=1, padding=0, figure=None, interval=1000, fmt="{:g}", max_frames=64):
    """Animate ``kernel`` sliding over a zero-padded ``image``, one output cell per frame.

    Three panels, left to right: the padded input (padding cells grey) with
    the current window outlined, the kernel, and the output with the cells
    computed so far. Frame ``k`` fills output cell ``(i, j) = divmod(k, W')``,
    the window whose top-left corner is at ``(i * stride, j * stride)`` of the
    padded input. The output has ``floor((n + 2p - k) / s) + 1`` cells along
    each axis (``ceil(n / s)`` for ``"same"``).

    Introduced in the chapter "Padding and stride".

    Parameters
    ----------
    image : ndarray of shape (H, W)
        One grey image, small enough to read (every cell shows its number).
    kernel : ndarray of shape (kh, kw)
        At most as large as the padded image.
    stride : int, default 1
        Step of the window, the same along height and width.
    padding : {"valid", "same"} or int, default 0
        Zeros added on each side; ``"same"`` splits them like TensorFlow
        (the odd extra zero at the bottom/right).
    figure : matplotlib.figure.Figure, optional
        An empty figure to draw on (choose its size and dpi to control the
        size of a saved animation); a new one is made when omitted. Close it
        with ``plt.close(figure)`` in a notebook so that it is not also shown
        as a still picture.
    interval : int, default 1000
        Milliseconds between frames.
    fmt : str, default "{:g}"
        Format of the numbers written in the cells.
    max_frames : int, default 64
        Refuse larger animations: each frame is a full picture, so a web page
        holding hundreds of them becomes heavy.

    Returns
    -------
    ConvolutionAnimation
        A ``matplotlib.animation.FuncAnimation`` of ``H' * W'`` frames, one
        per output cell. Render it with ``to_jshtml()`` (a player that works
        offline, see :class:`ConvolutionAnimation`) or ``save()``.

    Raises
    ------
    TypeError
        If ``image`` or ``kernel`` is not numeric, ``stride`` is not an int,
        ``padding`` is neither a word nor an int, or ``figure`` is not a Figure.
    ValueError
        If a shape is wrong, the kernel does not fit the padded image, or the
        animation would have more than ``max_frames`` frames.
    """
    image = checks.as_float_array(image, "image")
    kernel = checks.as_float_array(kernel, "kernel")
    checks.check_rank(image, 2, "image", "(H, W)")
    checks.check_rank(kernel, 2, "kernel", "(kh, kw)")
    stride = checks.check_int(stride, "stride", 1)
    padding = _check_padding(padding)
    max_frames = checks.check_int(max_frames, "max_frames", 1)
    if figure is not None and not isinstance(figure, matplotlib.figure.Figure):
        raise TypeError(f"figure must be a matplotlib Figure or None, got {type(figure).__name__}")
    if figure is not None and figure.axes:
        raise ValueError(f"figure must be empty, got a figure with {len(figure.axes)} axes")
    for array, name, layout in ((image, "image", "(H, W)"), (kernel, "kernel", "(kh, kw)")):
        if min(array.shape) < 1:
            raise ValueError(f"{name} must have shape {layout} with both sizes at least 1, got shape {array.shape}")

    kh, kw = kernel.shape
    pads = (
        ops.padding_amounts(image.shape[0], kh, stride, padding),
        ops.padding_amounts(image.shape[1], kw, stride, padding),
    )
    padded = ops.pad2d(image, pads)
    if kh > padded.shape[0] or kw > padded.shape[1]:
        raise ValueError(
            f"kernel must have shape (kh, kw) with kh <= {padded.shape[0]} and kw <= {padded.shape[1]} "
            f"to fit image of shape {image.shape} padded to {padded.shape}, got kernel of shape {kernel.shape}"
        )
    # The values come from conv2d itself, on a batch of one image with one channel.
    batch = image[np.newaxis, :, :, np.newaxis]
    filters = kernel[:, :, np.newaxis, np.newaxis]
    output = ops.conv2d(batch, filters, stride=stride, padding=padding)[0, :, :, 0]
    out_h, out_w = output.shape
    if out_h * out_w > max_frames:
        raise ValueError(
            f"the animation would have {out_h * out_w} frames (output of shape {output.shape}), more than "
            f"max_frames={max_frames}; use a smaller image, a larger stride, or raise max_frames"
        )

    if figure is None:
        figure = plt.figure(figsize=(7.0, 2.8), dpi=72)
    input_axes, kernel_axes, output_axes = figure.subplots(
        1, 3, gridspec_kw={"width_ratios": [padded.shape[1], kw + 1, out_w + 1]}
    )
    (top, _), (left, _) = pads
    is_image = np.zeros(padded.shape, dtype=bool)
    is_image[top : top + image.shape[0], left : left + image.shape[1]] = True
    _draw_grid(
        input_axes,
        padded,
        np.where(is_image, _IMAGE_COLOUR, _PADDING_COLOUR),
        fmt,
        f"padded input {padded.shape[0]} x {padded.shape[1]}",
        gid_prefix="input",
    )
    _draw_grid(kernel_axes, kernel, np.full(kernel.shape, _KERNEL_COLOUR), fmt, f"kernel {kh} x {kw}")
    output_texts = _draw_grid(
        output_axes,
        np.zeros(output.shape),
        np.full(output.shape, _IMAGE_COLOUR),
        fmt,
        f"output {out_h} x {out_w}",
        gid_prefix="output",
    )
    window = matplotlib.patches.Rectangle(
        (-0.5, -0.5), kw, kh, fill=False, edgecolor=_HIGHLIGHT_COLOUR, linewidth=2.5, clip_on=False
    )
    window.set_gid("window")
    input_axes.add_patch(window)
    output_cell = matplotlib.patches.Rectangle(
        (-0.5, -0.5), 1, 1, fill=False, edgecolor=_HIGHLIGHT_COLOUR, linewidth=2.5, clip_on=False
    )
    output_cell.set_gid("output-cell")
    output_axes.add_patch(output_cell)
    caption = figure.text(0.5, 0.02, "", ha="center", va="bottom", fontsize=9)
    caption.set_gid("caption")

    def show_frame(frame):
        row, column = divmod(frame, out_w)
        window.set_xy((column * stride - 0.5, row * stride - 0.5))
        output_cell.set_xy((column - 0.5, row - 0.5))
        # Cells up to this frame show their value; later ones stay blank, so
        # a looping animation starts again from an empty output.
        for (i, j), text in output_texts.items():
            text.set_text(fmt.format(output[i, j]) if i * out_w + j <= frame else "")
        caption.set_text(
            f"stride {stride}: window at rows {row * stride}-{row * stride + kh - 1}, "
            f"columns {column * stride}-{column * stride + kw - 1} of the padded input "
            f"-> output[{row}, {column}] = {fmt.format(output[row, column])}"
        )
        return [window, output_cell, caption, *output_texts.values()]

    show_frame(0)
    description = (
        f"Animation: a {kh} x {kw} kernel slides with stride {stride} over a {image.shape[0]} x "
        f"{image.shape[1]} image zero-padded to {padded.shape[0]} x {padded.shape[1]}, filling the "
        f"{out_h} x {out_w} output one cell per frame."
    )
    return ConvolutionAnimation(
        figure, show_frame, frames=out_h * out_w, interval=interval, repeat=True, description=description
    )


class ConvolutionAnimation(matplotlib.animation.FuncAnimation):
    """A ``FuncAnimation`` whose HTML player works offline and can be read by a screen reader.

    matplotlib's ``to_jshtml()`` links a Font Awesome style sheet on a CDN for
    the icons of its buttons and leaves the frame picture and slider without a
    text alternative. This player has no link: the buttons show inline SVG icons
    (their names are in ``title`` and ``aria-label`` already), the frame picture
    has ``description`` as its ``alt`` text, and the slider is labelled "Frame".
    """

    def __init__(self, *args, description, **kwargs):
        super().__init__(*args, **kwargs)
        self.description = description

    def to_jshtml(self, fps=None, embed_frames=True, default_mode=None):
        return _self_contained_player(super().to_jshtml(fps, embed_frames, default_mode), self.description)


def _self_contained_player(player, description):
    """Return matplotlib's HTML ``player`` without its CDN style sheet, with text alternatives."""
    player = re.sub(r'<link rel="stylesheet"\s+href="[^"]*font-awesome[^"]*">\s*', "", player)
    for icon, path in _BUTTON_ICONS.items():
        svg = (
            '<svg aria-hidden="true" focusable="false" width="14" height="14" viewBox="0 0 16 16" '
            f'style="vertical-align: -2px"><path fill="currentColor" d="{path}"/></svg>'
        )
        player = player.replace(f'<i class="fa {icon}"></i>', svg)
    alt = html.escape(description)
    player = re.sub(r'<img id="_anim_img\w+"', lambda match: f'{match[0]} alt="{alt}"', player, count=1)
    player = re.sub(r'<input id="_anim_slider\w+"', lambda match: f'{match[0]} aria-label="Frame"', player, count=1)
    return player
