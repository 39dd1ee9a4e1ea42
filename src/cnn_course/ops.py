"""The forward operations of a CNN, in NumPy, in one namespace.

Each function is defined in a small module of its own (``convolution``,
``pooling``, ``activations``, ``dense``) and gathered here, so that chapters,
tests and readers can write ``from cnn_course import ops`` and ``ops.conv2d``.
Arrays are channels-last like Keras: images ``(N, H, W, C)``, kernels
``(kh, kw, C_in, C_out)``.
"""

from cnn_course.activations import relu, sigmoid, softmax, tanh
from cnn_course.convolution import conv2d, conv_output_size, correlate2d, im2col, pad2d, padding_amounts
from cnn_course.dense import dense, dropout, flatten
from cnn_course.pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d

__all__ = [
    "conv_output_size",
    "padding_amounts",
    "pad2d",
    "correlate2d",
    "im2col",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "global_avg_pool2d",
    "global_max_pool2d",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "dense",
    "flatten",
    "dropout",
]
