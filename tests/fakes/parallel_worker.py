"""Run in a subprocess by tests/test_devices.py: one JAX process with N virtual CPU devices.

``python -m fakes.parallel_worker losses N`` prints the wgan label stage's
per-step losses on ``N`` devices; ``halves`` prints the two devices' halves
of a batch of generator noise; ``resume DIR`` trains an image stage on 2
devices, checkpoints, and resumes it from a fresh process's objects.
"""

from __future__ import annotations

import json
import sys

import networkx as nx
import numpy as np

STEPS = 6


def _labels(n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(0)
    a = rng.random(n) < 0.4
    b = np.where(a, rng.random(n) < 0.8, rng.random(n) < 0.2)
    c = np.where(b, rng.random(n) < 0.7, rng.random(n) < 0.1)
    return np.stack([a, b, c], axis=1).astype(np.uint8)


def _generator(devices: int):
    from ckgan.devices import use_devices
    from ckgan.graph import CausalGraph
    from ckgan.plugins import get_registry

    use_devices(devices, (64,))
    graph = CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")]))
    cls = get_registry().get("labels", "wgan").load()
    return cls(graph, batch_size=64, steps_per_execution=1, hidden=[16], critic_hidden=[16])


def losses(devices: int) -> dict:
    generator = _generator(devices)
    log = generator.fit(_labels(), steps=STEPS, seed=0, eval_every=1, verbose=0)
    keys = ("critic_loss", "generator_loss")
    return {key: [entry[key] for entry in log] for key in keys}


def halves() -> dict:
    import jax
    from keras import StatelessScope

    generator = _generator(2)
    generator.fit(_labels(), steps=1, seed=0, verbose=0)
    wgan = generator.wgan
    state = wgan.seed_generator.state

    @jax.jit
    def draw(value):
        with StatelessScope([(state, value)]):
            return wgan._noise()

    noise = draw(state.value)
    shards = [np.asarray(shard.data) for shard in noise.addressable_shards]
    return {"shape": list(noise.shape), "shards": [s.tolist() for s in shards]}


def resume(directory: str) -> dict:
    from ckgan.dataset import Dataset
    from ckgan.devices import use_devices
    from ckgan.graph import CausalGraph
    from ckgan.plugins import get_registry
    from ckgan.tabular import TabularLabelGenerator

    class Tiny(Dataset):
        name = "tiny-parallel"
        attributes = ("A", "B", "C")
        has_images = True
        image_sizes = (16,)

        def labels(self, split="train", nodes=None):
            return _labels(256)[:, [self.attributes.index(n) for n in (nodes or self.attributes)]]

        def images(self, split="train", size=16):
            labels = _labels(256)
            x = np.full((len(labels), size, size, 3), 40, np.uint8)
            x[labels[:, 0] == 1, : size // 2] = 220
            return x

    use_devices(2, (8,))
    graph = CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")]))
    labels = TabularLabelGenerator(graph)
    labels.fit(_labels(), seed=0, verbose=0)
    cls = get_registry().get("image", "causalgan").load()
    options = {"size": 16, "batch_size": 8, "width": 8, "labeler_width": 8, "noise_dim": 8}
    first = cls(graph.nodes, **options)
    first.fit(Tiny(), labels, steps=2, seed=0, directory=directory, checkpoint_every=2, verbose=0)
    second = cls(graph.nodes, **options)
    log = second.fit(Tiny(), labels, steps=4, seed=0, directory=directory, resume=True, verbose=0)
    images = second.generate(_labels(8), seed=0)
    return {"steps": [entry["step"] for entry in log], "finite": bool(np.isfinite(images).all())}


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "losses":
        out = losses(int(rest[0]))
    elif mode == "halves":
        out = halves()
    else:
        out = resume(rest[0])
    print(json.dumps(out))
