#!/bin/sh
# What the portal's browser tests need (tests/portal/test_browser.py): Debian's Chromium (never
# Playwright's own browser download) and axe-core at the exact version of tools/axe/package.json.
# Installs what is missing when this is root with apt-get; re-installs axe only when package.json
# changes.
set -eu
need_apt=""
[ -x /usr/bin/chromium ] || need_apt="$need_apt chromium"
{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || need_apt="$need_apt nodejs npm"
if [ -n "$need_apt" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing$need_apt (Debian packages) for the portal's browser tests"
		apt-get update -qq
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_apt >/dev/null
	else
		echo "The portal's browser tests need$need_apt (Debian: apt-get install$need_apt)." >&2
		exit 1
	fi
fi
dir=tools/axe
stamp=$dir/node_modules/.installed.stamp
if [ ! -f "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]; then
	(cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
	touch "$stamp"
fi
