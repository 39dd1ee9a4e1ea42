"""Tests of cnn_course.animation: frames, the numbers they show, and bad input."""

import re
import tempfile

import matplotlib.animation
import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnn_course import animation

# (image shape, kernel shape, stride, padding, TensorFlow's padding argument)
CASES = [
    ((5, 5), (3, 3), 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]),
    ((5, 5), (3, 3), 1, "valid", "VALID"),
    ((4, 6), (2, 3), 1, 0, "VALID"),
    ((4, 4), (3, 3), 2, "same", "SAME"),  # TensorFlow pads 0 above, 1 below
    ((6, 5), (2, 2), 3, "same", "SAME"),
    ((3, 4), (3, 1), 2, 2, [[0, 0], [2, 2], [2, 2], [0, 0]]),
]


class FrameRecorder(matplotlib.animation.AbstractMovieWriter):
    """A movie writer that records what each frame shows instead of writing a file."""

    def __init__(self):
        super().__init__(fps=1)
        self.frames = []

    def setup(self, fig, outfile, dpi=None):
        super().setup(fig, outfile, dpi)

    def grab_frame(self, **savefig_kwargs):
        texts = {t.get_gid(): t.get_text() for axes in self.fig.axes for t in axes.texts if t.get_gid()}
        patches = {p.get_gid(): p.get_xy() for axes in self.fig.axes for p in axes.patches if p.get_gid()}
        self.frames.append({"texts": texts, "patches": patches})

    def finish(self):
        pass


def record(anim, tmp_path):
    """Run every frame of ``anim`` through a FrameRecorder and return what each showed."""
    recorder = FrameRecorder()
    anim.save(str(tmp_path / "unused"), writer=recorder)
    return recorder.frames


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def integer_arrays(image_shape, kernel_shape, seed=0):
    """Small integers, so every sum is exact and formatted numbers can be compared as text."""
    rng = np.random.default_rng(seed)
    return rng.integers(-4, 5, size=image_shape).astype(float), rng.integers(-3, 4, size=kernel_shape).astype(float)


def tensorflow_output(tf, image, kernel, stride, tf_padding):
    out = tf.nn.conv2d(
        image[np.newaxis, :, :, np.newaxis], kernel[:, :, np.newaxis, np.newaxis], strides=stride, padding=tf_padding
    )
    return out.numpy()[0, :, :, 0]


@pytest.mark.parametrize("image_shape, kernel_shape, stride, padding, tf_padding", CASES)
def test_one_frame_per_output_cell_showing_tensorflow_values(tf, tmp_path, image_shape, kernel_shape, stride, padding, tf_padding):
    image, kernel = integer_arrays(image_shape, kernel_shape)
    expected = tensorflow_output(tf, image, kernel, stride, tf_padding)
    out_h, out_w = expected.shape
    anim = animation.animate_convolution(image, kernel, stride=stride, padding=padding)
    assert len(list(anim.new_frame_seq())) == out_h * out_w
    frames = record(anim, tmp_path)
    assert len(frames) == out_h * out_w
    for frame_index, frame in enumerate(frames):
        for (i, j), value in np.ndenumerate(expected):
            shown = frame["texts"][f"output-{i}-{j}"]
            # Cells fill in row-major order, one per frame; later cells are still blank.
            if i * out_w + j <= frame_index:
                assert shown == f"{value:g}", (frame_index, i, j)
            else:
                assert shown == "", (frame_index, i, j)


@pytest.mark.parametrize("image_shape, kernel_shape, stride, padding, tf_padding", CASES)
def test_window_moves_by_stride_over_the_padded_input(tmp_path, image_shape, kernel_shape, stride, padding, tf_padding):
    image, kernel = integer_arrays(image_shape, kernel_shape, seed=1)
    frames = record(animation.animate_convolution(image, kernel, stride=stride, padding=padding), tmp_path)
    # Rebuild the padded input from the numbers the input panel shows.
    first = frames[0]["texts"]
    rows = 1 + max(int(key.split("-")[1]) for key in first if key.startswith("input-"))
    columns = 1 + max(int(key.split("-")[2]) for key in first if key.startswith("input-"))
    padded = np.array([[float(first[f"input-{r}-{c}"]) for c in range(columns)] for r in range(rows)])
    kh, kw = kernel.shape
    out_w = 1 + max(int(key.split("-")[2]) for key in first if key.startswith("output-"))
    for frame_index, frame in enumerate(frames):
        i, j = divmod(frame_index, out_w)
        assert frame["patches"]["window"] == (j * stride - 0.5, i * stride - 0.5)
        assert frame["patches"]["output-cell"] == (j - 0.5, i - 0.5)
        window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
        assert window.shape == kernel.shape
        assert frame["texts"][f"output-{i}-{j}"] == f"{np.sum(window * kernel):g}"


