"""The exercise checks of the chapter "MNIST: from one Dense layer to a CNN"."""

import numpy as np

from cnn_course.exercises import verdict

__all__ = []
