#!/usr/bin/env bash
# The whole test suite: formatting, vet, every test with the race detector,
# then a short run of every fuzz target. .ci/run calls this same script.
# FUZZTIME sets the length of each fuzz run (default 20000x: a count of
# executions, not a duration, because Go 1.26's fuzz coordinator can fail a
# duration-bounded run with "context deadline exceeded" at its end on a
# loaded machine, golang/go#75804, fixed in Go 1.27).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-formatted:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== browser tests of the map (frontend/web/test)"
# Debian's chromium driven headless by playwright-core against a real iocd.
# Skipped with a message when chromium or node_modules is missing, unless
# IOC_REQUIRE_INTEGRATION=1 (CI), which makes that a failure.
if [ -x /usr/bin/chromium ] && [ -d frontend/web/node_modules/playwright-core ] && command -v node >/dev/null; then
	(cd frontend/web && timeout 600 node --test test/e2e.test.js test/login.test.js)
elif [ "${IOC_REQUIRE_INTEGRATION:-}" = 1 ]; then
	echo "browser tests required (IOC_REQUIRE_INTEGRATION=1) but /usr/bin/chromium, node or frontend/web/node_modules is missing"; exit 1
else
	echo "browser tests skipped: install chromium (apt-get install chromium) and run npm ci in frontend/web"
fi

echo "== fuzz (${FUZZTIME:-20000x} per target)"
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
	pkg="./$(dirname "${file#./}")"
	for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
		echo "-- $pkg $target"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="${FUZZTIME:-20000x}" "$pkg"
	done
done
echo "== all tests passed"
