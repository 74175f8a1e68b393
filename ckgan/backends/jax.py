"""JAX: gradients of stateful Keras code inside a stateless, jit-compiled step.

Keras's JAX trainer hands ``train_step`` the model's state as arrays and
expects the new state back. ckgan's steps are written statefully (optimizers
apply, variables assign, seed generators advance), so ``run_train_step``
runs them inside a ``keras.StatelessScope`` that maps every variable to its
array and collects the assignments, and ``value_and_grad`` differentiates a
loss with ``jax.value_and_grad`` over a nested scope in which the variables
asked for are the traced inputs. The pattern is Keras's own
``Optimizer.stateless_apply``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
from keras import StatelessScope
from keras.src.backend.common.stateless_scope import get_stateless_scope

#: XLA is how JAX runs: a step that is not jit-compiled runs op by op
AUTO_JIT = True


def _persistent_compilation_cache() -> None:
    """Keep XLA's compiled steps in ckgan's cache: a step compiles in 20 s on 2 CPU cores.

    A folder set by the user (``JAX_COMPILATION_CACHE_DIR``) wins; an
    unusable cache folder only costs the compile again.
    """
    if jax.config.jax_compilation_cache_dir:
        return
    from ..errors import CkganError
    from ..storage import cache_dir

    try:
        jax.config.update("jax_compilation_cache_dir", str(cache_dir("jax")))
    except CkganError:
        pass


_persistent_compilation_cache()


def _scope_values(variables: Sequence[Any]) -> list[Any]:
    return [v.value for v in variables]


def _differentiate(fn, variable_lists, losses_of):
    """``(losses, aux, grads)`` with ``grads[i] = d losses_of(losses)[i] / d variable_lists[i]``.

    The forward pass runs once (``jax.vjp``), in a scope whose mapping is the
    enclosing scope's plus the variables as traced inputs; what it assigns
    (batch-norm statistics, seed generators) is carried back into the
    enclosing scope. Each loss then takes one backward pass.
    """
    outer = get_stateless_scope()
    base = dict(outer.state_mapping) if outer is not None else {}
    flat = [v for variables in variable_lists for v in variables]
    ids = [id(v) for v in flat]

    def run(vals):
        inner = StatelessScope()
        inner.state_mapping = {**base, **dict(zip(ids, vals, strict=True))}
        with inner:
            losses, aux = fn()
        updates = {
            key: value
            for key, value in inner.state_mapping.items()
            if key not in ids and base.get(key) is not value
        }
        vector = jax.numpy.stack([jax.numpy.asarray(x, "float32") for x in losses_of(losses)])
        return vector, (losses, aux, updates)

    vector, pullback, (losses, aux, updates) = jax.vjp(run, _scope_values(flat), has_aux=True)
    grads, start = [], 0
    for i, variables in enumerate(variable_lists):
        (all_grads,) = pullback(jax.nn.one_hot(i, vector.shape[0], dtype=vector.dtype))
        grads.append(list(all_grads[start : start + len(variables)]))
        start += len(variables)
    _write_back(outer, flat, updates)
    return losses, aux, grads


def _write_back(outer, flat, updates):
    if outer is not None:
        outer.state_mapping.update(updates)
        return
    # called eagerly, outside a training step: assign the updates in place
    by_id = {}
    for v in flat:
        by_id[id(v)] = v
    for key, value in updates.items():
        if key in by_id:
            by_id[key].assign(value)


def value_and_grad(
    fn: Callable[[], tuple[Any, Any]], variables: Sequence[Any]
) -> tuple[Any, Any, list[Any]]:
    """Run ``fn() -> (loss, aux)`` and return ``(loss, aux, d loss / d variables)``."""
    loss, aux, (grads,) = _differentiate(fn, [variables], lambda loss: [loss])
    return loss, aux, grads


def values_and_grads(
    fn: Callable[[], tuple[Sequence[Any], Any]], variable_lists: Sequence[Sequence[Any]]
) -> tuple[Sequence[Any], Any, list[list[Any]]]:
    """``(losses, aux, grads)``: ``grads[i] = d losses[i] / d variable_lists[i]``."""
    return _differentiate(fn, variable_lists, lambda losses: list(losses))


def input_gradient(fn: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """``(fn(x), d sum(fn(x)) / dx)``, differentiable again (for gradient penalties)."""
    y, pullback = jax.vjp(fn, jax.numpy.asarray(x))
    (grad,) = pullback(jax.numpy.ones_like(y))
    return y, grad


def before_fit(model) -> None:
    """Give every state variable its own buffer: ``fit`` donates them, once each.

    ``a.assign(b)`` (a moving average started as a copy) leaves two variables
    on one array, which XLA refuses to donate twice.
    """
    seen = set()
    groups = (model.trainable_variables, model.non_trainable_variables)
    for variable in [*groups[0], *groups[1], *model.optimizer.variables, *model.metrics_variables]:
        value = variable.value
        if id(value) in seen:
            variable.assign(jax.numpy.array(value, copy=True))
        seen.add(id(variable.value))


def run_train_step(model, state, data):
    """Keras's JAX ``train_step(state, data)`` around the model's stateful ``step``."""
    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )
    mapping = [
        pair
        for variables, values in zip(groups, state, strict=True)
        for pair in zip(variables, values, strict=True)
    ]
    with StatelessScope(state_mapping=mapping) as scope:
        logs = model.step(data)
    new_state = tuple([_current(scope, v) for v in variables] for variables in groups)
    return logs, new_state


def _current(scope, variable):
    value = scope.get_current_value(variable)
    return variable.value if value is None else value


def fit_input(batches: Any) -> Any:
    """Endless numpy batches, as ``fit`` takes them here."""
    return batches


def has_accelerator() -> bool:
    """Whether JAX runs on a GPU or TPU."""
    return jax.default_backend() != "cpu"


def inference(layer) -> Callable[..., Any]:
    """``layer``'s call, jit-compiled per set of non-array keyword values (``stateless_call``)."""
    compiled: dict[tuple, Callable[..., Any]] = {}

    def call(*args, **kwargs):
        arrays = {k: v for k, v in kwargs.items() if hasattr(v, "shape")}
        static = tuple(sorted((k, v) for k, v in kwargs.items() if k not in arrays))
        fn = compiled.get(static)
        if fn is None:

            def run(trainable, non_trainable, args, arrays):
                out, _ = layer.stateless_call(trainable, non_trainable, *args, **arrays,
                                              **dict(static))  # fmt: skip
                return out

            fn = compiled[static] = jax.jit(run)
        return fn(
            _scope_values(layer.trainable_variables),
            _scope_values(layer.non_trainable_variables),
            args,
            arrays,
        )

    return call
