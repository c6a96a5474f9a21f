#!/bin/sh
# Create the virtual environment VENV if it is missing and install the hash-pinned REQUIREMENTS
# into it (the Makefile's install step):
#
#   PYTHON=python3 sh scripts/install.sh .venv requirements/dev.txt
#
# The environment is made by `uv venv` when uv is on PATH, by `python3 -m venv` otherwise; on a
# Debian without python3-venv, as root, that package is installed with apt-get first, and without
# root the script says in one line what to install. The requirements go in with uv (taken from
# PATH, or installed into the environment from the hash-pinned requirements/bootstrap.txt), which
# installs in parallel; with pip when uv cannot be had.
set -eu

venv=${1:?usage: install.sh VENV REQUIREMENTS}
requirements=${2:?usage: install.sh VENV REQUIREMENTS}
python=${PYTHON:-python3}
here=$(dirname "$0")

say() { echo "install: $*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
  say "$python not found: install Python 3.11 (Debian: apt-get install python3)"
  exit 1
fi

make_venv() {
  if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --seed --python "$python" "$venv"
  elif "$python" -m venv "$venv" >/dev/null 2>&1; then
    :
  else
    rm -rf "$venv" # python3 -m venv leaves a half-made directory behind when ensurepip is missing
    return 1
  fi
}

if [ ! -x "$venv/bin/python" ]; then
  if ! make_venv; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "python3 cannot create a virtual environment here: installing python3-venv with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      make_venv
    else
      say "python3 cannot create a virtual environment: install python3-venv (Debian: sudo apt-get install python3-venv) or uv"
      exit 1
    fi
  fi
fi

uv=
if command -v uv >/dev/null 2>&1; then
  uv=$(command -v uv)
elif [ -x "$venv/bin/uv" ]; then
  uv=$venv/bin/uv
elif "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --require-hashes \
  -r "$here/../requirements/bootstrap.txt"; then
  uv=$venv/bin/uv
else
  say "uv could not be installed: installing with pip instead (slower)"
fi

if [ -n "$uv" ]; then
  "$uv" pip install --quiet --python "$venv/bin/python" --require-hashes -r "$requirements"
else
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --require-hashes -r "$requirements"
fi
