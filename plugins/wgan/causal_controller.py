"""``CausalController``: the label generator network shaped like the causal graph.

Every node has its own small MLP fed by its own noise and its parents' outputs
(CausalGAN's causal controller). The per-node weights are stacked, so one
topological generation of nodes costs one batched matmul per layer whatever
the number of nodes in it, and a forward pass is one pass per generation.

A binary node outputs one value (a sigmoid, or a hard Gumbel draw); a node of
``k >= 3`` states a one-hot state drawn from its ``k``-way softmax by the
Gumbel-max trick (straight-through softmax gradients), in both kinds of
controller, and its children read the whole block. (A deterministic softmax
output, the sigmoid's analogue, learned far worse: on a 3-node network with
a 3-state cause and rare parent combinations, TV 0.068 observational and
0.28 under do against 0.049 and 0.11 with draws.) Inside, every node has ``slots``
output slots (the most states of any categorical node; 1 when every node is
binary, which keeps binary graphs' weights and arithmetic exactly as they
were); outside, outputs are model vectors (``ckgan.states.Encoding``).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

OUTPUTS = ("sigmoid", "gumbel")


def topological_generations(adjacency: np.ndarray) -> list[list[int]]:
    """Node indices grouped by longest-path depth (as ``CausalGraph.generations``)."""
    a = np.asarray(adjacency) != 0
    depth = np.zeros(len(a), dtype=int)
    for j in range(len(a)):  # graph order is topological: parents come first
        parents = np.flatnonzero(a[:, j])
        if len(parents):
            if parents.max() >= j:
                raise ValueError("adjacency must be in a topological order")
            depth[j] = depth[parents].max() + 1
    return [np.flatnonzero(depth == d).tolist() for d in range(depth.max() + 1)]


def _bce(logits, targets):
    """Binary cross-entropy of 0/1 ``targets`` under ``sigmoid(logits)``, elementwise, stable."""
    return ops.maximum(logits, 0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))


def _uniform(fan_in: int, fan_out: int, seed=None) -> keras.initializers.Initializer:
    # Glorot-uniform for one node's dense layer; Keras's own Glorot would count
    # the stacked node axis into the fans and shrink the weights.
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return keras.initializers.RandomUniform(-limit, limit, seed=seed)


@keras.saving.register_keras_serializable(package="ckgan")
class CausalController(keras.Model):
    """A causal implicit generative model over binary and categorical labels.

    Args:
        adjacency: ``(k, k)`` 0/1 nested list in a topological node order,
            ``adjacency[i][j] = 1`` iff ``i -> j`` (``CausalGraph.adjacency()``).
        noise_dim: dimension of each node's own noise, ``U[-1, 1]``.
        hidden: widths of each node's hidden layers.
        negative_slope: of the leaky ReLUs.
        output_type: ``"sigmoid"`` (a binary node's value in (0, 1), never
            rounded here: the CausalGAN controller) or ``"gumbel"`` (a hard 0/1
            draw from the node's Bernoulli by the Gumbel-max trick, with
            straight-through Gumbel-softmax gradients at ``temperature``).
            A categorical node is a hard one-hot Gumbel-max draw from its
            softmax in both. Draws use ``slots`` more noise channels per node.
        cards: each node's number of states (``None``: all binary).

    ``call(noise, do_mask=None, do_values=None, temperature=1.0, return_probs=False,
    return_logits=False)``
    takes noise of shape ``(batch, k, noise_channels)`` and returns
    ``(batch, width)`` model vectors in node order (``(batch, k)`` when every
    node is binary). ``do_mask`` (``(k,)``, or ``(batch, k)`` for one
    intervention per row) marks the nodes whose outputs are replaced by
    ``do_values`` (model vectors: ``(width,)`` or ``(batch, width)``) before
    their children read them. With ``return_logits``, ``(outputs, logits)``:
    each node's logits before any ``do`` replaced it, ``(batch, k)`` (binary
    graphs) or ``(batch, k, slots)``. With ``parents_given``, only those
    logits, every node's parents read from ``do_values`` (``given_parents``).
    """

    def __init__(
        self,
        adjacency,
        noise_dim: int = 10,
        hidden=(32, 32),
        negative_slope: float = 0.2,
        output_type: str = "sigmoid",
        cards=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if output_type not in OUTPUTS:
            raise ValueError(f"output_type must be one of {OUTPUTS}, got {output_type!r}")
        self.adjacency = [[int(v != 0) for v in row] for row in np.asarray(adjacency)]
        self.noise_dim = int(noise_dim)
        self.hidden = [int(h) for h in hidden]
        self.negative_slope = float(negative_slope)
        self.output_type = output_type
        self.num_nodes = len(self.adjacency)
        self.cards = [2] * self.num_nodes if cards is None else [int(c) for c in cards]
        if len(self.cards) != self.num_nodes or min(self.cards) < 2:
            raise ValueError(f"cards must give 2 or more states for each of {self.num_nodes} nodes")
        #: output slots per node: 1 for binary graphs, else the most states of a node
        self.slots = max([1] + [c for c in self.cards if c > 2])
        # Gumbel draws take a uniform per slot: every node of a gumbel controller, the
        # categorical nodes of a sigmoid one (none in a binary graph)
        draws = output_type == "gumbel" or self.slots > 1
        self.noise_channels = self.noise_dim + (self.slots if draws else 0)
        adj = np.asarray(self.adjacency, dtype="float32")
        self.generations = topological_generations(adj)
        # Nodes are stacked in generation order; generation g is rows
        # [start, stop) of every weight and reads the outputs of rows [0, start).
        order = np.asarray([i for gen in self.generations for i in gen], dtype="int32")
        self._order = order
        self._inverse = np.argsort(order).astype("int32")
        ends = np.cumsum([len(gen) for gen in self.generations]).tolist()
        self._bounds = list(zip([0, *ends[:-1]], ends, strict=True))
        # mask[i, j, 0] = 1 iff node order[j] is a parent of node order[i]
        self._mask = adj[order][:, order].T[:, :, None].copy()
        if self.slots > 1:
            self._layout(order)
        self._make_weights()
        self.built = True

    def _layout(self, order: np.ndarray) -> None:
        """Static index maps between the slot layout (generation order) and model vectors."""
        k, c = self.num_nodes, self.slots
        widths = [1 if n == 2 else n for n in self.cards]
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
        self.width = int(sum(widths))
        # slot (i, s) of node order[i]: its model-vector column, or width (a zero) if unused
        source = np.full((k, c), self.width, dtype="int32")
        valid = np.zeros((k, c), dtype="float32")
        for i, node in enumerate(order):
            source[i, : widths[node]] = starts[node] + np.arange(widths[node])
            valid[i, : widths[node]] = 1.0
        self._slot_source = source.reshape(-1)
        # model-vector column j comes from slot (inverse position of its node, s)
        position = np.argsort(order)
        self._column_slot = np.array(
            [position[n] * c + s for n in range(k) for s in range(widths[n])], dtype="int32"
        )
        self._binary = np.array([self.cards[n] == 2 for n in order], "float32")[:, None, None]
        self._valid = valid[:, None, :]  # (k, 1, c)
        # parents' columns: mask[i, j * c + s] = 1 iff node order[j] is a parent of order[i]
        self._mask = (self._mask[:, :, :, None] * valid[None, :, None, :]).reshape(k, k * c, 1)

    def _make_weights(self) -> None:
        # One variable per layer for all nodes (sliced per generation by static
        # bounds): few variables keep the optimizer's per-variable work small.
        k, widths = self.num_nodes, self.hidden
        fan_in = self.noise_dim + int(self._mask.sum(axis=1).max())
        self.w_noise = self.add_weight(
            (k, self.noise_dim, widths[0]), _uniform(fan_in, widths[0]), name="noise_kernel"
        )
        # A graph without edges has no parent weights (no unused, gradient-less variable).
        self.w_parents = None
        if self._mask.any():
            self.w_parents = self.add_weight(
                (k, self._mask.shape[1], widths[0]), _uniform(fan_in, widths[0]),
                name="parent_kernel",
            )  # fmt: skip
        self.b_in = self.add_weight((k, 1, widths[0]), "zeros", name="bias_0")
        self.dense = []
        for layer, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True), start=1):
            kernel = self.add_weight((k, a, b), _uniform(a, b), name=f"kernel_{layer}")
            bias = self.add_weight((k, 1, b), "zeros", name=f"bias_{layer}")
            self.dense.append((kernel, bias))
        slots = self.slots
        self.w_out = self.add_weight(
            (k, widths[-1], slots), _uniform(widths[-1], slots), name="out_kernel"
        )
        self.b_out = self.add_weight((k, 1, slots), "zeros", name="out_bias")

    def call(
        self,
        noise,
        do_mask=None,
        do_values=None,
        temperature=1.0,
        return_probs: bool = False,
        return_logits: bool = False,
        training=None,
        parents_given: bool = False,
    ):
        if parents_given:  # a do of every node: only the logits matter, in one pass
            return self.given_parents(noise, do_values)
        # Activations are laid out (nodes, batch, width) in generation order,
        # so that every layer of a generation is one batched matmul.
        if self.slots > 1:
            return self._call_slots(noise, do_mask, do_values, temperature, return_probs,
                                    return_logits, training)  # fmt: skip
        noise = ops.convert_to_tensor(noise, "float32")
        noise = ops.take(ops.transpose(noise, (1, 0, 2)), self._order, axis=0)
        if do_mask is not None:
            do_mask, do_values = self._node_major(do_mask), self._node_major(do_values)
        w_parents = None if self.w_parents is None else self.w_parents * self._mask
        outputs, probs, logits = [], [], []
        for start, stop in self._bounds:
            z = noise[start:stop]
            h = self._hidden(z, outputs, w_parents, start, stop)
            logit = ops.matmul(h, self.w_out[start:stop]) + self.b_out[start:stop]
            logit = logit[:, :, 0]  # (nodes, batch)
            if self.output_type == "sigmoid":
                y = p = ops.sigmoid(logit)
            else:
                y, p = self._gumbel(logit, z[:, :, self.noise_dim], temperature, training)
            y, p = self._apply_do(y, p, do_mask, do_values, start, stop)
            outputs.append(y)
            probs.append(p)
            logits.append(logit)
        out = self._node_order(probs if return_probs else outputs)
        return (out, self._node_order(logits)) if return_logits else out

    def _hidden(self, z, outputs, w_parents, start, stop):
        """The last hidden layer of generation ``[start, stop)``, given the outputs so far.

        Outputs are ``(nodes, batch)`` blocks in a binary graph, ``(nodes, batch,
        slots)`` ones otherwise.
        """
        h = ops.matmul(z[:, :, : self.noise_dim], self.w_noise[start:stop])
        if start:
            parents = ops.concatenate(outputs, axis=0) if len(outputs) > 1 else outputs[0]
            if self.slots == 1:
                flat = ops.transpose(parents)  # (batch, start)
            else:  # (start, batch, slots) -> (batch, start * slots), slot-major per node
                flat = ops.reshape(ops.transpose(parents, (1, 0, 2)), (ops.shape(parents)[1], -1))
            h = h + ops.matmul(flat[None], w_parents[start:stop, : start * self.slots])
        return self._node_mlp(h, start, stop)

    def _node_mlp(self, h, start, stop):
        """Nodes ``[start, stop)``'s hidden layers from their first layer's pre-activation."""
        h = ops.leaky_relu(h + self.b_in[start:stop], self.negative_slope)
        for kernel, bias in self.dense:
            h = ops.matmul(h, kernel[start:stop]) + bias[start:stop]
            h = ops.leaky_relu(h, self.negative_slope)
        return h

    @staticmethod
    def _apply_do(y, p, do_mask, do_values, start, stop):
        """Outputs and probabilities of generation ``[start, stop)`` with ``do`` nodes replaced."""
        if do_mask is None:
            return y, p
        m, v = do_mask[start:stop], do_values[start:stop]
        return y * (1.0 - m) + v * m, p * (1.0 - m) + v * m

    def _call_slots(self, noise, do_mask, do_values, temperature, return_probs, return_logits,
                    training):  # fmt: skip
        """``call`` for graphs with categorical nodes: every node has ``slots`` outputs."""
        noise = ops.convert_to_tensor(noise, "float32")
        noise = ops.take(ops.transpose(noise, (1, 0, 2)), self._order, axis=0)
        if do_mask is not None:
            do_mask = self._node_major(do_mask)[:, :, None]  # (k, batch or 1, 1)
            do_values = self._slot_major(do_values)  # (k, batch or 1, slots)
        w_parents = None if self.w_parents is None else self.w_parents * self._mask
        outputs, probs, logits = [], [], []
        for start, stop in self._bounds:
            z = noise[start:stop]
            h = self._hidden(z, outputs, w_parents, start, stop)
            logit = ops.matmul(h, self.w_out[start:stop]) + self.b_out[start:stop]  # (g, b, c)
            binary, valid = self._binary[start:stop], self._valid[start:stop]
            first = np.eye(self.slots, dtype="float32")[:1][None]  # slot 0 only
            masked = logit + (valid - 1.0) * 1e9  # unused slots never win
            p = binary * ops.sigmoid(logit[:, :, :1]) * first + (1.0 - binary) * ops.softmax(
                masked, axis=-1
            )
            u = ops.clip((z[:, :, self.noise_dim :] + 1.0) * 0.5, 1e-6, 1.0 - 1e-6)
            y = self._gumbel_slots(logit, masked, u, binary, first, temperature, training)
            if self.output_type == "sigmoid":  # binary nodes: the sigmoid, as always
                y = binary * p + (1.0 - binary) * y
            y, p = self._apply_do(y, p, do_mask, do_values, start, stop)
            outputs.append(y)
            probs.append(p)
            logits.append(logit)
        out = self._columns(probs if return_probs else outputs)
        if return_logits:
            stacked = ops.concatenate(logits, axis=0) if len(logits) > 1 else logits[0]
            return out, ops.transpose(ops.take(stacked, self._inverse, axis=0), (1, 0, 2))
        return out

    @staticmethod
    def _gumbel_slots(logit, masked, u, binary, first, temperature, training):
        """Hard draws in the slot layout: a Bernoulli's logistic trick on slot 0 of a binary
        node, Gumbel-max over the states of a categorical one; straight-through in training."""
        # binary: sigmoid((logit + logistic noise) / tau), as in _gumbel
        perturbed = logit[:, :, :1] + ops.log(u[:, :, :1]) - ops.log1p(-u[:, :, :1])
        hard_b = ops.cast(perturbed > 0, "float32")
        # categorical: argmax of logits plus Gumbel noise, one-hot
        scores = masked - ops.log(-ops.log(u))
        hard_c = ops.one_hot(ops.argmax(scores, axis=-1), ops.shape(scores)[-1])
        if training:
            soft_b = ops.sigmoid(perturbed / temperature)
            hard_b = hard_b + soft_b - ops.stop_gradient(soft_b)
            soft_c = ops.softmax(scores / temperature, axis=-1)
            hard_c = hard_c + soft_c - ops.stop_gradient(soft_c)
        return binary * hard_b * first + (1.0 - binary) * hard_c

    def _columns(self, blocks):
        # per-generation (nodes, batch, slots) blocks -> (batch, width) model vectors
        out = ops.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
        flat = ops.reshape(ops.transpose(out, (1, 0, 2)), (ops.shape(out)[1], -1))
        return ops.take(flat, self._column_slot, axis=1)

    def _slot_major(self, values):
        # model vectors (width,) or (batch, width) -> (k, 1 or batch, slots), generation order
        values = ops.convert_to_tensor(values, "float32")
        if len(values.shape) == 1:
            values = values[None]
        padded = ops.concatenate([values, ops.zeros_like(values[:, :1])], axis=1)
        slots = ops.take(padded, self._slot_source, axis=1)
        slots = ops.reshape(slots, (ops.shape(values)[0], self.num_nodes, self.slots))
        return ops.transpose(slots, (1, 0, 2))

    def _node_order(self, blocks):
        # per-generation (nodes, batch) blocks -> (batch, k) in graph order
        out = ops.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
        return ops.transpose(ops.take(out, self._inverse, axis=0))

    def _node_major(self, values):
        # (k,) or per row (batch, k) -> (k, 1) or (k, batch), in generation order
        values = ops.convert_to_tensor(values, "float32")
        if len(values.shape) == 1:
            return ops.take(values, self._order)[:, None]
        return ops.take(ops.transpose(values), self._order, axis=0)

    def edge_norms(self):
        """The L2 norm of each edge's parent weights, ``(child, parent)`` in graph order.

        Zero where there is no edge. Their sum is the group-lasso penalty
        that lets training drop edges the data do not need.
        """
        k = self.num_nodes
        if self.w_parents is None:
            return ops.zeros((k, k))
        if self.slots > 1:  # an edge from a categorical parent: all its columns' weights
            squares = ops.sum(ops.square(self.w_parents * self._mask), axis=-1)
            squares = ops.sum(ops.reshape(squares, (k, k, self.slots)), axis=-1)
            edges = ops.max(ops.reshape(self._mask[:, :, 0], (k, k, self.slots)), axis=-1)
            norms = ops.sqrt(squares + 1e-12) * edges
            return ops.take(ops.take(norms, self._inverse, axis=0), self._inverse, axis=1)
        norms = ops.sqrt(ops.sum(ops.square(self.w_parents * self._mask), axis=-1) + 1e-12)
        norms = ops.multiply(norms, self._mask[:, :, 0])
        # rows and columns are in generation order: back to graph order
        return ops.take(ops.take(norms, self._inverse, axis=0), self._inverse, axis=1)

    def explicit_nodes(self) -> np.ndarray:
        """Which nodes draw from explicit probabilities, ``(k,)`` bool in graph order.

        Gumbel nodes and categorical ones draw their value from their logits'
        distribution, so those logits have a likelihood; a sigmoid node's
        output is rounded (its distribution is implicit in its noise).
        """
        return np.array([self.output_type == "gumbel" or c > 2 for c in self.cards])

    def family_nll(self, noise, values, weights=None):
        """Each row's negative log-likelihood of its own values, node by node given its parents.

        Every node reads its parents' values from ``values`` (model vectors,
        ``(batch, width)``), as in a ``do`` of all of them, and is scored on
        its own: the sum over the explicit nodes of the cross-entropy of its
        logits with its value, ``(batch,)``, each node's term times its
        ``weights`` (``(batch, k)``, graph order; ``None``: 1). Its mean over
        data rows is the controller's family likelihood loss: each family is
        fitted to every row that shows its parents' configuration, however rare.
        """
        values = ops.convert_to_tensor(values, "float32")
        logits = self.given_parents(noise, values)
        # a tensor, not numpy: torch's tensor times an ndarray is numpy's product,
        # which cannot take a tensor that requires grad
        explicit = ops.convert_to_tensor(self.explicit_nodes().astype("float32"))
        if weights is not None:
            explicit = explicit * ops.convert_to_tensor(weights, "float32")
        cards = np.array(self.cards)
        if self.slots == 1:  # (batch, k) logits and values
            return ops.sum(_bce(logits, values) * explicit, axis=-1)
        targets = ops.take(self._slot_major(values), self._inverse, axis=0)
        targets = ops.transpose(targets, (1, 0, 2))  # (batch, k, slots), graph order
        binary = (cards == 2)[None, :]
        bce = _bce(logits[:, :, 0], targets[:, :, 0])
        valid = np.arange(self.slots)[None, :] < cards[:, None]  # (k, slots), graph order
        masked = logits + (valid.astype("float32") - 1.0) * 1e9
        ce = -ops.sum(targets * ops.log_softmax(masked, axis=-1), axis=-1)
        nll = ops.where(binary, bce, ce)
        return ops.sum(nll * explicit, axis=-1)

    def given_parents(self, noise, values):
        """Every node's logits with its parents' values read from ``values``, in one pass.

        The logits ``call`` returns under a ``do`` of every node
        (``return_logits``), but with no generation waiting for another: each
        node's parents are given, so all nodes are one batched matmul per
        layer. ``(batch, k)`` (binary graphs) or ``(batch, k, slots)``, graph order.
        """
        noise = ops.convert_to_tensor(noise, "float32")
        z = ops.take(ops.transpose(noise, (1, 0, 2)), self._order, axis=0)  # (k, batch, ch)
        h = ops.matmul(z[:, :, : self.noise_dim], self.w_noise)
        if self.w_parents is not None:
            if self.slots == 1:  # (batch, k) in generation order
                flat = ops.transpose(self._node_major(values))
            else:  # (batch, k * slots), slot-major per node
                blocks = ops.transpose(self._slot_major(values), (1, 0, 2))
                flat = ops.reshape(blocks, (ops.shape(blocks)[0], -1))
            h = h + ops.matmul(flat[None], self.w_parents * self._mask)
        h = self._node_mlp(h, 0, self.num_nodes)
        logit = ops.take(ops.matmul(h, self.w_out) + self.b_out, self._inverse, axis=0)
        if self.slots == 1:
            return ops.transpose(logit[:, :, 0])
        return ops.transpose(logit, (1, 0, 2))

    @staticmethod
    def _gumbel(logit, u, temperature, training):
        # A 2-class Gumbel-softmax is a sigmoid of (logit + logistic noise) / tau;
        # the hard sample (its sign) is an exact Bernoulli(sigmoid(logit)) draw.
        u = ops.clip((u + 1.0) * 0.5, 1e-6, 1.0 - 1e-6)
        perturbed = logit + ops.log(u) - ops.log1p(-u)
        hard = ops.cast(perturbed > 0, "float32")
        if training:
            soft = ops.sigmoid(perturbed / temperature)
            hard = hard + soft - ops.stop_gradient(soft)
        return hard, ops.sigmoid(logit)

    def get_config(self):
        return {
            **super().get_config(),
            "adjacency": self.adjacency,
            "noise_dim": self.noise_dim,
            "hidden": self.hidden,
            "negative_slope": self.negative_slope,
            "output_type": self.output_type,
            "cards": None if self.slots == 1 else self.cards,
        }
