#!/bin/sh
# Installs the independent FHIR R4 validator (tools/fhir-validate, docs/fhir.md): its npm packages
# at the exact versions of its package.json, and Node.js and npm from Debian's packages when they
# are missing and this is root with apt-get. Re-installs only when package.json changes.
set -eu
dir=tools/fhir-validate
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing Node.js and npm (Debian packages) for the FHIR validator"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	else
		echo "The FHIR R4 validator needs Node.js and npm: install them (Debian: apt-get install nodejs npm)." >&2
		exit 1
	fi
fi
stamp=$dir/node_modules/.installed.stamp
if [ ! -f "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]; then
	(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
	touch "$stamp"
fi
