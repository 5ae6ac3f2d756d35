#!/usr/bin/env bash
# Regenerates the table of docs/review-dop011.md: DOP011 (non-root-user) on every
# file of ../shared/corpus/real (context = the file's folder, which holds no app
# sources) and ../shared/corpus/apps/* (with their own context).
# Usage: scripts/review-dop011.sh [path/to/dopt] > table.md   (needs jq)
set -euo pipefail
cd "$(dirname "$0")/.."
DOPT=${1:-target/debug/dopt}
CORPUS=../shared/corpus
row() { # file context label
  local out
  out=$("$DOPT" check --no-config --select DOP011 --format json --context "$2" "$1" 2>/dev/null || true)
  if [ -z "$out" ] || [ "$out" = "[]" ]; then
    printf '| %s | no finding | |\n' "$3"
    return
  fi
  echo "$out" | jq -r --arg f "$3" '.[] | "| \($f) | \(if .fix == "none" then "no fix" else "fix (" + .fix + ")" end) | \(.message | gsub("\\|"; "\\|")) |"'
}
echo '| file | result | evidence or missing evidence |'
echo '|---|---|---|'
for f in "$CORPUS"/real/*.Dockerfile; do
  row "$f" "$CORPUS/real" "real/$(basename "$f")"
done
for d in "$CORPUS"/apps/*/; do
  row "$d/Dockerfile" "$d" "apps/$(basename "$d")"
done
