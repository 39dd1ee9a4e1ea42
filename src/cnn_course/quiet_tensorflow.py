"""Import TensorFlow and Keras without their start-up log lines.

TensorFlow 2.16+ writes "oneDNN custom operations are on", "Could not find
cuda drivers" and "failed call to cuInit" from C++ straight to file
descriptor 2 while it loads, before its logging can be configured, so neither
``TF_CPP_MIN_LOG_LEVEL`` alone nor Python's ``warnings`` hide them. They would
land in every notebook's output. Here the import runs with descriptor 2
pointed at a temporary file; afterwards the known start-up lines are dropped
and anything else is written back to stderr, so a real problem stays visible.

``TF_ENABLE_ONEDNN_OPTS`` is left alone: turning oneDNN off made
``tf.nn.conv2d`` about 1.7x slower on the course's 2-core reference machine.
"""

import os
import re
import sys
import tempfile

__all__ = ["import_tensorflow", "STARTUP_NOISE"]

STARTUP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} .*(port\.cc|cudart_stub\.cc|cuda_platform\.cc|cpu_feature_guard\.cc|cuda_dnn\.cc|"
    r"cuda_fft\.cc|cuda_blas\.cc|cuda_executor\.cc|gpu_device\.cc).*"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)$"
)


def import_tensorflow():
    """Import and return ``(tensorflow, keras)`` with the start-up noise removed.

    Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless already set), which hides
    TensorFlow's later INFO and WARNING lines, such as the end-of-dataset
    messages that ``model.fit`` may print, but keeps its errors.

    Returns
    -------
    tuple of (module, module)
        The ``tensorflow`` and ``keras`` modules.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"], sys.modules["keras"]
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow

            # Looking for devices now makes the CUDA probe's error line
            # ("failed call to cuInit") happen while it is still captured.
            tensorflow.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
    kept = [line for line in text.splitlines() if line.strip() and not STARTUP_NOISE.match(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)
    return tensorflow, keras
