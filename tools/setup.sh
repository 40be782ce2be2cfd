#!/usr/bin/env bash
# Installs everything reel needs on Debian 12: build tools, the C++ libraries, the datasets
# (Fashion-MNIST, CMUdict, the en/fr/de/es word lists: data/README.md) and Debian's
# PyTorch/h5py/matplotlib for the reference checks. Safe to run again (apt skips what is there).
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev libopenblas-dev
  libspdlog-dev catch2 libhdf5-dev zlib1g-dev graphviz doxygen
  openmpi-bin libopenmpi-dev
  clang libclang-rt-14-dev
  libdnnl-dev ocl-icd-opencl-dev
  dataset-fashion-mnist
  pocketsphinx-en-us wamerican wfrench wngerman wspanish
  python3-torch python3-h5py python3-matplotlib python3-numpy
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
