"""Trace causalbegan's Labeler step by step through a ``ckgan run``.

Run by hand::

    python benchmarks/trace_labeler.py TRACE.json run --image causalbegan ... --out RUN

runs ``ckgan`` in this process with the given arguments and a probe on every
training step of the CausalBEGAN model; it trains exactly as the command
would (the probe only reads). Each record: the step; that step's losses and
margins (``label_real``, ``label_fake``, ``recon_real``, ``recon_fake``,
``k_t``, ``l_t``, ``z_t``, ...; recovered from ``fit``'s running means); the
Labeler's weight norm and how far one step moved it (``labeler_step``); and
its Adam state: the mean of ``sqrt(v)`` and the largest ``|m| / sqrt(v)``
(``v``: the largest second moment yet under ``labeler_amsgrad``).
A step back (option ``rollbacks``) shows as a step number that goes down.
Written every 250 steps and at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _flat(variables) -> np.ndarray:
    return np.concatenate([np.asarray(v).ravel() for v in variables])


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    out, args = Path(argv[0]), argv[1:]
    import keras
    from ckgan_plugins.causalbegan.causal_began import CausalBEGAN

    from ckgan.cli import cli

    records: list[dict] = []

    def write():
        out.write_text(json.dumps(records) + "\n")

    class Probe(keras.callbacks.Callback):
        before: np.ndarray | None = None

        def on_epoch_begin(self, epoch, logs=None):
            self.means, self.seen = None, 0

        def on_train_batch_end(self, batch, logs=None):
            model = self.model
            weights = _flat(model.labeler.trainable_variables)
            moved = float("nan")
            if self.before is not None:
                moved = float(np.linalg.norm(weights - self.before))
            self.before = weights
            now = {k: float(v) for k, v in (logs or {}).items()}
            step = {}
            for key, mean in now.items():  # fit's logs are running means over the epoch
                if key in ("k_t", "l_t", "z_t") or self.means is None:
                    step[key] = mean
                else:
                    step[key] = mean * (self.seen + 1) - self.means[key] * self.seen
            self.means, self.seen = now, self.seen + 1
            record = {
                "step": int(np.asarray(model.step_counter)),
                **step,
                "labeler_norm": float(np.linalg.norm(weights)),
                "labeler_step": moved,
            }
            adam = model.optimizers.get("labeler")
            if adam is not None:
                second = adam._velocity_hats if adam.amsgrad else adam._velocities
                m, v = _flat(adam._momentums), np.sqrt(_flat(second))
                record["adam_sqrt_v_mean"] = float(v.mean())
                record["adam_m_over_sqrt_v_max"] = float(np.max(np.abs(m) / (v + 1e-7)))
            records.append(record)
            if len(records) % 250 == 0:
                write()

    fit = keras.Model.fit

    def probed_fit(self, *a, **kw):
        if isinstance(self, CausalBEGAN):
            kw["callbacks"] = [*(kw.get("callbacks") or []), Probe()]
        return fit(self, *a, **kw)

    keras.Model.fit = probed_fit
    try:
        cli.main(args, standalone_mode=False)
    finally:
        write()


if __name__ == "__main__":
    main(sys.argv[1:])
