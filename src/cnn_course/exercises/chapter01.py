"""The exercise checks of the chapter "Images as arrays"."""

import numpy as np

from cnn_course.exercises import verdict

__all__ = []
