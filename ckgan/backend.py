"""The few TensorFlow-specific pieces that ckgan's training steps need.

Models compute with ``keras.ops``; what Keras 3 leaves to the backend (taking
gradients inside a custom ``train_step``, a gradient penalty's gradient of a
gradient, feeding one whole array to ``fit``) lives here and nowhere else, so
that another backend needs only this module rewritten. Importing it imports
TensorFlow: import it from model code only, never from ``ckgan/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf


def value_and_grad(
    fn: Callable[[], tuple[Any, Any]], variables: Sequence[Any]
) -> tuple[Any, Any, list[Any]]:
    """Run ``fn() -> (loss, aux)`` and return ``(loss, aux, d loss / d variables)``."""
    with tf.GradientTape() as tape:
        loss, aux = fn()
    return loss, aux, tape.gradient(loss, variables)


def input_gradient(fn: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """``(fn(x), d sum(fn(x)) / dx)``, differentiable again (for gradient penalties).

    With a model that treats rows independently (no batch statistics), row
    ``i`` of the gradient is the gradient of output ``i`` with respect to input
    row ``i``.
    """
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x)


def gradient_penalty(critic: Callable[[Any], Any], x_hat: Any) -> tuple[Any, Any]:
    """WGAN-GP: ``(critic(x_hat), mean((||grad critic(x_hat)|| - 1)^2))``.

    Gulrajani et al. 2017; the small epsilon keeps the norm's gradient finite
    where the critic is flat.
    """
    y, grad = input_gradient(critic, x_hat)
    norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=-1) + 1e-12)
    return y, tf.reduce_mean(tf.square(norm - 1.0))


def repeated_dataset(array: Any, count: int | None = None) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of ``count`` elements (endless: None), each the whole ``array``.

    ``fit`` on it hands ``train_step`` the full data once per step without
    copying it, so that the step draws its own batches by random indices (a
    gather, which XLA compiles once; slicing at a runtime offset recompiles).
    Autotuning and the injected prefetch are off: there is nothing to
    prefetch, and their background work slowed ``fit`` by up to 1.4x on 2 cores.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    dataset = tf.data.Dataset.from_tensors(tf.convert_to_tensor(array)).repeat(count)
    return dataset.with_options(options)


def has_gpu() -> bool:
    """Whether TensorFlow sees a GPU (XLA pays off there; on a CPU it slows convolutions)."""
    return bool(tf.config.list_physical_devices("GPU"))


def resolve_jit_compile(jit_compile: bool | str) -> bool:
    """``"auto"`` -> XLA on a GPU, not on a CPU; ``True``/``False`` unchanged."""
    if jit_compile == "auto":
        return has_gpu()
    return bool(jit_compile)


def values_and_grads(
    fn: Callable[[], tuple[Sequence[Any], Any]], variable_lists: Sequence[Sequence[Any]]
) -> tuple[Sequence[Any], Any, list[list[Any]]]:
    """Run ``fn() -> (losses, aux)`` once; return ``(losses, aux, grads)``.

    ``grads[i]`` is ``d losses[i] / d variable_lists[i]``: several players'
    losses from one forward pass (simultaneous updates, as BEGAN's).
    """
    with tf.GradientTape(persistent=True) as tape:
        losses, aux = fn()
    grads = [tape.gradient(loss, v) for loss, v in zip(losses, variable_lists, strict=True)]
    del tape
    return losses, aux, grads
