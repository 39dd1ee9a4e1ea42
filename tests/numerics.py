"""Tolerances that hold by construction on any CPU, BLAS kernel and thread count ("Portable numerics").

Two kinds of comparison are used in the tests.

**The mathematics** (our op computes what TensorFlow's or Keras's does): both sides
run in float64 on the same float64 inputs, and :func:`assert_float64_close` allows

    |ours - theirs| <= 1e-10 * (|theirs| + magnitude)

where ``magnitude`` bounds the size of the terms the result is made of (for a sum of
products ``sum |x_i w_i|``, computed as the same op applied to ``|x|`` and ``|w|``).
Justification: float64's unit roundoff is 2**-53 ~ 1.1e-16, so by the bound below
each side is within ``2 K 2**-53 magnitude`` of the exact value; for the K < 10**4
terms of any test here the two sides differ by less than 5e-12 * magnitude. The
elementwise functions (exp, log, tanh, sqrt) are accurate to a few ulps, about 1e-15
relative. A wrong op (an index off by one, a flipped kernel, a wrong sign) is off
by a sizeable fraction of the magnitude.

**Float32 behaviour** (float32 stays float32 and still gives the right numbers): a
float32 result is compared with the float64 result for the same inputs, with a bound
derived from float32's unit roundoff u = eps / 2 = 2**-24:

    sum of K products, in any order, blocked or pairwise, with or without fused
    multiply-add, on any number of threads (Higham, "Accuracy and Stability of
    Numerical Algorithms", 2nd ed., section 3.1):
        |fl(sum x_i w_i) - sum x_i w_i| <= gamma_K * sum |x_i w_i|,
        gamma_K = K u / (1 - K u).

A bias added afterwards is one more product (``b * 1``); an average is a sum divided
by an exact count, one more rounding: both are covered by counting one more term.
For K u <= 1/4, gamma_K plus the float64 reference's own error is below 2 K u.
Underflow (gradual, or flushed to zero as TensorFlow's threads do) adds at most
2**-126 per product and input. Hence :func:`sum_tolerance`.

Elementwise float32 functions: NumPy validates float32 exp to 3 ulp, tanh to 2 ulp and
log to 4 ulp (numpy/_core/tests/data/umath-validation-set-*.csv); one ulp is at most
2u relative, so :data:`F32_FUNCTION_ERROR` = 16u allows twice the worst of those.

A float32 *network* is checked one layer at a time (:func:`assert_keras_float32_layers`):
each layer, from the same float32 input, is one well-conditioned step with the bound
above. A worst-case bound of a whole float32 network end to end compounds through the
layers (every later layer multiplies an earlier error by its absolute weights) and is
far too loose to test anything, so end to end there is one more comparison, never
instead of the two above: **the acceptance tolerance** :data:`F32_PROBABILITY_TOLERANCE`
= 1e-5 on the probabilities of two float32 computations of the same network (ours and
Keras's), the tolerance that the conversion between Keras and cnn_course promises.
It is not derived from a bound: the largest difference seen in the tests is 1.2e-7 (two
float32 ulps of a probability near 1), and a wrong layer moves probabilities by far more.
"""

import numpy as np

U32 = 2.0**-24  # unit roundoff of float32, np.finfo(np.float32).eps / 2
U64 = 2.0**-53  # unit roundoff of float64
F32_FUNCTION_ERROR = 16 * U32  # relative error of one float32 exp, log or tanh (see above)
F32_UNDERFLOW = 2.0**-126  # absolute error of one product or input that underflows in float32
FLOAT64_TOLERANCE = 1e-10
F32_PROBABILITY_TOLERANCE = 1e-5  # end to end, two float32 networks (see above): an acceptance tolerance


def unit_roundoff(dtype):
    """``eps / 2`` of a floating dtype: 2**-24 for float32, 2**-53 for float64."""
    return float(np.finfo(dtype).eps) / 2


