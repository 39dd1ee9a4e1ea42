"""TensorFlow's start-up log lines are dropped; anything else still reaches stderr."""

import subprocess
import sys

from cnn_course import quiet_tensorflow

SCRIPT = """
from cnn_course import quiet_tensorflow
tf, keras = quiet_tensorflow.import_tensorflow()
import numpy as np
x = np.ones((1, 5, 5, 1), np.float32)
model = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(2)])
model.compile("adam", "mse")
model.fit(x, np.zeros((1, 2)), epochs=1, verbose=0)
print(tf.nn.conv2d(x, np.ones((3, 3, 1, 1), np.float32), 1, "VALID").shape)
"""


def test_no_tensorflow_lines_reach_stderr():
    environment = {key: value for key, value in __import__("os").environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 3, 3, 1)"
    assert result.stderr == ""


def test_the_filter_knows_the_start_up_lines_and_nothing_else():
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795603218.487336    1977 port.cc:153] oneDNN custom operations are on. You may see ...",
        "I0000 00:00:1795603218.487878    1977 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.",
        "E0000 00:00:1795603220.144714    1977 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
    ]
    for line in noise:
        assert quiet_tensorflow.STARTUP_NOISE.match(line), line
    for line in ["Traceback (most recent call last):", "UserWarning: something real", "E0000 00:00:1 op_kernel.cc:1] real error"]:
        assert not quiet_tensorflow.STARTUP_NOISE.match(line), line
