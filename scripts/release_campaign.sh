#!/usr/bin/env bash
# The long part of the bundled release, resumable across working sessions:
#   scripts/release_campaign.sh STORE_DIR THREADS SHARD...
# For each dataset, each listed shard of 8 is populated (naswot, jacov, epe_nas on their
# default natural minibatch, batch 128, seed 0) into its own SQLite store under STORE_DIR
# (outside the repository), then written as a part under release-parts/ and, when all 8
# parts of a set are there, assembled into data/release/. A shard whose part is already
# in release-parts/ (committed by an earlier session) or whose set is assembled is
# skipped. Run two instances on disjoint shards (0 2 4 6 / 1 3 5 7) with THREADS=1 to use
# 2 cores; commit release-parts/ and data/release/ as parts land.
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
store_dir=$1; threads=$2; shift 2
scorers=naswot,jacov,epe_nas
mkdir -p "$store_dir"
for ds in ImageNet16-120 cifar10 cifar100; do
  [ -f "$repo/data/release/nats-tss/$ds/naswot.json" ] && continue
  for i in "$@"; do
    [ -f "$repo/release-parts/nats-tss/$ds/naswot.shard-$i-of-8.json" ] && continue
    db="$store_dir/tss-$ds-shard-$i-of-8.db"
    [ -f "$db" ] || tfnas-db db upgrade --db "$db" >/dev/null
    echo "$(date -Is) start $ds $i/8"
    if tfnas-db populate --db "$db" --dataset "$ds" --scorers "$scorers" --shard "$i/8" \
        --threads "$threads" --quiet --format json > "$db.json" 2> "$db.err"; then
      python "$repo/scripts/build_release.py" --db "$db" --scorers "$scorers" \
        --shard "$i/8" --threads "$threads"
      python "$repo/scripts/build_release.py" --assemble
    fi
    echo "$(date -Is) end $ds $i/8"
  done
done