def sum_tolerance(abs_sum, terms):
    """Largest ``|float32 result - float64 reference|`` of a sum of ``terms`` products.

    ``2 * terms * u * abs_sum + terms * 2**-126`` with u = 2**-24 (see the module
    docstring), where ``abs_sum`` is ``sum |x_i w_i|`` (an array, for an array of sums)
    and the second term covers underflow. (Two float64 computations are compared with
    :func:`assert_float64_close` instead.)
    """
    assert terms * U32 <= 0.25, f"{terms} terms are too many for the bound"
    return 2 * terms * U32 * np.asarray(abs_sum, dtype=np.float64) + terms * F32_UNDERFLOW


def assert_within(actual, expected, tolerance, err_msg=""):
    """Assert ``|actual - expected| <= tolerance`` element by element (tolerance may be an array)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape} {err_msg}"
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    tolerance = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), difference.shape)
    bad = ~(difference <= tolerance)  # NaN counts as bad
    if bad.any():
        index = np.unravel_index(np.argmax(np.where(bad, difference - tolerance, -np.inf)), difference.shape)
        raise AssertionError(
            f"{np.count_nonzero(bad)} of {bad.size} elements differ by more than the tolerance {err_msg}\n"
            f"worst at {tuple(int(i) for i in index)}: actual {actual[index]!r}, expected {expected[index]!r}, "
            f"difference {difference[index]:.3g}, tolerance {tolerance[index]:.3g}"
        )


def assert_float64_close(actual, expected, magnitude=0.0, err_msg=""):
    """Two float64 computations of the same mathematics: ``|a - e| <= 1e-10 * (|e| + magnitude)``.

    ``magnitude`` (a number or an array like ``expected``) bounds the size of the terms
    the result is made of, such as ``sum |x_i w_i|``; see the module docstring.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.dtype == np.float64, f"expected a float64 result, got {actual.dtype} {err_msg}"
    assert expected.dtype == np.float64, f"expected a float64 reference, got {expected.dtype} {err_msg}"
    tolerance = FLOAT64_TOLERANCE * (np.abs(expected) + np.asarray(magnitude, dtype=np.float64))
    assert_within(actual, expected, tolerance, err_msg)


def softmax_tolerance(logits, axis=-1, logits_error=0.0):
    """Largest ``|p32 - p|`` of a float32 softmax of logits known to within ``logits_error``.

    ``logits`` are the exact (float64) logits and ``p`` their softmax. A float32 softmax
    (shift by the maximum, exp, sum, divide; or times the reciprocal) of logits that
    are off by at most ``d`` in a row gives ``p_i * (1 + r)`` with
    ``|r| <= expm1(2 d) + (2 R + 2 * 16 + K + 2) u``: ``expm1(2 d)`` from the logits,
    ``R u`` from rounding ``z_i - max z`` (``R`` is the row's range), ``16 u`` from each
    exp (:data:`F32_FUNCTION_ERROR`, once in the numerator and once in the sum),
    ``(K - 1) u`` from the sum and ``2 u`` from the division. The own rounding is
    allowed twice; probabilities that underflow are off by at most 2**-126 each.
    """
    logits = np.asarray(logits, dtype=np.float64)
    classes = logits.shape[axis]
    spread = np.ptp(logits, axis=axis, keepdims=True)
    drift = np.max(np.broadcast_to(logits_error, logits.shape), axis=axis, keepdims=True)
    relative = np.expm1(2 * drift) + 2 * (2 * spread + 2 * 16 + classes + 2) * U32
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    probabilities = np.exp(shifted) / np.sum(np.exp(shifted), axis=axis, keepdims=True)
    return probabilities * relative * (1 + relative) + 2 * F32_UNDERFLOW


# Layers with no arithmetic at inference (the augmentation layers of keras_interop.AUGMENTATION_LAYERS too).
_PASS_THROUGH = ("Flatten", "Dropout", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomFlip",
                 "RandomContrast", "RandomBrightness")


def _activation_name(layer):
    kind = type(layer).__name__
    return {"ReLU": "relu", "Softmax": "softmax"}.get(kind) or layer.activation.__name__


