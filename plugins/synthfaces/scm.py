"""The exact causal model behind synthfaces' labels.

A ``BinaryBayesNet`` on the paper's Causal Graph 1 whose tables were chosen so
that the marginals match CelebA's attribute rates and the dependencies look
like CelebA's: mustaches and baldness on men, lipstick on women, an open mouth
mostly with a smile, glasses and baldness more often with age. Every entry is
strictly inside (0, 1), so every configuration has mass and ``do()`` on any
node is well defined.
"""

from __future__ import annotations

import numpy as np

import ckgan

#: The nine attributes of the paper, in the ``paper`` graph's node order.
ATTRIBUTES = (
    "Young",
    "Male",
    "Eyeglasses",
    "Bald",
    "Mustache",
    "Smiling",
    "Wearing_Lipstick",
    "Mouth_Slightly_Open",
    "Narrow_Eyes",
)

# P(node = 1 | parents), axes in graph.parents(node) order (= node order:
# Young before Male before Smiling). Index 0 is "attribute absent".
CPTS = {
    "Young": 0.774,
    "Male": 0.417,
    # [Young]
    "Eyeglasses": [0.150, 0.040],
    # [Young][Male]: men only (women 0.001), more with age.
    "Bald": [[0.001, 0.120], [0.001, 0.031]],
    "Mustache": [[0.002, 0.150], [0.002, 0.082]],
    # women smile a little more than men
    "Smiling": [[0.505, 0.375], [0.545, 0.415]],
    # women only (men 0.005), more when young
    "Wearing_Lipstick": [[0.620, 0.005], [0.860, 0.005]],
    # [Young][Smiling]: mostly when smiling
    "Mouth_Slightly_Open": [[0.205, 0.730], [0.225, 0.770]],
    # [Young][Male][Smiling]: more with a smile, with age and on men
    "Narrow_Eyes": [[[0.110, 0.165], [0.130, 0.185]], [[0.072, 0.128], [0.087, 0.143]]],
}

#: CelebA's attribute rates, which the model's marginals match within 0.02.
CELEBA_RATES = {
    "Male": 0.417,
    "Young": 0.774,
    "Eyeglasses": 0.065,
    "Bald": 0.022,
    "Mustache": 0.042,
    "Smiling": 0.482,
    "Wearing_Lipstick": 0.472,
    "Mouth_Slightly_Open": 0.483,
    "Narrow_Eyes": 0.115,
}


def causal_model() -> ckgan.BinaryBayesNet:
    """The exact label model of synthfaces on the built-in ``paper`` graph."""
    graph = ckgan.CausalGraph.load("paper")
    return ckgan.BinaryBayesNet(
        graph, {k: np.asarray(v, dtype=np.float64) for k, v in CPTS.items()}
    )