def test_input_panel_shows_tensorflow_same_padding_split(tmp_path):
    # 4 x 4 input, 3 x 3 kernel, stride 2, "same": 2 x 2 output, one zero in total
    # along each axis, which TensorFlow puts at the bottom and on the right.
    image = np.arange(1, 17, dtype=float).reshape(4, 4)
    frames = record(animation.animate_convolution(image, np.ones((3, 3)), stride=2, padding="same"), tmp_path)
    texts = frames[0]["texts"]
    shown = np.array([[float(texts[f"input-{r}-{c}"]) for c in range(5)] for r in range(5)])
    expected = np.zeros((5, 5))
    expected[:4, :4] = image
    np.testing.assert_array_equal(shown, expected)
    assert "input-5-0" not in texts and "input-0-5" not in texts


def test_given_figure_is_used_and_jshtml_is_light(tmp_path):
    figure = plt.figure(figsize=(7.0, 2.8), dpi=72)
    image, kernel = integer_arrays((5, 5), (3, 3))
    anim = animation.animate_convolution(image, kernel, stride=2, padding=1, figure=figure)
    assert len(figure.axes) == 3
    html = anim.to_jshtml()
    assert len(re.findall(r"frames\[\d+\] = \"data:image/png;base64,", html)) == 9
    assert len(html) < 1_500_000
    # No absolute path may reach a page; base64 frames are dropped first, since
    # their alphabet contains "/" and letters.
    text = re.sub(r"base64,[A-Za-z0-9+/=\\\n]+", "base64,", html)
    assert len(text) < 20_000  # only the player's HTML and JavaScript are left
    assert tempfile.gettempdir() not in text and str(tmp_path) not in text
    assert re.search(r"(?<![\w.])/(tmp|home|root|work|usr)/", text) is None


def test_jshtml_player_works_offline_and_has_text_alternatives():
    image, kernel = integer_arrays((5, 5), (3, 3))
    anim = animation.animate_convolution(image, kernel, stride=2, padding=1)
    assert isinstance(anim, matplotlib.animation.FuncAnimation)
    html = anim.to_jshtml()
    plt.close("all")
    # matplotlib's own player links Font Awesome on a CDN; ours has no link and no icon font.
    assert "<link" not in html and "font-awesome" not in html and '<i class="fa' not in html
    # Each of the nine icon buttons of the player shows an inline SVG icon instead.
    assert html.count("<svg") == 9
    assert re.search(r'<img id="_anim_img\w+" alt="Animation: a 3 x 3 kernel slides with stride 2 over a 5 x 5 image', html)
    assert re.search(r'<input id="_anim_slider\w+" aria-label="Frame"', html)


def test_max_frames_refuses_heavy_animations():
    image, kernel = integer_arrays((10, 10), (3, 3))
    with pytest.raises(ValueError, match=r"64 frames .*max_frames=63"):
        animation.animate_convolution(image, kernel, max_frames=63)


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"image": np.zeros((1, 5, 5))}, ValueError, r"image must have shape \(H, W\).*got shape \(1, 5, 5\)"),
        ({"image": "digit"}, TypeError, "image must be a numeric array"),
        ({"image": np.zeros((0, 5))}, ValueError, r"image must have shape \(H, W\) with both sizes at least 1"),
        ({"kernel": np.ones(3)}, ValueError, r"kernel must have shape \(kh, kw\).*got shape \(3,\)"),
        ({"kernel": np.ones((3, 0))}, ValueError, r"kernel must have shape \(kh, kw\) with both sizes at least 1"),
        ({"kernel": np.ones((6, 3))}, ValueError, r"kernel must have shape \(kh, kw\) with kh <= 5.*got kernel of shape \(6, 3\)"),
        ({"stride": 0}, ValueError, "stride must be at least 1, got 0"),
        ({"stride": 1.5}, TypeError, "stride must be an int"),
        ({"padding": "full"}, ValueError, "padding must be 'valid', 'same', an int or a pair of ints \\(height, width\\), got 'full'"),
        ({"padding": -1}, ValueError, "padding must not be negative, got -1"),
        ({"padding": (1, 2)}, ValueError, r"padding must be the same along height and width for the animation, got \(1, 2\)"),
        ({"padding": True}, TypeError, "padding must be 'valid', 'same', an int or a pair of ints \\(height, width\\), got True"),
        ({"figure": "figure"}, TypeError, "figure must be a matplotlib Figure or None, got str"),
        ({"max_frames": 0}, ValueError, "max_frames must be at least 1"),
    ],
)
def test_bad_input(arguments, error, message):
    call = {"image": np.zeros((5, 5)), "kernel": np.ones((3, 3)), **arguments}
    figures_before = plt.get_fignums()
    with pytest.raises(error, match=message):
        animation.animate_convolution(**call)
    # A refused call must not leave a half-drawn figure behind.
    assert plt.get_fignums() == figures_before


def test_kernel_taller_than_image_fits_once_padded(tmp_path):
    # The 6 x 3 kernel refused above fits the 5 x 5 image with one zero on each side.
    frames = record(animation.animate_convolution(np.ones((5, 5)), np.ones((6, 3)), padding=1), tmp_path)
    assert len(frames) == 2 * 5
    assert frames[0]["texts"]["output-0-0"] == "10"


def test_figure_must_be_empty():
    figure, _ = plt.subplots()
    with pytest.raises(ValueError, match="figure must be empty, got a figure with 1 axes"):
        animation.animate_convolution(np.zeros((5, 5)), np.ones((3, 3)), figure=figure)
