"""PyTorch: gradients of ckgan's stateful steps with ``torch.autograd``.

Keras's torch trainer calls ``train_step(data)`` eagerly, so the step's code
runs as written; gradients come from ``torch.autograd.grad`` on the
variables' tensors (never ``.backward()``, which would accumulate into
``.grad`` across players), with ``create_graph`` where a gradient penalty
differentiates a gradient again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from keras import tree

#: torch.compile took longer to compile than ckgan's short runs gain (benchmarks)
AUTO_JIT = False


def _grads(loss, variables, retain):
    tensors = [v.value for v in variables]
    grads = torch.autograd.grad(loss, tensors, retain_graph=retain, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, tensors, strict=True)]


def value_and_grad(
    fn: Callable[[], tuple[Any, Any]], variables: Sequence[Any]
) -> tuple[Any, Any, list[Any]]:
    """Run ``fn() -> (loss, aux)`` and return ``(loss, aux, d loss / d variables)``."""
    with torch.enable_grad():
        loss, aux = fn()
        grads = _grads(loss, variables, retain=False)
    return loss.detach(), _detach(aux), grads


def values_and_grads(
    fn: Callable[[], tuple[Sequence[Any], Any]], variable_lists: Sequence[Sequence[Any]]
) -> tuple[Sequence[Any], Any, list[list[Any]]]:
    """``(losses, aux, grads)``: ``grads[i] = d losses[i] / d variable_lists[i]``, one forward."""
    with torch.enable_grad():
        losses, aux = fn()
        last = len(variable_lists) - 1
        grads = [
            _grads(loss, variables, retain=i < last)
            for i, (loss, variables) in enumerate(zip(losses, variable_lists, strict=True))
        ]
    return [loss.detach() for loss in losses], _detach(aux), grads


def _detach(aux):
    """``aux`` without its autograd graph (metrics keep no graph alive)."""
    return tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, aux)


def input_gradient(fn: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """``(fn(x), d sum(fn(x)) / dx)``, differentiable again (for gradient penalties)."""
    with torch.enable_grad():
        x = torch.as_tensor(x).detach().requires_grad_(True)
        y = fn(x)
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    return y, grad


def before_fit(model) -> None:
    """Nothing to prepare: the step updates the variables in place."""


def run_train_step(model, data):
    """Keras's torch ``train_step(data)``: the model's stateful ``step`` as it is."""
    return model.step(data)


def fit_input(batches: Any) -> Any:
    """Endless numpy batches, as ``fit`` takes them here."""
    return batches


def has_accelerator() -> bool:
    """Whether torch sees a CUDA (or ROCm) GPU."""
    return torch.cuda.is_available()


def inference(layer) -> Callable[..., Any]:
    """The plain call, without autograd's bookkeeping."""

    def call(*args, **kwargs):
        with torch.no_grad():
            return layer(*args, **kwargs)

    return call
