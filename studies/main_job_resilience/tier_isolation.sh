#!/usr/bin/env bash
# issue 40: run the smoke tier in the checkout that holds the finished mid tier; the mid tier's
# runs must be byte-intact, and neither tier must have anything left to do afterwards
set -uo pipefail
# (run with the suite's environment active)
cd "${1:-.}"  # a checkout where the mid tier has finished
hash_runs() { find results/$1/runs -type f \( -name '*.csv' -o -name 'meta.json' -o -name 'config.yaml' \) | sort | xargs sha256sum | sha256sum | cut -c1-16; }
echo "mid runs before: $(find results/mid/runs -name meta.json | wc -l) runs, hash $(hash_runs mid)"
echo "mid tables before: $(sha256sum results/mid/claims.csv | cut -c1-16)"
snakemake -n --cores 2 --configfile=config/mid.yaml all 2>&1 | grep -E "Nothing to be done|total" | head -2
start=$(date +%s)
snakemake --cores 2 --configfile=config/smoke.yaml all > logs/isolation_smoke.log 2>&1; echo "smoke all: rc=$? in $(( $(date +%s) - start )) s"
echo "smoke runs: $(find results/smoke/runs -name meta.json | wc -l), hash $(hash_runs smoke)"
echo "mid runs after smoke: $(find results/mid/runs -name meta.json | wc -l) runs, hash $(hash_runs mid)"
echo "mid claims after smoke: $(sha256sum results/mid/claims.csv | cut -c1-16)"
echo "mid again:"; snakemake -n --cores 2 --configfile=config/mid.yaml all 2>&1 | grep -E "Nothing to be done|^total" | head -2
echo "smoke again:"; snakemake -n --cores 2 --configfile=config/smoke.yaml all 2>&1 | grep -E "Nothing to be done|^total" | head -2
echo "smoke runs after: hash $(hash_runs smoke)"
