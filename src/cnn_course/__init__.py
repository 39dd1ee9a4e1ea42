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
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
