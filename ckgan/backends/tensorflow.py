"""TensorFlow: gradients with ``tf.GradientTape``, whole arrays fed to ``fit`` as ``tf.data``.

Keras's TensorFlow trainer calls ``train_step(data)`` (traced by
``tf.function``), so the step's stateful code runs as written. Importing
this module imports TensorFlow.
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


#: XLA slowed TensorFlow's convolutions on a CPU (benchmarks); on a GPU it pays
AUTO_JIT = False


def has_accelerator() -> bool:
    """Whether TensorFlow sees a GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def before_fit(model) -> None:
    """Nothing to prepare: the step updates the variables in place."""


def run_train_step(model, data):
    """Keras's TensorFlow ``train_step(data)``: the model's stateful ``step`` as it is."""
    return model.step(data)


def fit_input(batches: Any) -> Any:
    """Endless numpy batches as a ``tf.data.Dataset`` with their exact (static) shapes.

    A plain generator handed to ``fit`` gets an unknown batch size, which the
    steps' gathers and XLA need to know; a ``tf.data.Dataset`` passes as it is.
    """
    if isinstance(batches, tf.data.Dataset):
        return batches
    first = next(batches)

    def replay():
        yield first
        yield from batches

    spec = tf.nest.map_structure(lambda a: tf.TensorSpec(a.shape, a.dtype), first)
    return tf.data.Dataset.from_generator(replay, output_signature=spec).prefetch(2)


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


def inference(layer) -> Callable[..., Any]:
    """The plain, eager call (a ``tf.function`` sampled the asia controller 1.7x faster:
    not yet adopted, pending a check that it draws the very same labels)."""
    return layer
