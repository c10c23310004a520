#!/usr/bin/env bash
# How the default table routes kinds of prompts its model never saw: for each source of
# a labelled pack, train a difficulty model on every other source, then `eval` the
# default table with that model on the held-out source alone.
#
#   Examples/held-out-eval.sh TRAIN.jsonl [MORE.jsonl ...]
#
# Lines need "prompt", "label" and "source". Prints one line per source and the pooled
# label × tier shares. Takes about a second per source. Needs python3 for the JSON.
set -euo pipefail
modelroute="${MODELROUTE:-modelroute}"
here="$(cd "$(dirname "$0")" && pwd)"
routes="${ROUTES:-$here/../routes.json}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat "$@" > "$work/all.jsonl"
python3 - "$work" "$modelroute" "$routes" <<'PY'
import json, subprocess, sys, collections
work, modelroute, routes = sys.argv[1:4]
rows = [json.loads(line) for line in open(f"{work}/all.jsonl") if line.strip()]
pooled = collections.Counter()
tiers = None
for source in sorted({r["source"] for r in rows}):
    name = source.replace("/", "_")
    with open(f"{work}/train.jsonl", "w") as out:
        out.writelines(json.dumps(r) + "\n" for r in rows if r["source"] != source)
    with open(f"{work}/held.jsonl", "w") as out:
        out.writelines(json.dumps(r) + "\n" for r in rows if r["source"] == source)
    subprocess.run([modelroute, "train", f"{work}/train.jsonl", "--out", f"{work}/{name}.model"], check=True, capture_output=True)
    result = subprocess.run([modelroute, "eval", "--routes", routes, "--classifier", f"{work}/{name}.model", "--format", "json",
                             "--misroutes", "0", f"{work}/held.jsonl"], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    tiers = report["tiers"]
    pooled["cost"] += report["cost_usd"]
    pooled["baseline"] += report["baseline_cost_usd"]
    for label, entry in report["labels"].items():
        shares = "  ".join(f"{t} {entry['routes'][t] / entry['prompts'] * 100:5.1f}%" for t in tiers)
        print(f"{source:24s} {label:6s} {entry['prompts']:5d}  {shares}")
        for t in tiers:
            pooled[(label, t)] += entry["routes"][t]
        pooled[label] += entry["prompts"]
print("pooled over held-out sources:")
for label in ["hard", "medium", "easy"]:
    if pooled[label]:
        print(f"  {label:6s} {pooled[label]:5d}  " + "  ".join(f"{t} {pooled[(label, t)] / pooled[label] * 100:5.1f}%" for t in tiers))
if pooled["baseline"]:
    print(f"  estimated input-cost savings against the baseline model: {(1 - pooled['cost'] / pooled['baseline']) * 100:.1f}%")
PY
