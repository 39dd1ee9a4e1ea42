"""The exercise checks of the chapter "ReLU and other activations"."""

import numpy as np

from cnn_course.exercises import verdict

__all__ = []
