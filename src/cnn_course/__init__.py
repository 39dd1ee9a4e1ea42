"""CNNs from the Ground Up: the helper package every chapter builds and reuses.

Modules
-------
ops
    The forward operations (convolution, pooling, activations, dense), in NumPy,
    gathered from ``convolution``, ``pooling``, ``activations`` and ``dense``.
checks
    The argument checks every module shares: one message per mistake.
data
    ``load_mnist``: MNIST from a file or through Keras's download.
quiet_tensorflow
    ``import_tensorflow``: TensorFlow and Keras without their start-up log lines.
plotting, animation
    Figures the chapters share; a kernel sliding over a padded input, frame by frame.
losses
    Cross-entropy of probabilities, and of logits (``softmax_cross_entropy``).
initializers
    ``he_normal``: random initial weights.
layers, model
    The one family of layers (forward, backward, parameters, MACs, windows) and
    ``Sequential`` (forward, describe, summary, fit, evaluate, predict).
gradients, gradient_check
    The backward pass of every operation, and finite-difference checks of them.
fast, parallel
    The convolution's forward and backward pass on every core, with the results
    of the readable ``ops.conv2d`` and ``gradients.conv2d_backward``; chunks of
    a batch shared among threads.
optimizers, progress
    SGD with momentum and Adam; progress bars for training.
lenet
    The LeNet-style CNN of "Learning from scratch".
keras_interop
    ``from_keras`` and ``to_keras``: Keras models to ``Sequential`` and back.
mnist_models, evaluation
    The MNIST chapter's Keras models and how it judges them (confusion matrix,
    learning curves, mistakes).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
