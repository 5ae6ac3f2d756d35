#!/usr/bin/env bash
# Regenerates the per-file table of docs/review-dop011.md: DOP011 (non-root-user)
# on every file of ../shared/corpus/real (context = the file's folder, which holds
# no app sources, so entrypoint scripts from the context are unreadable there) and
# ../shared/corpus/apps/* (with their own context). The upstream repository and
# path of real files come from ../shared/corpus/real-index.tsv.
# Usage: scripts/review-dop011.sh [path/to/dopt] > /tmp/table.md   (needs jq)
set -euo pipefail
cd "$(dirname "$0")/.."
DOPT=${1:-target/debug/dopt}
CORPUS=../shared/corpus
upstream() { awk -F'\t' -v f="$1" '$1 == f { print $7 "/" $8 }' "$CORPUS/real-index.tsv"; }
row() { # file context label upstream
  local out
  out=$("$DOPT" check --no-config --select DOP011 --format json --context "$2" "$1" 2>/dev/null || true)
  if [ -z "$out" ] || [ "$out" = "[]" ]; then
    printf '| %s | %s | no finding | |\n' "$3" "$4"
    return
  fi
  echo "$out" | jq -r --arg f "$3" --arg u "$4" '.[] | "| \($f) | \($u) | \(if .fix == "none" then "no fix" else "fix (" + .fix + ")" end) | \(.message | gsub("\\|"; "\\|")) |"'
}
echo '| file | upstream | result | evidence or missing evidence |'
echo '|---|---|---|---|'
for f in "$CORPUS"/real/*.Dockerfile; do
  b=$(basename "$f")
  row "$f" "$CORPUS/real" "real/$b" "$(upstream "$b")"
done
for d in "$CORPUS"/apps/*/; do
  row "$d/Dockerfile" "$d" "apps/$(basename "$d")" "(buildable app, own context)"
done
