"""``GANModel``: the training base every ckgan stage's Keras model shares.

A stage writes its step once, statefully, in ``keras.ops``: ``step(data)``
takes gradients with ``ckgan.backend.value_and_grad`` and applies them with
its own optimizers, assigns its counters and moving averages, and returns
its logs. ``train_step`` hands that to the backend's module, which runs it
as it is (TensorFlow, PyTorch) or inside a stateless scope that carries
every variable as state (JAX, as Keras's JAX trainer requires). The
optimizers are passed to ``compile`` and travel as one ``OptimizerGroup``,
so that all their slots are part of the state on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras

from . import backend


class OptimizerGroup(keras.optimizers.Optimizer):
    """Several optimizers that ``fit`` sees as one: their variables, in order.

    Each member updates its own player's variables inside the step; the
    group only gathers their state, so Keras's trainers checkpoint, shard
    and carry it. ``iterations`` counts the first member's updates.
    """

    def __init__(self, optimizers: Mapping[str, keras.optimizers.Optimizer], name="optimizers"):
        super().__init__(learning_rate=0.0, name=name)
        self.members = dict(optimizers)
        if not self.members:
            raise ValueError("an OptimizerGroup needs at least one optimizer")

    @property
    def variables(self):
        return [v for optimizer in self.members.values() for v in optimizer.variables]

    @property
    def iterations(self):
        return next(iter(self.members.values())).iterations

    def build(self, variables):
        self.built = True

    def apply(self, grads, trainable_variables=None):
        raise TypeError("apply each member of an OptimizerGroup to its own variables")

    def finalize_variable_values(self, var_list):
        for optimizer in self.members.values():
            optimizer.finalize_variable_values(optimizer._trainable_variables)

    def get_config(self):
        return {"name": self.name, "members": list(self.members)}


class GANModel(keras.Model):
    """A Keras model trained by ``step(data)`` on any backend.

    Subclasses implement ``step``; ``compile_players`` sets the optimizers
    (``{name: optimizer}``), builds each on the variables it updates
    (``{name: variables}``) and compiles. ``self.optimizers`` holds them.
    """

    def compile_players(
        self,
        optimizers: Mapping[str, keras.optimizers.Optimizer],
        variables: Mapping[str, list],
        jit_compile: bool | str = "auto",
        **kwargs,
    ) -> None:
        """``Model.compile`` with one optimizer per player; ``jit_compile="auto"``: per backend."""
        self.optimizers = dict(optimizers)
        for key, optimizer in self.optimizers.items():
            if not optimizer.built:
                optimizer.build(variables[key])
        # the players are built; the model's own call is not part of training,
        # so fit must not build it by calling it on a batch of training data
        self.built = True
        per_call = backend.steps_per_execution(kwargs.pop("steps_per_execution", 1))
        super().compile(
            optimizer=OptimizerGroup(self.optimizers),
            jit_compile=backend.resolve_jit_compile(jit_compile),
            steps_per_execution=per_call,
            **kwargs,
        )

    def step(self, data):
        """One training step, statefully: update the players, return the logs."""
        raise NotImplementedError

    def fit(self, *args, **kwargs):
        backend.before_fit(self)
        return super().fit(*args, **kwargs)

    def train_step(self, *args):
        return backend.run_train_step(self, *args)
