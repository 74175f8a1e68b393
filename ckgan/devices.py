"""Training on several devices: data parallel through ``keras.distribution`` (JAX).

``use_devices(n)`` puts every model created afterwards under
``keras.distribution.DataParallel`` over the first ``n`` devices: variables
are replicated, each step's global batch is split across the devices along
its first axis, and the gradients are averaged, which XLA does as part of
the compiled step. Keras offers this on JAX only (its PyTorch and
TensorFlow backends have no ``keras.distribution`` data parallelism), so
more than one device needs ``KERAS_BACKEND=jax``.

On one host with several CPU "devices" for testing, set
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts.
Several hosts: start each process with ``jax.distributed.initialize()``
(coordinator address, process count and id from the environment, see
docs/backends.md) before ``ckgan`` builds a model.
"""

from __future__ import annotations

from .errors import CkganError


def resolve_devices(spec: int | str | None) -> int:
    """How many devices ``spec`` (a count, ``"all"`` or None: 1) means here; errors say why not."""
    import keras

    if spec in (None, 1, "1"):
        return 1
    backend = keras.backend.backend()
    if backend != "jax":
        raise CkganError(
            f"--devices {spec} needs the JAX backend (Keras trains data-parallel on JAX only; "
            f"this is {backend}): run with KERAS_BACKEND=jax"
        )
    available = keras.distribution.list_devices()
    if spec == "all":
        return len(available)
    try:
        n = int(spec)
    except (TypeError, ValueError):
        raise CkganError(f"--devices must be a count or 'all', got '{spec}'") from None
    if not 1 <= n <= len(available):
        raise CkganError(
            f"--devices {n}: {len(available)} device(s) visible ({', '.join(available)}); "
            "on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N makes N"
        )
    return n


def device_count() -> int:
    """Devices the current ``keras.distribution`` trains on (1 without one)."""
    import keras

    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    return int(distribution.device_mesh.devices.size)


def use_devices(spec: int | str | None, batch_sizes: tuple[int, ...] = ()) -> int:
    """Train every model made from now on over ``spec`` devices; returns the count.

    Each of ``batch_sizes`` (the global batches) must split evenly.
    """
    import keras

    n = resolve_devices(spec)
    if n == 1:
        return 1
    for batch in batch_sizes:
        if batch % n:
            raise CkganError(
                f"a batch of {batch} does not split over {n} devices: "
                f"use a batch size divisible by {n}"
            )
    devices = keras.distribution.list_devices()[:n]
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return n
