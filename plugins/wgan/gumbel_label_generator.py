"""``GumbelLabelGenerator``: a causal controller whose nodes draw hard 0/1 labels.

Each node is a 2-class Gumbel-softmax: the forward pass is an exact
Bernoulli draw (discrete by construction), the backward pass the soft
relaxation's gradient (straight-through) at a temperature annealed over the
run. Everything else is ``WGANLabelGenerator``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ckgan import CausalGraph, CkganError

from .wgan_gp import WGANGP
from .wgan_label_generator import PRESETS, WGANLabelGenerator

TEMPERATURE = {"temperature_start": 1.0, "temperature_end": 0.2}


class GumbelLabelGenerator(WGANLabelGenerator):
    """Straight-through Gumbel-softmax causal controller, trained with WGAN-GP.

    Args:
        graph: the causal graph.
        temperature_start, temperature_end: the Gumbel-softmax temperature,
            annealed geometrically from start to end over a ``fit``.
        **options: as for ``WGANLabelGenerator`` (``preset``, ``hidden``, ...).
    """

    kind = "gumbel"
    output_type = "gumbel"
    presets = {name: {**preset, **TEMPERATURE} for name, preset in PRESETS.items()}

    def __init__(
        self,
        graph: CausalGraph,
        *,
        temperature_start: float | None = None,
        temperature_end: float | None = None,
        **options: Any,
    ):
        for key, value in (
            ("temperature_start", temperature_start),
            ("temperature_end", temperature_end),
        ):
            if value is not None:
                if float(value) <= 0:
                    raise CkganError(f"option {key} must be positive, got {value}")
                options[key] = float(value)
        super().__init__(graph, **options)

    def _wgan(self, steps: int, seed: int | None, labels: np.ndarray) -> WGANGP:
        wgan = super()._wgan(steps, seed, labels)
        wgan.temperature = (self.options["temperature_start"], self.options["temperature_end"])
        return wgan
