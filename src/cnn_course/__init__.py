"""CNNs from the Ground Up: the helper package every chapter builds and reuses.

Modules
-------
ops
    The forward operations (convolution, pooling, activations, dense), in NumPy.
data
    ``load_mnist``: MNIST from a file or through Keras's download.
quiet_tensorflow
    ``import_tensorflow``: TensorFlow and Keras without their start-up log lines.
plotting
    Figures the chapters share.
animation
    ``animate_convolution``: a kernel sliding over a padded input, frame by frame.
losses
    ``cross_entropy`` of predicted probabilities.
network
    A whole CNN forward pass with random weights, and its summary table.
gradients, gradient_check
    The backward pass of every operation, and finite-difference checks of them.
layers, model, optimizers
    Trainable layers, a ``Sequential`` model with ``fit``/``evaluate``/``predict``,
    SGD with momentum and Adam.
lenet
    The LeNet-style CNN of "Learning from scratch", in cnn_course and in Keras.
keras_bridge
    ``numpy_forward``: run a trained Keras model through ``ops``.
mnist_models, evaluation
    The MNIST chapter's Keras models and how it judges them (confusion matrix,
    learning curves, mistakes).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