def _linear(layer, x, absolute=False):
    """A Conv2D or Dense layer's sums (before the activation) on ``x``, in float64; with
    ``absolute``, the same sums of ``|weights|`` and ``|bias|``. Also the terms per sum."""
    from cnn_course import ops

    weights = [w.astype(np.float64) for w in layer.get_weights()]
    if absolute:
        weights = [np.abs(w) for w in weights]
    kernel, bias = weights[0], (weights[1] if layer.use_bias else None)
    if type(layer).__name__ == "Conv2D":
        sums = ops.conv2d(x, kernel, bias, stride=tuple(layer.strides), padding=layer.padding)
        terms = int(np.prod(kernel.shape[:3]))
    else:
        sums = ops.dense(x, kernel, bias)
        terms = kernel.shape[0]
    return sums, terms + int(layer.use_bias)


def _pool(layer, x):
    from cnn_course import ops

    pool = ops.max_pool2d if type(layer).__name__ == "MaxPooling2D" else ops.avg_pool2d
    return pool(x, tuple(layer.pool_size), stride=tuple(layer.strides), padding=layer.padding)


def keras_layer_float32_reference(layer, x):
    """The float64 output of one Keras layer (at inference) on ``x``, and the bound on a
    float32 computation of it from the same float32 ``x``: ``(reference, tolerance)``.

    Conv2D and Dense: :func:`sum_tolerance` of their sums (plus 2**-126 * max|w| per
    term, for inputs flushed to zero), then the activation: ReLU adds nothing, tanh its
    own rounding, sigmoid (slope at most 1/4) its own rounding, softmax
    :func:`softmax_tolerance`. Max pooling picks an input; average pooling is a sum of
    ``ph * pw`` terms and a division; Flatten, Dropout and augmentation pass their input
    through at inference.
    """
    from cnn_course import ops

    x = np.asarray(x, dtype=np.float64)
    kind = type(layer).__name__
    if kind in _PASS_THROUGH:  # no arithmetic at all: exact
        reference = ops.flatten(x) if kind == "Flatten" else x
        return reference, np.zeros(reference.shape)
    if kind == "MaxPooling2D":  # picks an input (which TensorFlow may flush to zero if subnormal)
        reference = _pool(layer, x)
        return reference, np.full(reference.shape, F32_UNDERFLOW)
    if kind == "AveragePooling2D":
        return _pool(layer, x), sum_tolerance(_pool(layer, np.abs(x)), int(np.prod(layer.pool_size)))
    if kind == "GlobalAveragePooling2D":  # a mean of H * W numbers
        return ops.global_avg_pool2d(x), sum_tolerance(ops.global_avg_pool2d(np.abs(x)), x.shape[1] * x.shape[2])
    if kind in ("Conv2D", "Dense"):
        sums, terms = _linear(layer, x)
        largest_weight = float(np.abs(layer.get_weights()[0]).max())
        error = sum_tolerance(_linear(layer, np.abs(x), absolute=True)[0], terms) + terms * F32_UNDERFLOW * largest_weight
    else:  # Activation, ReLU, Softmax: the input is exact
        sums, error = x, np.zeros_like(x)
    name = _activation_name(layer)
    if name == "linear":
        return sums, error + F32_UNDERFLOW
    if name == "relu":
        return ops.relu(sums), error + F32_UNDERFLOW
    if name == "tanh":
        reference = np.tanh(sums)
        return reference, error + F32_FUNCTION_ERROR * np.abs(reference) + F32_UNDERFLOW
    if name == "sigmoid":
        reference = ops.sigmoid(sums)
        return reference, error / 4 + 2 * (F32_FUNCTION_ERROR + 2 * U32) * reference + F32_UNDERFLOW
    if name == "softmax":
        axis = layer.axis if kind == "Softmax" and isinstance(layer.axis, int) else -1
        return ops.softmax(sums, axis=axis), softmax_tolerance(sums, axis, error)
    raise NotImplementedError(f"no float32 bound for the activation {name!r} of layer {layer.name!r}")


