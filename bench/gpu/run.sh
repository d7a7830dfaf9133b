#!/usr/bin/env bash
# The GPU check, in one call of the device tool: the machine there has PyTorch and JAX for CUDA but neither
# TensorFlow nor Keras, and nothing can be downloaded on it. So this installs what it lacks from wheels carried
# in .whl (bench/gpu/wheels.sh fetches them here), takes the project from the working tree, and runs
# bench/gpu/measure.py on the machine's own PyTorch and JAX. Fashion-MNIST's four files travel in .data/fashion.
#
#   device run, carry [".whl", ".data"]:  bash bench/gpu/run.sh
#   here, on CPU:                         bash bench/gpu/run.sh --backends tensorflow --quick
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-python3}
has_keras_tuner="import importlib.util, sys; sys.exit(importlib.util.find_spec('keras_tuner') is None)"
if ! "$python" -c "$has_keras_tuner" && compgen -G ".whl/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
fashion=()
if [ -f .data/fashion/t10k-labels-idx1-ubyte.gz ]; then fashion=(--fashion .data/fashion); fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
exec "$python" bench/gpu/measure.py "${fashion[@]}" "$@"
