#!/bin/sh
# Installs the outside checkers of the OpenAPI schema (tools/openapi-check: Spectral, and
# openapi-typescript with TypeScript) at the exact versions of its package.json, with no lockfile;
# Node.js and npm from Debian's packages when missing and this is root with apt-get. Re-installs
# only when package.json changes. The same pattern as scripts/install_fhir_validator.sh.
set -eu
dir=tools/openapi-check
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing Node.js and npm (Debian packages) for the OpenAPI checks"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	else
		echo "The OpenAPI checks need Node.js and npm: install them (Debian: apt-get install nodejs npm)." >&2
		exit 1
	fi
fi
stamp=$dir/node_modules/.installed.stamp
if [ ! -f "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]; then
	(cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
	touch "$stamp"
fi
