#!/usr/bin/env bash
# Rebuilds the vendor files of the map application from the npm packages
# pinned by package-lock.json, and copies them (with their licences) into
# static/vendor/, which is committed and embedded in iocd: a fresh machine
# runs the map without npm. Run it after changing a dependency version:
#   frontend/web/build.sh
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
v=static/vendor
rm -rf "$v"
mkdir -p "$v/maplibre-gl" "$v/uplot"
cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css \
	node_modules/maplibre-gl/LICENSE.txt "$v/maplibre-gl/"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css \
	node_modules/uplot/LICENSE "$v/uplot/"
{
	echo "# Third-party code shipped with the map"
	echo
	echo "Copied by frontend/web/build.sh from the npm packages pinned in package-lock.json; do not edit."
	echo
	echo "| package | version | licence |"
	echo "|---|---|---|"
	for p in maplibre-gl uplot; do
		node -e 'const p=require("./node_modules/'"$p"'/package.json"); console.log(`| ${p.name} | ${p.version} | ${p.license} (${p.name}/LICENSE*) |`)'
	done
} >"$v/README.md"
echo "vendor files written to $(pwd)/$v"
