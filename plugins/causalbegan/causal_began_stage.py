"""``CausalBEGANStage``: the CausalBEGAN image stage (BEGAN with a Labeler) as a plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from ckgan import CkganError
from ckgan.images import LABEL_POOL, ImageStage

from .began_autoencoder import BEGANAutoencoder
from .began_decoder import BEGANDecoder
from .began_encoder import BEGANEncoder
from .causal_began import CausalBEGAN

#: option values per preset; an explicit constructor argument overrides them.
PRESETS: dict[str, dict[str, Any]] = {
    # 32x32 on a 2-core CPU: BEGAN's stride-1 convolutions at full size are
    # costly (width 32: ~65 images/s at batch 64; width 16: ~190-290). Adam's
    # beta_1 0.9 (the reference's in effect) beat 0.5 on synthfaces 32 px after
    # 750 steps: judge-feature FD 433 vs 519, diversity given the labels 0.65 vs
    # 0.35 of the real spread (one run each). lr 2e-4 got FD 307 in the same
    # time but diversity 0.27, so the paper's 8e-5 was kept then (2e-4 since
    # 2026-12-06, with the mode-seeking term and minibatch_std against collapse).
    # gamma 0.5 collapsed by 3000 steps (one face, one background: nuisance
    # spread 0.08-0.38 of the real one); 3000-step runs with gamma 1.0 and a
    # mode-seeking term of 0.01: FD 73 instead of 168, nuisance spread
    # 0.39-1.04, judged agreement 0.84 (gamma 0.9: 0.33-1.05; mode seeking
    # 0.02: 0.41-1.24 with agreement 0.82; labeler width 16: no better).
    # minibatch_std (the autoencoder sees each half-batch's spread), judged by
    # the blur-robust judge over 11 nuisance factors, 3000 steps: background
    # hue 0.84 vs 0.40, head_x 0.65 vs 0.27, head_y 0.62 vs 0.48, rotation
    # 0.51 vs 0.46, every factor >= 0.5, at judge FD 64 vs 38 and agreement
    # 0.65-0.94 vs 0.75-0.96. Tried, one run each: 4500 steps (head_x 0.48,
    # head_y 0.48, rotation 0.47, FD 48); with hidden 256 (FD 25, agreement
    # 0.75-0.99, but head_x 0.34, rotation 0.34); hidden 256 alone, code_dim
    # 128, latent_constraint 0.1: head_x 0.23-0.38.
    # conditional_autoencoder and label_loss "crossentropy" (2026-12-04, on the
    # Labeler-margin recipe, synthfaces only): both together moved shown under
    # do 0.842 -> 0.889 and agreement 0.866 -> 0.906 on seed 0, but 0.869 ->
    # 0.824 and 0.884 -> 0.839 on seed 1; the autoencoder alone 0.869 -> 0.871
    # and 0.884 -> 0.888 (seed 1); head_x spread 0.34-0.45 throughout. Seed
    # noise as large as the effect and no scene measured: opt-in. lambda_z 1.0
    # made it worse (shown 0.754, FD 84).
    # Issue #11, 2026-12-06: k_t holds b_k near 0, so z_t (the generator's label
    # weight) stayed at 0.0001-0.02 for all 3000 steps: label_weight 0.1 puts a
    # floor under it. The generator's coarse blocks decide hair (Male, Bald):
    # coarse_width 64 (64, 32, 16 channels at 8, 16, 32 px; +6% a step) took
    # agreement 0.931 -> 0.955, Male 0.74 -> 0.80, FD 38 -> 24 (seed 0); 128
    # and label_weight 0.5 diverged. Cross-entropy made the Labeler diverge by
    # maximising it on fakes (Llab 484 on real faces, seed 1): it now learns the
    # flipped labels there. This preset (Labeler-margin recipe, labeler_augment,
    # labeler_width 16, crossentropy, label_weight 0.1, coarse_width 64) against
    # the old one, fair judge, 3000 steps: synthfaces full seeds 0 / 1 shown
    # under do 0.958 / 0.949, agreement 0.988 / 0.983, FD 10.2 / 7.8 (best
    # before: 0.889, 0.906, 33-41); shapes (tuning) shown 0.875 vs 0.691,
    # agreement 0.915 vs 0.750, FD 138 vs 301; held-out beacons shown 0.854 vs
    # 0.637, agreement 0.833 vs 0.722, FD 526 vs 489. Still short: do(Bald=1)
    # 0.43-0.53, head_x spread 0.34-0.43 (benchmarks/README.md).
    # 4500 steps instead of 3000 (2026-12-06, the same runs resumed; synthfaces
    # full seeds 0 / 1, fair judge): do(Bald=1) 0.53 / 0.43 -> 0.73 / 0.71, bald
    # women 0.45 / 0.44 -> 0.62 / 0.68, agreement 0.988 / 0.983 -> 0.994 / 0.992
    # (Male 0.975 / 0.977), FD 10.2 / 7.8 -> 5.4 / 6.0, head_x 0.34 / 0.43 -> 0.36
    # / 0.45; 6000 steps (seed 0): do(Bald=1) 0.78, agreement 0.996, FD 4.6,
    # every nuisance >= 0.48, but about 15.5 minutes. Shapes (tuning) shown 0.875
    # -> 0.895, agreement 0.915 -> 0.925, FD 138 -> 128, red squares in their rare
    # context 0.27 -> 0.06, rings 0.50 -> 0.67; held-out beacons shown 0.854 ->
    # 0.851, agreement 0.833 -> 0.816, FD 526 -> 241, lit short towers 0.82 -> 0.99.
    # Variants against Bald that did not help (loss weights, gamma_label 5,
    # labeler_width 32, which diverged): results/image_fidelity_causalbegan_balance.json.
    # 9000 steps (2026-12-06, seeds 0 / 1 resumed; about 20 minutes of image steps
    # here, over the quick preset's 15): do(Bald=1) 0.90 / 0.905, bald women 0.88 /
    # 0.8497 (one image short), FD 4.8 / 4.5, rotation's spread 0.47 / 0.58; batch
    # 16 for 9000 steps (the preset's time) only 0.40 / 0.76. A margin per label,
    # an ADC-style Labeler and labeler_augment off (Bald 0.325 / 0.23, FD 18 / 22)
    # did not help (results/image_fidelity_causalbegan_labeler_push.json).
    "quick": {
        "size": 32,
        "noise_dim": 64,
        "width": 16,
        "coarse_width": 64,
        "labeler_width": 16,
        "code_dim": 64,
        "learning_rate": 2e-4,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "lr_halve_every": 0,
        # 32, not 64: BEGAN steps cost about twice CausalGAN's here, and the
        # quick preset must finish in about 15 minutes on 2 CPU cores (4500
        # steps: 12 minutes for a whole run, alone on the cores).
        "batch_size": 32,
        "steps": 4500,
        "gamma": 1.0,
        "gamma_label": 3.0,
        "zeta": 0.5,
        "lambda_k": 0.001,
        "lambda_l": 0.05,
        "lambda_z": 0.01,
        "ema_decay": 0.999,
        "mode_seeking": 0.01,
        "minibatch_std": True,
        "film": True,
        "labeler_learning_rate": 2e-3,
        "balance_labels": False,
        "labeler_augment": True,
        "conditional_autoencoder": False,
        "label_loss": "crossentropy",
        "label_weight": 0.1,
        "jit_compile": "auto",
    },
    # the reference code's settings
    "paper": {
        "size": 64,
        "noise_dim": 64,
        "width": 128,
        "coarse_width": 0,
        "labeler_width": 128,
        "code_dim": 64,
        "learning_rate": 8e-5,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "lr_halve_every": 100_000,
        "batch_size": 16,
        "steps": 100_000,
        "gamma": 0.5,
        "gamma_label": 0.5,
        "zeta": 0.5,
        "lambda_k": 0.001,
        "lambda_l": 8e-5,
        "lambda_z": 0.01,
        "ema_decay": 0.999,
        "mode_seeking": 0.0,
        "minibatch_std": False,
        "film": False,
        "labeler_learning_rate": 0.0,
        "balance_labels": False,
        "labeler_augment": False,
        "conditional_autoencoder": False,
        "label_loss": "squared",
        "label_weight": 0.0,
        "jit_compile": "auto",
    },
}


class CausalBEGANStage(ImageStage):
    """CausalBEGAN's image stage (Kocaoglu et al. 2018): labels + z to an image.

    The generator (a BEGAN decoder) sees the rounded labels and z; an
    autoencoder discriminator and a Labeler train it, balanced by three
    margins (``k_t``, ``l_t``, ``z_t``, checkpointed with the model). Samples
    come from a moving average of the generator's weights; nothing in it
    mixes rows, so an image depends on its own labels and noise only.

    Args:
        nodes: the label names in graph order.
        size: 16, 32 or 64 (default: the preset's).
        preset: ``"quick"`` (default; 32 px, small widths, for a CPU) or
            ``"paper"`` (64 px, 128 channels, batch 16, the reference's).
        noise_dim: z's dimension.
        width: channels of the generator and the autoencoder (paper 128).
        coarse_width: channels of the generator's coarsest block, halving
            with each upsampling down to ``width`` (0: ``width`` in every
            block, the paper's).
        labeler_width: the Labeler encoder's first channels.
        code_dim: the autoencoder's code.
        learning_rate, beta_1, beta_2: Adam's, for both sides.
        labeler_learning_rate: 0 (the paper's: the Labeler trains with the
            autoencoder's optimizer), or its own Adam learning rate.
        lr_halve_every: halve the learning rate every so many steps (0: never).
        batch_size: images per step (``fit``'s default).
        steps: training steps a run takes by default (``ckgan run``).
        gamma, gamma_label, zeta: the margins.
        lambda_k, lambda_l, lambda_z: the rates of ``k_t``, ``l_t``, ``z_t``.
        ema_decay: of the sampling generator's moving average.
        mode_seeking: weight of the mode-seeking term (Mao et al. 2019) that
            makes images sharing labels differ with z (0: off, the paper's).
        minibatch_std: let the autoencoder's encoder see how varied the real
            and the generated half of a batch are (off: the paper's).
        film: every block of the generator modulated by the labels (FiLM;
            off: the paper's, labels at the input only).
        balance_labels: weigh the label losses by each value's rarity.
        labeler_augment: the Labeler sees blurred and noisy images.
        conditional_autoencoder: the autoencoder's decoder reads the labels too
            (with the code, and FiLM in every block), so it reconstructs an
            image well only under labels that fit it (off: the paper's).
        label_loss: ``"squared"`` (the paper's) or ``"crossentropy"``.
        label_weight: a floor under the generator's label weight ``z_t``
            (0: the paper's).
        jit_compile: XLA for training (``"auto"``: with a GPU only).
    """

    kind = "causalbegan"
    sizes = (16, 32, 64)
    presets = PRESETS
    #: allowed ranges of options (``ckgan.options``): the base class's and these
    option_ranges = {
        **ImageStage.option_ranges,
        "lr_halve_every": "[0, inf)",
        "gamma": "(0, inf)",
        "gamma_label": "(0, inf)",
        "zeta": "[0, inf)",
        "lambda_k": "[0, inf)",
        "lambda_l": "[0, inf)",
        "lambda_z": "[0, inf)",
        "mode_seeking": "[0, inf)",
        "labeler_learning_rate": "[0, inf)",
        "label_loss": ("squared", "crossentropy"),
        "label_weight": "[0, inf)",
        "coarse_width": "[0, inf)",  # 0: width in every block
        "noise_dim": "[1, inf)", "width": "[1, inf)", "labeler_width": "[1, inf)",
        "code_dim": "[1, inf)",
    }  # fmt: skip
    #: options runs saved before them trained without, and the value in effect then
    added_options = {
        "film": False,
        "labeler_learning_rate": 0.0,
        "balance_labels": False,
        "labeler_augment": False,
        "conditional_autoencoder": False,
        "label_loss": "squared",
        "label_weight": 0.0,
        "coarse_width": 0,
    }
    #: latent_constraint (BEGAN-CS): head_x spread 0.23-0.38 at 0.1 against 0.65 without
    #: (3000 steps, 2026-11-28), no gain elsewhere; removed
    #: decorrelate, do_fraction: no gain on causalgan (see its stage), never measured
    #: to help here
    #: independent_rows 0.25 (synthfaces, seed 0, 3000 steps, 2026-12-03): do(Bald=1)
    #: 0.21 against 0.46 without, agreement 0.853 against 0.844, Male 0.69 against
    #: 0.72: no gain on the labels (it helps causalgan, which keeps it); removed
    #: hidden (an ELU layer before the generator's projection), 3000 steps, 2026-11-28:
    #: 256 units took FD 64 -> 25 but head_x's spread 0.65 -> 0.34 and rotation's 0.51
    #: -> 0.34; alone, head_x 0.23-0.38; never in a preset; removed
    removed_options = {
        "hidden": 0,
        "latent_constraint": 0.0,
        "decorrelate": 0.0,
        "do_fraction": 0.0,
        "independent_rows": 0.0,
    }

    def __init__(
        self,
        nodes: Sequence[str],
        size: int | None = None,
        *,
        preset: str = "quick",
        noise_dim: int | None = None,
        width: int | None = None,
        coarse_width: int | None = None,
        labeler_width: int | None = None,
        code_dim: int | None = None,
        learning_rate: float | None = None,
        beta_1: float | None = None,
        beta_2: float | None = None,
        lr_halve_every: int | None = None,
        batch_size: int | None = None,
        steps: int | None = None,
        gamma: float | None = None,
        gamma_label: float | None = None,
        zeta: float | None = None,
        lambda_k: float | None = None,
        lambda_l: float | None = None,
        lambda_z: float | None = None,
        ema_decay: float | None = None,
        mode_seeking: float | None = None,
        minibatch_std: bool | None = None,
        film: bool | None = None,
        labeler_learning_rate: float | None = None,
        balance_labels: bool | None = None,
        labeler_augment: bool | None = None,
        conditional_autoencoder: bool | None = None,
        label_loss: str | None = None,
        label_weight: float | None = None,
        jit_compile: bool | str | None = None,
        **extra: Any,
    ):
        given = {k: v for k, v in locals().items() if k in PRESETS["quick"]}
        options = self.resolve_options(preset, given, extra)
        size = int(options.pop("size"))
        if float(options["mode_seeking"]) < 0:
            raise CkganError("option mode_seeking must be 0 (off) or positive")
        if float(options["labeler_learning_rate"]) < 0:
            raise CkganError("option labeler_learning_rate must be 0 (the shared rate) or positive")
        super().__init__(nodes, size, **options)

    def build_model(self) -> CausalBEGAN:
        o, k = self.options, len(self.nodes)
        labels = k if o.get("film") else 0  # FiLM in every generator block
        coarse = int(o.get("coarse_width", 0))
        return CausalBEGAN(
            BEGANDecoder(self.size, o["width"], labels, coarse, name="generator"),
            BEGANDecoder(self.size, o["width"], labels, coarse, name="ema_generator"),
            BEGANAutoencoder(
                self.size,
                o["width"],
                o["code_dim"],
                o["minibatch_std"],
                k if o.get("conditional_autoencoder") else 0,
                name="autoencoder",
            ),
            BEGANEncoder(self.size, k, o["labeler_width"], name="labeler"),
            num_labels=k,
            noise_dim=o["noise_dim"],
            pool_size=LABEL_POOL,
            **{
                key: o[key]
                for key in (
                    "learning_rate",
                    "beta_1",
                    "beta_2",
                    "lr_halve_every",
                    "gamma",
                    "gamma_label",
                    "zeta",
                    "lambda_k",
                    "lambda_l",
                    "lambda_z",
                    "ema_decay",
                    "mode_seeking",
                )  # fmt: skip
            },
            labeler_learning_rate=float(o.get("labeler_learning_rate", 0.0)),
            balance_labels=bool(o.get("balance_labels", False)),
            labeler_augment=bool(o.get("labeler_augment", False)),
            label_loss=o.get("label_loss", "squared"),
            label_weight=float(o.get("label_weight", 0.0)),
            name="causal_began",
        )

    def generator_inputs(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The generator's inputs: rounded labels, then z drawn row by row from ``rng``."""
        z = 2.0 * rng.random((len(labels), self.noise_dim)) - 1.0
        rounded = (np.asarray(labels) >= 0.5).astype("float32")
        return np.concatenate([rounded, z], axis=1).astype("float32")

    def _generate(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        model = self.model
        model.build_all()
        x = self.generator_inputs(labels, rng)
        images = keras.ops.convert_to_numpy(model.ema_generator(x, training=False))
        return np.clip(images, -1.0, 1.0)  # the generator's output is linear
