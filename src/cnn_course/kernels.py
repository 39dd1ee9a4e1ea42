"""Hand-made 3 x 3 kernels: the edge detectors of the early chapters, defined once.

Introduced in the chapter "Convolution" (the Prewitt kernels) and used again in
"Several filters and channels", "Pooling" and "Activations" (the Sobel
kernels). Each kernel is a float64 array of shape (3, 3), read as a
cross-correlation (``ops.correlate2d``, ``ops.conv2d``), channels-last
``(kh, kw)``.

The **Prewitt** kernels (Prewitt 1970) weight the three rows of a window
equally; the **Sobel** kernels (Sobel and Feldman 1968) give the middle row
twice the weight, which smooths across the edge a little:

.. code-block:: text

    prewitt "vertical"      sobel "vertical"
    [[1, 0, -1],            [[1, 0, -1],
     [1, 0, -1],             [2, 0, -2],
     [1, 0, -1]]             [1, 0, -1]]

Both compute *left minus right*: positive where the window is brighter on its
left (the right-hand side of a bright stroke), negative where it is brighter on
its right. "horizontal" is the transpose (top minus bottom), and the two
diagonal kernels compare the opposite corners.
"""

import numpy as np

__all__ = ["EDGE_DIRECTIONS", "edge_kernels", "edge_filters"]

#: The four directions of :func:`edge_kernels`, in order.
EDGE_DIRECTIONS = ("vertical", "horizontal", "diagonal \\", "diagonal /")

_CENTRE_WEIGHT = {"prewitt": 1.0, "sobel": 2.0}


def edge_kernels(kind="prewitt"):
    """Four 3 x 3 edge detectors: vertical, horizontal and the two diagonals.

    Parameters
    ----------
    kind : {"prewitt", "sobel"}, default "prewitt"
        Prewitt weights the window's rows equally; Sobel gives the middle row
        (for the vertical kernel) weight 2.

    Returns
    -------
    dict of str to ndarray of shape (3, 3)
        Keyed by :data:`EDGE_DIRECTIONS`, float64, each summing to 0 (a flat
        patch gives 0):

        - ``"vertical"``: left column minus right column;
        - ``"horizontal"``: top row minus bottom row (the transpose);
        - ``"diagonal \\"``: top-right corner minus bottom-left, strongest on
          an edge that runs down to the right;
        - ``"diagonal /"``: top-left corner minus bottom-right.
    """
    if kind not in _CENTRE_WEIGHT:
        raise ValueError(f"kind must be 'prewitt' or 'sobel', got {kind!r}")
    c = _CENTRE_WEIGHT[kind]
    vertical = np.array([[1.0, 0.0, -1.0], [c, 0.0, -c], [1.0, 0.0, -1.0]])
    # The diagonal kernels put the large weight c in the corner that the edge points away from.
    diagonal_down = np.array([[0.0, 1.0, c], [-1.0, 0.0, 1.0], [-c, -1.0, 0.0]])
    return {
        "vertical": vertical,
        "horizontal": vertical.T.copy(),
        "diagonal \\": diagonal_down,
        "diagonal /": np.fliplr(diagonal_down).copy(),
    }


def edge_filters(kind="prewitt", dtype="float64"):
    """The four :func:`edge_kernels` stacked as one convolution kernel.

    Parameters
    ----------
    kind : {"prewitt", "sobel"}, default "prewitt"
    dtype : str or numpy.dtype, default "float64"

    Returns
    -------
    ndarray of shape (3, 3, 1, 4)
        ``(kh, kw, C_in, C_out)`` for ``ops.conv2d`` on grey images: output
        channel ``k`` is the ``EDGE_DIRECTIONS[k]`` edge map.
    """
    kernels = edge_kernels(kind)
    return np.stack([kernels[name] for name in EDGE_DIRECTIONS], axis=-1)[:, :, np.newaxis, :].astype(dtype)
