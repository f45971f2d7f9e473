#!/usr/bin/env bash
# Install what executing the notebooks needs, when it is missing: Debian's Jupyter (nbconvert,
# nbclient) and the Deno kernelspec. With --browser, also what the browser check needs: Debian's
# chromium and classic Notebook. Idempotent; prints nothing when everything is there; fails,
# saying which step, when a step fails.
#
#   tools/install_jupyter.sh [--browser]
#
# The kernel is registered with $DENO (default: the deno on PATH); `deno task reproduce` passes
# its own path, so that it also works under `npx deno@2.9.6`.
set -euo pipefail

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

jupyter=${JUPYTER:-jupyter}
fail() {
  echo "install_jupyter: $1" >&2
  exit 1
}
packages=()
if ! "$jupyter" nbconvert --version >/dev/null 2>&1; then
  packages+=(jupyter-nbconvert python3-nbclient jupyter-client)
fi
if [ "$browser" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-liberation)
  "$jupyter" notebook --version >/dev/null 2>&1 || packages+=(jupyter-notebook)
fi

if [ ${#packages[@]} -gt 0 ]; then
  echo "install_jupyter: apt-get install ${packages[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || fail "apt-get update failed"
  $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null ||
    fail "apt-get install ${packages[*]} failed"
  "$jupyter" nbconvert --version >/dev/null 2>&1 || fail "\"$jupyter nbconvert\" still does not run"
fi

# The Deno kernelspec, registered again when missing or when its deno binary is gone.
spec=$("$jupyter" kernelspec list 2>/dev/null | awk '$1 == "deno" { print $2 }')
if [ -z "$spec" ] || ! [ -x "$(sed -n 's/^ *"\(\/[^"]*\)",\{0,1\} *$/\1/p' "$spec/kernel.json" | head -n 1)" ]; then
  deno=${DENO:-$(command -v deno || true)}
  [ -n "$deno" ] || fail "no deno to register the kernel with: put deno on PATH or set DENO=/path/to/deno"
  echo "install_jupyter: $deno jupyter --install" >&2
  out=$("$deno" jupyter --install --force 2>&1) || fail "deno jupyter --install failed: $out"
fi
