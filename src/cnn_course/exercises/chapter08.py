"""The exercise checks of the chapter "Putting it together"."""

import numpy as np

from cnn_course.exercises import verdict

__all__ = []
