#!/usr/bin/env bash
# A dry run before any money is spent: classify a file of prompts, look at the
# routes and the estimated savings, then explain one decision in detail.
# Needs no API key and makes no network call.
#
#   Examples/dry-run-pipeline.sh [PROMPTS.jsonl]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
modelroute="${MODELROUTE:-modelroute}"
prompts="${1:-$here/prompts.jsonl}"

echo "== Where would each prompt go? (first 5)"
"$modelroute" classify --format jsonl --no-summary "$prompts" | head -n 5

echo
echo "== How many prompts per route, and what routing saves"
"$modelroute" classify --summary-only "$prompts"

echo
echo "== Only the prompts that would go to the most expensive route"
"$modelroute" classify --format csv --no-summary "$prompts" | awk -F, 'NR == 1 || $3 == "power"' | cut -d, -f1-5

echo
echo "== Why does this prompt go where it goes?"
echo "Please reformat this list as a table" | "$modelroute" --dry-run --explain

echo
echo "== The same prompts under another routing table"
"$modelroute" classify --summary-only --routes "$here/two-tier.json" "$prompts"

echo
echo "== Which prompts would move, and what it would cost (first 5 moves)"
"$modelroute" classify --against "$here/two-tier.json" --format csv --no-summary "$prompts" | head -n 6

echo
echo "== How well does the table route labelled prompts?"
"$modelroute" eval --misroutes 3 "$here/everyday-prompts.jsonl"
