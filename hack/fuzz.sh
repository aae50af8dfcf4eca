#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time each (default 5s).
# `go test -fuzz` takes one target in one package per run, so this finds them and loops.
# Seed corpora committed under testdata/fuzz are always run as plain tests by `go test` too.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
found=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    found=$((found + 1))
    echo "fuzz: $pkg $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' | xargs grep -l '^func Fuzz' || true)
if [ "$found" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
