"""Checks for the exercises: run the student's function or read their answer, and name the mistake.

Every exercise of the book has a check here. A *function check*,
``check_<name>(student_function)``, runs the student's function on a
fixed list of cases, smallest first, against the course's own function. It
prints one verdict and returns True (every case passes) or False. A failing
verdict shows the smallest failing case (its input, the expected and the
received result) and, when the received results are those of a common
mistake, names it: a flipped kernel, an off-by-one in the output size, a
max-pool gradient spread over tied cells, dropout without its scale, a
softmax that overflows... Nothing is downloaded and nothing but the course is
needed, so the checks run offline.

An *answer check*, ``check_<name>(answer, ...)``, takes what the student
worked out by hand (a number, a tuple, an array, a word), and the chapter's
arrays when the exercise is about them. It says right, or which known
mistake the answer is, and never prints the right answer. Called with
``None`` it says what kind of answer it needs. An answer of several parts
is judged part by part: the verdict says which parts are right and names
the mistake in each wrong one. The engine of both kinds is
:mod:`cnn_course.exercises.verdict`.

The function checks, the student's function each one takes, and the chapter of its exercise
(each chapter module, ``chapterNN``, lists its answer checks in its docstring):

- :func:`check_correlate2d`: ``f(image, kernel)``, "valid", 2-D (2, 9);
- :func:`check_conv_output_size`: ``f(size, kernel_size, stride, padding) -> int`` (3);
- :func:`check_pad2d`: ``f(x, padding)``, ``x`` of shape (N, H, W, C) (3);
- :func:`check_receptive_field`: ``f(windows) -> (r, j)``, ``windows`` a list of ``(span, stride)`` (3);
- :func:`check_leaky_relu`: ``f(x, alpha=0.01)`` (6);
- :func:`check_softmax`: ``f(logits)``, classes on the last axis (7);
- :func:`check_dropout`: ``f(x, rate, rng)`` (7);
- :func:`check_dense_two_classes`: ``f(a, b) -> z`` with ``sigmoid(z) == softmax([a, b])[0]`` (7);
- :func:`check_relu_backward`: ``f(grad_output, x)`` (9);
- :func:`check_max_pool2d_backward`: ``f(grad_output, x, pool_size, stride)`` (9);
- :func:`check_dense_backward`: ``f(grad_output, x, weights) -> (grad_x, grad_weights, grad_bias)`` (9);
- :func:`check_softmax_cross_entropy_backward`: ``f(probabilities, labels)`` (9);
- :func:`check_sigmoid_backward`: ``f(grad_output, x)`` (9);
- :func:`check_learning_full_convolution`: ``f(grad_output, kernel)``, the input gradient of a convolution (9);
- :func:`check_mnist_shift`: ``f(images, pixels)``, ``images`` of shape (N, H, W) (10).
"""

from cnn_course.exercises import (
    chapter01,
    chapter02,
    chapter03,
    chapter04,
    chapter05,
    chapter06,
    chapter07,
    chapter08,
    chapter09,
    chapter10,
    chapter11,
)
from cnn_course.exercises.chapter01 import *  # noqa: F401,F403 - the checks, re-exported
from cnn_course.exercises.chapter02 import *  # noqa: F401,F403
from cnn_course.exercises.chapter03 import *  # noqa: F401,F403
from cnn_course.exercises.chapter04 import *  # noqa: F401,F403
from cnn_course.exercises.chapter05 import *  # noqa: F401,F403
from cnn_course.exercises.chapter06 import *  # noqa: F401,F403
from cnn_course.exercises.chapter07 import *  # noqa: F401,F403
from cnn_course.exercises.chapter08 import *  # noqa: F401,F403
from cnn_course.exercises.chapter09 import *  # noqa: F401,F403
from cnn_course.exercises.chapter10 import *  # noqa: F401,F403
from cnn_course.exercises.chapter11 import *  # noqa: F401,F403

CHAPTER_MODULES = (chapter01, chapter02, chapter03, chapter04, chapter05, chapter06, chapter07, chapter08, chapter09, chapter10,
                   chapter11)

__all__ = [name for module in CHAPTER_MODULES for name in module.__all__]
