#!/usr/bin/env bash
# GPU check for a machine with JAX + CUDA and no TensorFlow (and maybe no package index).
#
# Beside the checkout, a folder of wheels: keras and ckgan's pure-Python
# dependencies (`pip download -d wheels keras networkx pydot click pluggy h5py
# pillow tensorflow-datasets importlib_resources` on a machine with an index,
# plus `pip wheel --no-deps -w wheels .` for ckgan itself). Installs ckgan into
# a venv that sees the machine's JAX, then for each stage measures training
# rows/s on the GPU with XLA on and off (the paper preset at 64 px for the
# image stages), and runs the main job with the paper preset for a bounded
# number of steps. Prints the numbers and writes them under $OUT (or ./device_check).
#
#   bash benchmarks/device_check.sh [WHEELS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
wheels="${1:-wheels}"
out="${OUT:-device_check}"
mkdir -p "$out"
python3 -m venv --system-site-packages "$out/venv"     # the machine's jax[cuda] stays visible
. "$out/venv/bin/activate"
if [ -d "$wheels" ]; then
    pip install -q --no-index --find-links "$wheels" --no-deps -e . 2>/dev/null \
        || pip install -q --no-index --find-links "$wheels" -e .
    pip install -q --no-index --find-links "$wheels" keras networkx pydot click pluggy h5py pillow || true
else
    pip install -q -e '.[jax]'
fi
export KERAS_BACKEND=jax CKGAN_LOAD_PLUGINS= CKGAN_CACHE="$out/cache"
python -c "import jax; print('jax', jax.__version__, jax.devices())"
python benchmarks/backend_speed.py --backends jax --stages wgan,causalgan,causalbegan \
    --jit both --preset paper --size 64 --out "$out/backend_speed_gpu.json"
start=$(date +%s)
ckgan run --preset paper --label-steps 2000 --image-steps 1000 --checkpoint-every 500 \
    --quiet --out "$out/run" | tee "$out/run.txt"
echo "main job (paper preset, 2000 label + 1000 image steps): $(( $(date +%s) - start )) s" \
    | tee -a "$out/run.txt"
