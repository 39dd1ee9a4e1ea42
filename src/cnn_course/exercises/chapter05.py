"""The exercise checks of the chapter "Pooling"."""

import numpy as np

from cnn_course.exercises import verdict

__all__ = []
