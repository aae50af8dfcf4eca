#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time each (default 5s).
# `go test -fuzz` takes one target in one package per run, so this finds them and loops.
# Seed corpora committed under testdata/fuzz are always run as plain tests by `go test` too.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
found=0

# run_target fuzzes one target. Go before 1.27 can fail a target with a bare "context deadline
# exceeded" when -fuzztime ends while a worker is busy (golang/go#75804; likelier on a loaded
# machine). That is no finding: a real one prints "Failing input written to" and saves it under
# testdata/fuzz. Such a run is repeated once; any other failure fails at once.
run_target() {
  local pkg="$1" target="$2" out
  out=$(mktemp)
  for attempt in 1 2; do
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$out"; then
      rm -f "$out"
      return 0
    fi
    if [ "$attempt" -eq 1 ] && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written to' "$out"; then
      echo "fuzz: $target ended with Go's fuzztime deadline race (golang/go#75804), no failing input: running it again"
      continue
    fi
    rm -f "$out"
    return 1
  done
}
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    found=$((found + 1))
    echo "fuzz: $pkg $target for $fuzztime"
    run_target "$pkg" "$target"
  done
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' | xargs grep -l '^func Fuzz' || true)
if [ "$found" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
