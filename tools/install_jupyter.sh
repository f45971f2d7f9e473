#!/usr/bin/env bash
# Make the project's Python environment, .venv/ (git-ignored), with the pinned Jupyter of
# requirements.txt (JupyterLab and plotly's jupyterlab-plotly extension, nbclient, nbconvert), and
# register Deno's kernel. Needs python3 with its venv module and no root: macOS and any Linux.
# Only where no venv can be made (Debian without python3-venv) does it fall back to apt-get.
# With --browser, also Debian's chromium for `deno task browser`. Idempotent: prints nothing when
# everything is there; fails, saying which step, when a step fails.
#
#   tools/install_jupyter.sh [--browser]
#
# The kernel is registered with $DENO (default: the deno on PATH); `deno task reproduce` passes
# its own path, so that it also works under `npx deno@2.9.6`. PIP_RETRIES (default 0: a local
# package index answers at once, an unreachable PyPI is not waited for) is pip's --retries.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

venv=.venv
fail() {
  echo "install_jupyter: $1" >&2
  exit 1
}
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
apt_install() {
  command -v apt-get >/dev/null 2>&1 || fail "$2"
  echo "install_jupyter: apt-get install $1" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || fail "apt-get update failed"
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $1 >/dev/null || fail "apt-get install $1 failed"
}

# The environment, made again when requirements.txt changed since it was made.
if ! [ -x "$venv/bin/jupyter" ] || ! cmp -s requirements.txt "$venv/requirements.txt"; then
  if ! [ -x "$venv/bin/pip" ]; then
    command -v python3 >/dev/null 2>&1 ||
      apt_install "python3 python3-venv" "python3 is missing: install Python 3 (3.9 or later)"
    echo "install_jupyter: python3 -m venv $venv" >&2
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv" # Debian's python3 without ensurepip leaves a venv without pip
      apt_install "python3-venv" "python3 -m venv failed: install Python's venv module"
      python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    fi
  fi
  echo "install_jupyter: $venv/bin/pip install -r requirements.txt" >&2
  # (A pip configured with local package indexes warns of each folder one lacks: not news.)
  "$venv/bin/pip" install -q --disable-pip-version-check --retries "${PIP_RETRIES:-0}" \
    -r requirements.txt 2> >(grep -v "^WARNING: Location .* is ignored" >&2) ||
    fail "pip install -r requirements.txt failed"
  cp requirements.txt "$venv/requirements.txt"
fi
jupyter=$venv/bin/jupyter
"$jupyter" nbconvert --version >/dev/null 2>&1 || fail "\"$jupyter nbconvert\" does not run"

# The Deno kernelspec, registered again when missing or when its deno binary is gone.
spec=$("$jupyter" kernelspec list 2>/dev/null | awk '$1 == "deno" { print $2 }')
if [ -z "$spec" ] || ! [ -x "$(sed -n 's/^ *"\(\/[^"]*\)",\{0,1\} *$/\1/p' "$spec/kernel.json" | head -n 1)" ]; then
  deno=${DENO:-$(command -v deno || true)}
  [ -n "$deno" ] || fail "no deno to register the kernel with: put deno on PATH or set DENO=/path/to/deno"
  echo "install_jupyter: $deno jupyter --install" >&2
  out=$("$deno" jupyter --install --force 2>&1) || fail "deno jupyter --install failed: $out"
fi

if [ "$browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  apt_install "chromium fonts-liberation" "chromium is missing: install Chromium, or set CHROMIUM=/path/to/it"
fi
