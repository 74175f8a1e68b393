"""One module per Keras backend: what a custom ``train_step`` needs that Keras leaves open.

``ckgan.backend`` picks the module of the backend Keras runs on
(``KERAS_BACKEND``); model code imports ``ckgan.backend`` only. Each module
provides ``value_and_grad``, ``values_and_grads``, ``input_gradient``,
``run_train_step``, ``has_accelerator`` and ``AUTO_JIT`` (whether XLA / a
compiler pays off here by default, from ``benchmarks/backend_speed.py``).
"""
