"""Generator steps per second: Keras ``fit`` path vs a hand-written TensorFlow loop.

Both train the same causal controller and critic (the ``wgan`` label generator's
default settings: widths, batch, n_critic, Adam with the cosine learning-rate
decay, the weight average) on 9 CelebA-like labels on the ``paper`` graph. The
hand-written loop is plain ``tf.Variable``s, ``tf.GradientTape`` and
``ResourceApplyAdam`` in one ``tf.function`` that runs as many fused steps per
call as Keras's ``steps_per_execution``, with the same ``jit_compile``. The two
run in alternating blocks so that load from other processes hits both alike;
warm-up (tracing) is excluded. Writes ``benchmarks/results/label_throughput.json``.

Run by hand: ``python benchmarks/label_throughput.py [--graph paper] [--jit both]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")  # built-ins only

import ckgan  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def celeba_like_truth(graph_name: str = "paper") -> ckgan.BinaryBayesNet:
    """The synthfaces label model when present, else random CelebA-like tables.

    The fallback draws each node's ``P(1 | parents)`` as a sigmoid of a base
    rate at CelebA's marginal plus strong random parent effects.
    """
    graph = ckgan.CausalGraph.load(graph_name)
    try:
        from ckgan_plugins.synthfaces.scm import causal_model

        truth = causal_model()
        if truth.graph == graph:
            return truth
    except ImportError:
        pass
    rates = {
        "Young": 0.774, "Male": 0.417, "Eyeglasses": 0.065, "Bald": 0.022, "Mustache": 0.042,
        "Smiling": 0.482, "Wearing_Lipstick": 0.472, "Mouth_Slightly_Open": 0.483,
        "Narrow_Eyes": 0.115,
    }  # fmt: skip
    rng = np.random.default_rng(0)
    cpts = {}
    for node in graph.nodes:
        parents = graph.parents(node)
        base = math.log(rates.get(node, 0.3) / (1 - rates.get(node, 0.3)))
        grid = np.indices((2,) * len(parents)).reshape(len(parents), -1).T
        logit = base + grid @ rng.normal(0, 1.5, len(parents)) - 0.5
        cpts[node] = (1 / (1 + np.exp(-logit))).reshape((2,) * len(parents))
    return ckgan.BinaryBayesNet(graph, cpts)


def hand_written_loop(gen, data: np.ndarray, steps: int, seed: int = 0):
    """A pure-TensorFlow fused training loop of ``gen``'s model and settings.

    Returns ``run()``, which does ``steps_per_execution`` generator steps.
    """
    import tensorflow as tf

    o = gen.options
    ctrl, critic = gen.controller, gen.critic
    k, d, b, n_critic = len(gen.nodes), o["noise_dim"], o["batch_size"], o["n_critic"]
    slope = o["negative_slope"]

    def copy(variables):
        return [tf.Variable(np.array(v.numpy())) for v in variables]

    g_vars = copy(ctrl.trainable_variables)  # noise, parents, bias_0, (k_i, b_i)*, out, out_b
    ema = copy(ctrl.trainable_variables)
    c_vars = copy(critic.trainable_variables)  # (kernel, bias) per dense layer
    mask = tf.constant(ctrl._mask)
    order, inverse, bounds = ctrl._order, ctrl._inverse, ctrl._bounds
    real_all = tf.constant(data.astype("float32"))
    n_real = len(data)
    rng = tf.random.Generator.from_seed(seed)

    def controller(noise):
        w_noise, w_par, b0, *rest = g_vars
        dense, (w_out, b_out) = list(zip(rest[:-2:2], rest[1:-2:2], strict=True)), rest[-2:]
        noise = tf.gather(tf.transpose(noise, (1, 0, 2)), order)
        w_par = w_par * mask
        outs = []
        for s, e in bounds:
            h = tf.matmul(noise[s:e], w_noise[s:e])
            if s:
                parents = tf.transpose(tf.concat(outs, 0))[None]
                h += tf.matmul(parents, w_par[s:e, :s])
            h = tf.nn.leaky_relu(h + b0[s:e], slope)
            for kern, bias in dense:
                h = tf.nn.leaky_relu(tf.matmul(h, kern[s:e]) + bias[s:e], slope)
            outs.append(tf.sigmoid((tf.matmul(h, w_out[s:e]) + b_out[s:e])[:, :, 0]))
        return tf.transpose(tf.gather(tf.concat(outs, 0), inverse))

    def critic_fn(x):
        for i in range(0, len(c_vars) - 2, 2):
            x = tf.nn.leaky_relu(tf.matmul(x, c_vars[i]) + c_vars[i + 1], slope)
        return (tf.matmul(x, c_vars[-2]) + c_vars[-1])[:, 0]

    def adam(variables, lr0, decay_steps):
        slots = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in variables]
        t = tf.Variable(0.0)
        b1, b2 = o["beta_1"], o["beta_2"]

        def apply(grads):
            t.assign_add(1.0)
            progress = tf.minimum(t - 1.0, decay_steps) / decay_steps
            cosine = 0.5 * (1.0 + tf.cos(math.pi * progress))
            lr = lr0 * ((1 - o["lr_decay"]) * cosine + o["lr_decay"])
            for v, (m, s), g in zip(variables, slots, grads, strict=True):
                tf.raw_ops.ResourceApplyAdam(
                    var=v.handle, m=m.handle, v=s.handle, beta1_power=b1**t,
                    beta2_power=b2**t, lr=lr, beta1=b1, beta2=b2, epsilon=1e-7, grad=g,
                )  # fmt: skip

        return apply

    total = o["steps"]
    edge_penalty = float(o["edge_penalty"]) if ctrl.w_parents is not None else 0.0
    g_adam = adam(g_vars, o["learning_rate"], float(total))
    c_adam = adam(c_vars, o["learning_rate"], float(total * n_critic))
    g_step = tf.Variable(0.0)

    def noise(batches=1):
        return rng.uniform((batches * b, k, d), -1.0, 1.0)

    @tf.function(jit_compile=bool(gen.wgan.jit_compile))
    def one_step():
        reals = tf.gather(real_all, rng.uniform((n_critic * b,), 0, n_real, dtype=tf.int32))
        fakes = tf.stop_gradient(controller(noise(n_critic)))
        a = rng.uniform((n_critic * b, 1))
        mixes = a * reals + (1 - a) * fakes
        for i in range(n_critic):
            s = slice(i * b, (i + 1) * b)
            rows = tf.concat([reals[s], fakes[s], mixes[s]], 0)
            with tf.GradientTape() as tape:
                with tf.GradientTape() as inner:
                    inner.watch(rows)
                    scores = critic_fn(rows)
                grad = inner.gradient(scores, rows)[2 * b :]
                gp = tf.reduce_mean(tf.square(tf.sqrt(tf.reduce_sum(grad**2, -1) + 1e-12) - 1))
                w = tf.reduce_mean(scores[:b]) - tf.reduce_mean(scores[b : 2 * b])
                c_loss = -w + o["gp_weight"] * gp
            c_adam(tape.gradient(c_loss, c_vars))
        z = noise()
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(critic_fn(controller(z)))
            if edge_penalty:  # the fading group lasso on each edge's parent weights
                norms = tf.sqrt(tf.reduce_sum(tf.square(g_vars[1] * mask), -1) + 1e-12)
                fade = 1.0 - tf.minimum(g_step / float(total), 1.0)
                g_loss += edge_penalty * fade * tf.reduce_sum(norms * mask[:, :, 0])
        g_adam(tape.gradient(g_loss, g_vars))
        g_step.assign_add(1.0)
        decay = tf.minimum(o["ema_decay"], (1.0 + g_step) / (10.0 + g_step))
        for avg, var in zip(ema, g_vars, strict=True):
            avg.assign(decay * avg + (1 - decay) * var)
        return c_loss, g_loss

    per_call = gen.wgan.steps_per_execution

    @tf.function
    def run():
        losses = (0.0, 0.0)
        for _ in tf.range(per_call):
            losses = one_step()
        return losses

    return run


def measure_throughput(graph_name="paper", rounds=8, block_steps=300, jit_compile="auto"):
    """Alternating timed blocks of both paths; returns the rates and their ratio."""
    from ckgan_plugins.wgan.wgan_label_generator import WGANLabelGenerator

    graph = ckgan.CausalGraph.load(graph_name)
    truth = celeba_like_truth("paper")  # its node order is every built-in graph's
    assert truth.nodes == graph.nodes, "the graph must have the paper graph's node order"
    data = truth.sample(100_000, rng=0)
    gen = WGANLabelGenerator(graph, jit_compile=jit_compile)
    began = time.perf_counter()
    per_call = gen.options["steps_per_execution"]
    # eval_every = steps_per_execution: otherwise a short fit compiles with
    # fewer steps per execution (at most eval_every), and both paths below
    # would run fewer steps per call than counted
    gen.fit(data, steps=per_call * 2, seed=0, eval_every=per_call, verbose=0)
    assert gen.wgan.steps_per_execution == per_call
    keras_warmup = time.perf_counter() - began
    from ckgan import backend

    dataset = backend.repeated_dataset(data.astype("float32"))  # endless
    loop = hand_written_loop(gen, data, steps=block_steps)
    began = time.perf_counter()
    loop()
    tf_warmup = time.perf_counter() - began
    calls = max(1, block_steps // per_call)
    steps = calls * per_call
    keras_s, tf_s = [], []
    for _ in range(rounds):
        began = time.perf_counter()
        gen.wgan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
        keras_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        for _ in range(calls):
            out = loop()
        float(out[0])
        tf_s.append(time.perf_counter() - began)
    keras_rate = steps * rounds / sum(keras_s)
    tf_rate = steps * rounds / sum(tf_s)
    # the best block of each: the one least slowed by other processes
    keras_best, tf_best = steps / min(keras_s), steps / min(tf_s)
    return {
        "graph": graph_name,
        "jit_compile": bool(gen.wgan.jit_compile),
        "options": gen.get_config(),
        "steps_per_block": steps,
        "rounds": rounds,
        "keras_fit_steps_per_s": keras_rate,
        "hand_written_tf_steps_per_s": tf_rate,
        "ratio_keras_to_tf": keras_rate / tf_rate,
        "keras_fit_best_block_steps_per_s": keras_best,
        "hand_written_tf_best_block_steps_per_s": tf_best,
        "ratio_best_blocks": keras_best / tf_best,
        "keras_blocks_s": keras_s,
        "tf_blocks_s": tf_s,
        "warmup_s": {"keras": keras_warmup, "tf": tf_warmup},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="paper")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--block-steps", type=int, default=300)
    parser.add_argument("--jit", choices=["auto", "true", "false", "both"], default="both")
    args = parser.parse_args()
    jits = {"auto": ["auto"], "true": [True], "false": [False], "both": [False, True]}[args.jit]
    results = []
    for jit in jits:
        r = measure_throughput(args.graph, args.rounds, args.block_steps, jit)
        keras_best = r["keras_fit_best_block_steps_per_s"]
        tf_best = r["hand_written_tf_best_block_steps_per_s"]
        print(
            f"{r['graph']} jit_compile={r['jit_compile']}: Keras fit "
            f"{r['keras_fit_steps_per_s']:.1f} generator steps/s, hand-written TF "
            f"{r['hand_written_tf_steps_per_s']:.1f} steps/s, ratio {r['ratio_keras_to_tf']:.2f}; "
            f"best blocks {keras_best:.1f} vs {tf_best:.1f}, ratio {r['ratio_best_blocks']:.2f}",
            flush=True,
        )
        results.append(r)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "benchmark": "label_throughput",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other processes)",
        "load_average": os.getloadavg(),
        "results": results,
    }
    (RESULTS / "label_throughput.json").write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
