"""What ckgan's training steps need from the backend Keras runs on.

Models compute with ``keras.ops``; the few things Keras 3 leaves to the
backend (gradients inside a custom ``train_step``, a gradient of a gradient
for penalties, the step's signature, feeding one whole array to ``fit``) are
written once per backend in ``ckgan/backends/`` and chosen here by
``keras.backend.backend()`` (``KERAS_BACKEND=jax|tensorflow|torch``).
Importing this module imports Keras; the backend's own modules load on
first use. Import it from model code only, never from ``ckgan/__init__.py``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import keras
import numpy as np
from keras import ops

from .errors import CkganError

#: the Keras backends ckgan trains on
BACKENDS = ("jax", "tensorflow", "torch")


def name() -> str:
    """The Keras backend in use: ``"jax"``, ``"tensorflow"`` or ``"torch"``."""
    return keras.backend.backend()


@functools.cache
def _module(backend: str) -> ModuleType:
    if backend not in BACKENDS:
        raise CkganError(
            f"Keras backend '{backend}' is not supported: set KERAS_BACKEND to one of "
            f"{', '.join(BACKENDS)}"
        )
    return importlib.import_module(f"ckgan.backends.{backend}")


def _impl() -> ModuleType:
    return _module(name())


def value_and_grad(
    fn: Callable[[], tuple[Any, Any]], variables: Sequence[Any]
) -> tuple[Any, Any, list[Any]]:
    """Run ``fn() -> (loss, aux)`` and return ``(loss, aux, d loss / d variables)``.

    Inside a training step, what ``fn`` assigns (batch-norm statistics, seed
    generators) takes effect as in plain Keras code, on every backend.
    """
    return _impl().value_and_grad(fn, variables)


def values_and_grads(
    fn: Callable[[], tuple[Sequence[Any], Any]], variable_lists: Sequence[Sequence[Any]]
) -> tuple[Sequence[Any], Any, list[list[Any]]]:
    """Run ``fn() -> (losses, aux)`` once; return ``(losses, aux, grads)``.

    ``grads[i]`` is ``d losses[i] / d variable_lists[i]``: several players'
    losses from one forward pass (simultaneous updates, as BEGAN's).
    """
    return _impl().values_and_grads(fn, variable_lists)


def input_gradient(fn: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """``(fn(x), d sum(fn(x)) / dx)``, differentiable again (for gradient penalties).

    With a model that treats rows independently (no batch statistics), row
    ``i`` of the gradient is the gradient of output ``i`` with respect to input
    row ``i``. ``fn`` must not assign variables.
    """
    return _impl().input_gradient(fn, x)


def gradient_penalty(critic: Callable[[Any], Any], x_hat: Any) -> tuple[Any, Any]:
    """WGAN-GP: ``(critic(x_hat), mean((||grad critic(x_hat)|| - 1)^2))``.

    Gulrajani et al. 2017; the small epsilon keeps the norm's gradient finite
    where the critic is flat.
    """
    y, grad = input_gradient(critic, x_hat)
    norm = ops.sqrt(ops.sum(ops.square(grad), axis=-1) + 1e-12)
    return y, ops.mean(ops.square(norm - 1.0))


def inference(layer) -> Callable[..., Any]:
    """``layer``'s forward pass as a function for repeated calls with its current weights.

    ``f(*arrays, **kwargs)`` is ``layer(*arrays, **kwargs)``: on JAX compiled
    once per set of non-array keyword values (an eager JAX call dispatches op
    by op: 20x slower for the causal controller); elsewhere the plain call,
    without gradient tracking on PyTorch. Array arguments of a fixed shape
    keep it to one compile.
    """
    # kept on the layer (a JAX one holds its compiled programs), outside Keras's
    # attribute tracking; it goes when the layer goes
    fn = layer.__dict__.get("_ckgan_inference")
    if fn is None:
        fn = _impl().inference(layer)
        object.__setattr__(layer, "_ckgan_inference", fn)
    return fn


def run_train_step(model, *args):
    """The backend's ``train_step`` around ``model.step(data)`` (see ``ckgan.training``)."""
    return _impl().run_train_step(model, *args)


def before_fit(model) -> None:
    """What the backend needs done to a compiled model before ``fit`` (JAX: unshare buffers)."""
    _impl().before_fit(model)


def fit_input(batches: Any) -> Any:
    """An endless iterator of numpy batches as this backend's ``fit`` takes it best."""
    return _impl().fit_input(batches)


def has_accelerator() -> bool:
    """Whether the backend sees a GPU (or TPU)."""
    return _impl().has_accelerator()


def resolve_jit_compile(jit_compile: bool | str) -> bool:
    """``"auto"`` -> this backend's measured default; ``True``/``False`` unchanged.

    JAX: on (a JAX step that is not compiled runs op by op). TensorFlow: on
    with a GPU only (XLA slowed convolutions on a CPU). PyTorch: off
    (``torch.compile``'s compile time outweighed its gain on short runs).
    """
    if jit_compile == "auto":
        impl = _impl()
        return bool(impl.AUTO_JIT or (name() == "tensorflow" and impl.has_accelerator()))
    return bool(jit_compile)


def shard_batch(x: Any) -> Any:
    """``x`` split along its first axis over the devices of the data-parallel distribution.

    For what a step draws itself (noise, labels for the generator): without
    it, XLA may compute the whole batch on every device. Identity with one
    device or off JAX.
    """
    distribution = keras.distribution.distribution() if name() == "jax" else None
    if distribution is None:
        return x
    return keras.distribution.distribute_tensor(x, distribution.get_data_layout(x.shape))


def steps_per_execution(steps: int) -> int:
    """Training steps per call into ``fit``'s compiled function: 1 on PyTorch (Keras's rule)."""
    return 1 if name() == "torch" else int(steps)


def repeated_dataset(array: Any, count: int | None = None) -> Any:
    """What ``fit`` takes to hand ``train_step`` the whole ``array`` ``count`` times.

    The step then draws its own batches by random indices (a gather, which
    XLA compiles once; slicing at a runtime offset recompiles). TensorFlow:
    a ``tf.data.Dataset`` holding the array once; elsewhere a
    ``keras.utils.PyDataset``. ``count=None``: endless (TensorFlow only).
    """
    if name() == "tensorflow":
        return _impl().repeated_dataset(array, count)
    if count is None:
        raise CkganError("an endless repeated dataset needs the TensorFlow backend")
    return _Repeated(np.asarray(array), int(count))


class _Repeated(keras.utils.PyDataset):
    """``count`` batches, each the whole array (one element of a ``(1, n, k)`` batch)."""

    def __init__(self, array: np.ndarray, count: int):
        super().__init__()
        self.array, self.count = array, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self.count:
            raise IndexError(index)
        return self.array
