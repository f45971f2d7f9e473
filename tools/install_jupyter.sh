#!/usr/bin/env bash
# Install what executing the notebooks needs, when it is missing: Debian's Jupyter (nbconvert,
# nbclient) and the Deno kernelspec. With --browser, also what the browser check needs: Debian's
# chromium and classic Notebook. Idempotent; prints nothing when everything is there.
#
#   tools/install_jupyter.sh [--browser]
set -euo pipefail

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

jupyter=${JUPYTER:-jupyter}
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
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# The Deno kernelspec, registered again when missing or when its deno binary is gone.
spec=$("$jupyter" kernelspec list 2>/dev/null | awk '$1 == "deno" { print $2 }')
if [ -z "$spec" ] || ! [ -x "$(sed -n 's/^ *"\(\/[^"]*\)",\{0,1\} *$/\1/p' "$spec/kernel.json" | head -n 1)" ]; then
  echo "install_jupyter: deno jupyter --install" >&2
  deno jupyter --install --force >/dev/null 2>&1
fi
