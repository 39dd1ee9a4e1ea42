"""The forward operations of a CNN, in NumPy, in one namespace.

Each function is defined in a small module of its own (``convolution``,
``pooling``, ``activations``, ``dense``) and gathered here, so that chapters,
tests and readers can write ``from cnn_course import ops`` and ``ops.conv2d``.
Arrays are channels-last like Keras: images ``(N, H, W, C)``, kernels
``(kh, kw, C_in, C_out)``.
"""

from cnn_course import activations, convolution, dense, pooling

# Every public name of the four modules (built before the imports below, which
# rebind ``dense`` from the module to its function).
__all__ = [*convolution.__all__, *pooling.__all__, *activations.__all__, *dense.__all__]

from cnn_course.activations import *  # noqa: E402,F401,F403
from cnn_course.convolution import *  # noqa: E402,F401,F403
from cnn_course.dense import *  # noqa: E402,F401,F403
from cnn_course.pooling import *  # noqa: E402,F401,F403
