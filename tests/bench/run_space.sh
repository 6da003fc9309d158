#!/usr/bin/env bash
# run_space.sh: grammar-defined spaces at scale and the fit's time.
#
# Usage: tests/bench/run_space.sh BUILD_DIR [DATA_CSV]
# Enumerates programs/spaces/large.json (over two million distinct
# extensions) and times exact queries over it, then times the fit of
# programs/spaces/lot.json to the dev split of the Bigelow & Piantadosi
# data (default: tests/data/bigelow_piantadosi_2016.csv), and checks
# Metropolis-Hastings over trees against the exact answer on lot.json.
set -euo pipefail
build=${1:?usage: run_space.sh BUILD_DIR [DATA_CSV]}
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
data=${2:-$root/tests/data/bigelow_piantadosi_2016.csv}
"$build/tests/bench/bench_space" "$root/programs/spaces/large.json" "$data"
"$build/tests/bench/bench_space" "$root/programs/spaces/lot.json" "$data" --reps 20 --fit --mh 10000000
