#!/usr/bin/env bash
# Install the system BLAS that the wasm backend's matrix products run on, when it is missing:
# Debian's OpenBLAS (libopenblas0-pthread) with apt-get. Idempotent; prints nothing when it is
# there. Where there is no apt-get, or the install fails, it says so and exits 0: the library
# then runs its own wasm kernels (slower), and `initBackend()` says which product it uses.
# macOS needs nothing: Accelerate ships with it.
#
#   tools/install_blas.sh
set -uo pipefail

say() { echo "install_blas: $1" >&2; }

[ "$(uname -s)" = Linux ] || exit 0
if ldconfig -p 2>/dev/null | grep -q 'libopenblas\(p\|o\)\?\.so\(\.0\)\? '; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no OpenBLAS and no apt-get: install your distribution's OpenBLAS (libopenblas.so.0) for"
  say "faster training; until then the products run our wasm kernels"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    say "not root and no sudo: run 'apt-get install libopenblas0-pthread' as root for faster"
    say "training; until then the products run our wasm kernels"
    exit 0
  fi
  sudo=sudo
fi
say "apt-get install libopenblas0-pthread"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq --no-install-recommends libopenblas0-pthread >/dev/null; }; then
  say "apt-get install libopenblas0-pthread failed: the products run our wasm kernels"
fi
exit 0
