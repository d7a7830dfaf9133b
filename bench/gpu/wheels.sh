#!/usr/bin/env bash
# Fetch, here, the pure-Python wheels the GPU machine lacks (its package list: the device tool's KINDS.md), for
# its Python 3.12, into .whl; and copy Fashion-MNIST's files into .data/fashion. Both folders are git-ignored
# and travel with the call as `carry`. Versions are the ones this project is tested with.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .whl .data/fashion
wheels=(
    keras==3.15.1 keras-tuner==1.4.8 kt-legacy==1.0.5 namex==0.1.0 optree==0.20.0
    pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 simplejpeg==1.9.0
)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "${wheels[@]}"
cp /usr/share/datasets/fashion-mnist/*.gz .data/fashion/
du -sh .whl .data
