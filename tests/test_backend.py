"""fastconv.backend and fastconv.utils.np_utils: the small names Keras programs import."""
import numpy as np
import pytest

import fastconv
from fastconv import backend, layers
from fastconv.utils import np_utils


@pytest.fixture
def restore_data_format():
    yield
    backend.set_image_data_format("channels_last")


def test_constants():
    assert backend.epsilon() == 1e-7
    assert backend.floatx() == "float32"
    assert fastconv.backend is backend


def test_image_data_format_is_the_layers_default(restore_data_format):
    assert backend.image_data_format() == "channels_last"
    assert layers.Conv2D(2, 3).data_format == "channels_last"
    backend.set_image_data_format("channels_first")
    assert backend.image_data_format() == "channels_first"
    conv = layers.Conv2D(2, 3)
    pool = layers.MaxPooling2D()
    assert conv.data_format == pool.data_format == "channels_first"
    assert layers.Conv2D(2, 3, data_format="channels_last").data_format == "channels_last"
    x = np.random.default_rng(0).standard_normal((1, 1, 6, 6)).astype(np.float32)
    assert conv(x).shape == (1, 2, 4, 4)
    with pytest.raises(ValueError, match="data_format"):
        backend.set_image_data_format("NHWC")


def test_clear_session_restarts_layer_names():
    backend.clear_session()
    assert layers.Dense(2).name == "dense"
    assert layers.Dense(2).name == "dense_1"
    backend.clear_session()
    assert layers.Dense(2).name == "dense"


def test_np_utils_to_categorical():
    np.testing.assert_array_equal(np_utils.to_categorical([2, 0], 3),
                                  [[0, 0, 1], [1, 0, 0]])
    assert fastconv.utils.np_utils.to_categorical is fastconv.utils.to_categorical
