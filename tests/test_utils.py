"""fastconv.utils.to_categorical, against the behaviour of keras.utils.to_categorical."""
import numpy as np
import pytest

from fastconv.utils import to_categorical


def test_one_hot_rows():
    expected = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
    result = to_categorical([0, 2, 1])
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("shape, expected_shape", [
    ((5,), (5, 4)),
    ((5, 1), (5, 4)),  # Keras drops a trailing axis of size 1
    ((2, 3), (2, 3, 4)),
    ((2, 3, 1), (2, 3, 4)),
    ((1,), (1, 4)),
    ((), (4,)),
])
def test_shapes_like_keras(shape, expected_shape):
    y = np.arange(int(np.prod(shape))).reshape(shape) % 4
    result = to_categorical(y, num_classes=4)
    assert result.shape == expected_shape
    np.testing.assert_array_equal(result.argmax(-1).reshape(-1), y.reshape(-1))
    np.testing.assert_array_equal(result.sum(-1), 1)


def test_num_classes_inferred_and_given():
    assert to_categorical(np.array([3, 1], dtype=np.uint8)).shape == (2, 4)
    assert to_categorical([3, 1], num_classes=np.int64(10)).shape == (2, 10)


def test_dtype_and_integral_values():
    result = to_categorical(np.array([2.0, 0.0]), num_classes=3, dtype="int32")
    assert result.dtype == np.int32
    np.testing.assert_array_equal(result, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(to_categorical([True, False]), [[0, 1], [1, 0]])


def test_empty_labels_need_num_classes():
    assert to_categorical([], num_classes=3).shape == (0, 3)
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([])


@pytest.mark.parametrize("y, num_classes, message", [
    ([0, -1], None, "non-negative, got -1"),
    ([0, 3], 3, "label 3 is out of range for num_classes=3"),
    ([0.5, 1], None, "integers, got 0.5"),
    ([1.0, np.nan], None, "integers, got nan"),
    (["a", "b"], None, "dtype <U1"),
    ([0, 1], 0, "at least 1"),
])
def test_invalid_labels_are_value_errors(y, num_classes, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(y, num_classes=num_classes)


def test_num_classes_must_be_an_integer():
    with pytest.raises(TypeError, match="num_classes"):
        to_categorical([0, 1], num_classes=2.5)
