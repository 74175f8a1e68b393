"""``ckgan.backend``: gradients and the WGAN-GP penalty on functions with known gradients."""

import keras
import numpy as np
import pytest

from ckgan import backend

pytestmark = pytest.mark.backends


def test_gradient_penalty_of_a_linear_critic():
    # f(x) = x . w has gradient w everywhere: penalty (|w| - 1)^2 on every row
    w = np.array([[3.0], [4.0]], dtype="float32")
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    # keras.ops, not `v @ w`: a torch tensor times an ndarray goes through numpy
    scores, penalty = backend.gradient_penalty(lambda v: keras.ops.matmul(v, w)[:, 0], x)
    scores, penalty = (keras.ops.convert_to_numpy(t) for t in (scores, penalty))
    assert np.allclose(scores, (x @ w)[:, 0], atol=1e-5)
    assert np.isclose(float(penalty), 16.0, atol=1e-4)


def test_value_and_grad_through_an_input_gradient():
    # loss = sum over rows of |d/dx (a * x^2)|^2 = sum (2 a x)^2: d loss / da = 8 a sum x^2
    import keras

    a = keras.Variable(1.5)
    x = np.array([[1.0], [2.0]], dtype="float32")

    def loss():
        _, grad = backend.input_gradient(lambda v: a * v**2, x)
        return keras.ops.sum(grad**2), None

    value, aux, (grad_a,) = backend.value_and_grad(loss, [a])
    assert aux is None
    assert np.isclose(float(value), 4 * 1.5**2 * 5)
    assert np.isclose(float(grad_a), 8 * 1.5 * 5)


def test_repeated_dataset_counts_copies():
    data = np.arange(6, dtype="float32").reshape(3, 2)
    items = list(backend.repeated_dataset(data, 4))
    assert len(items) == 4 and all(np.array_equal(item, data) for item in items)
