"""The exercise checks of the chapter "Several filters and channels"."""

import numpy as np

from cnn_course.exercises import verdict

__all__ = []