def keras_float64_magnitudes(model, x):
    """For each layer of a Keras ``Sequential`` run on ``x`` in float64, a magnitude ``M``
    of its output such that two float64 computations of it satisfy
    :func:`assert_float64_close` with ``magnitude=M``.

    ``M`` is the forward pass of the absolute values (``|x|``, ``|w|``, ``|b|``; ReLU
    and max pooling keep it, average pooling averages it), so each sum's error is at most
    ``2 K u M`` and the errors carried from earlier layers at most ``2 T u M``, ``T`` the
    number of terms so far. After tanh or sigmoid (slope and values at most 1) ``M + 1``;
    after softmax (probabilities at most 1, relative error at most ``expm1(2 d)`` plus its
    own rounding, see :func:`softmax_tolerance`) ``7 max M + K + 34``. Checked: ``2 T u``
    of both sides stays below a tenth of the 1e-10 of the comparison.
    """
    from cnn_course import ops

    magnitude = np.abs(np.asarray(x, dtype=np.float64))
    terms_so_far = 0
    result = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Conv2D", "Dense"):
            magnitude, terms = _linear(layer, magnitude, absolute=True)
            terms_so_far += terms
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            magnitude = _pool(layer, magnitude)
            terms_so_far += int(np.prod(layer.pool_size))
        elif kind == "GlobalAveragePooling2D":
            terms_so_far += magnitude.shape[1] * magnitude.shape[2]
            magnitude = ops.global_avg_pool2d(magnitude)
        elif kind == "Flatten":
            magnitude = ops.flatten(magnitude)
        elif kind not in _PASS_THROUGH + ("Activation", "ReLU", "Softmax"):
            raise NotImplementedError(f"no float64 magnitude for layer {layer.name!r} of type {kind}")
        if kind in ("Conv2D", "Dense", "Activation", "ReLU", "Softmax"):
            name = _activation_name(layer)
            if name in ("tanh", "sigmoid"):
                magnitude = magnitude + 1.0
                terms_so_far += 2
            elif name == "softmax":
                classes = magnitude.shape[-1]
                magnitude = np.broadcast_to(7 * magnitude.max(axis=-1, keepdims=True) + classes + 34, magnitude.shape)
                terms_so_far += classes
            elif name not in ("linear", "relu"):
                raise NotImplementedError(f"no float64 magnitude for the activation {name!r} of {layer.name!r}")
        assert 2 * 2 * terms_so_far * U64 <= FLOAT64_TOLERANCE / 10, f"{terms_so_far} terms: too many for 1e-10"
        result.append(magnitude)
    return result


def keras_counterparts(model, sequential):
    """For each layer of a Keras ``Sequential``, the layers of ``sequential`` (its
    ``keras_interop.from_keras`` conversion) that compute it, in order: the layer of the
    same name, then its activation layer ``f"{name}_{activation}"``; none for an
    augmentation layer or ``Activation("linear")`` (the identity at inference)."""
    by_name = dict(zip(sequential.names, sequential.layers))
    result = []
    for layer in model.layers:
        activation = getattr(layer, "activation", None)
        names = [layer.name]
        if activation is not None and type(layer).__name__ != "Activation":
            names.append(f"{layer.name}_{activation.__name__}")
        result.append([by_name[name] for name in names if name in by_name])
    return result


def assert_keras_float32_layers(model, x, sequential=None):
    """Run a float32 Keras ``Sequential`` on ``x`` one layer at a time and check, at every
    layer, that Keras's output and that of its counterparts in ``sequential`` (by default
    ``keras_interop.from_keras(model)``; see :func:`keras_counterparts`), from the same
    float32 input, are float32 and both within :func:`keras_layer_float32_reference`'s
    bound of the float64 value. Each layer is one well-conditioned step (a sum of products,
    a maximum, an activation); the next layer gets Keras's output. Returns Keras's last
    output.
    """
    from cnn_course import keras_interop

    sequential = keras_interop.from_keras(model) if sequential is None else sequential
    x = np.asarray(x)
    for layer, counterparts in zip(model.layers, keras_counterparts(model, sequential)):
        reference, tolerance = keras_layer_float32_reference(layer, x)
        theirs = np.asarray(layer(x, training=False))
        ours = x
        for counterpart in counterparts:
            ours = counterpart.forward(ours)
        assert ours.dtype == np.float32 and theirs.dtype == np.float32, layer.name
        assert_within(ours, reference, tolerance, f"(cnn_course, layer {layer.name!r})")
        assert_within(theirs, reference, tolerance, f"(Keras, layer {layer.name!r})")
        x = theirs
    return x
