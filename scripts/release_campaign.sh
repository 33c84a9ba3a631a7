#!/usr/bin/env bash
# The long part of the bundled release, resumable across working sessions:
#   scripts/release_campaign.sh STORE_DIR THREADS SCORERS DATASETS I/N...
# e.g. scripts/release_campaign.sh /work/release-stores 1 snip,grad_norm,fisher \
#          cifar10,cifar100,ImageNet16-120 0/32 2/32 4/32
# For each dataset, each listed shard I of N is populated (SCORERS, each on its default
# data source, batch 128, seed 0; scorers that share a pass belong in one set) into its
# own SQLite store under STORE_DIR (outside the repository), then written as parts under
# STORE_DIR/parts/ (outside the repository too) and, when all N parts of a scorer are
# there, assembled into data/release/. Use one N per set (its parts are assembled together); 32 shards of ~490
# architectures each finish within minutes, so a session's end loses little. A shard
# whose part is already in STORE_DIR/parts/ or whose set is assembled is skipped. Run two
# instances on disjoint shards (even / odd I) with THREADS=1 to use 2 cores; commit only
# data/release/, when a set is assembled and verified (never the parts).
# To end a sitting without losing a shard half-done: `touch STORE_DIR/STOP`; each instance
# finishes the shard it is on and exits (the file is removed by the next start).
# loss_slope runs on cifar10 and ImageNet16-120 only: its cifar100 set is a copy of
# cifar10's (`build_release.py --copy-dataset cifar10:cifar100 --scorers loss_slope`).
# Edit this file by writing a new one and renaming it over this one: a running bash reads
# its script as it goes, so an edit in place breaks instances that are running.
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
store_dir=$1; threads=$2; scorers=$3; datasets=$4; shift 4
first=${scorers%%,*}  # a set's parts land together: the first scorer's marks the set
tag=${scorers//,/-}
mkdir -p "$store_dir"
rm -f "$store_dir/STOP"
for ds in ${datasets//,/ }; do
  [ -f "$repo/data/release/nats-tss/$ds/$first.json" ] && continue
  for shard in "$@"; do
    i=${shard%/*}; n=${shard#*/}
    [ -f "$store_dir/parts/nats-tss/$ds/$first.shard-$i-of-$n.json" ] && continue
    if [ -f "$store_dir/STOP" ]; then echo "$(date -Is) $store_dir/STOP: stopping"; exit 0; fi
    db="$store_dir/tss-$ds-$tag-shard-$i-of-$n.db"
    [ -f "$db" ] || tfnas-db db upgrade --db "$db" >/dev/null
    echo "$(date -Is) start $ds $scorers $i/$n"
    if tfnas-db populate --db "$db" --dataset "$ds" --scorers "$scorers" --shard "$i/$n" \
        --threads "$threads" --quiet --format json > "$db.json" 2> "$db.err"; then
      python "$repo/scripts/build_release.py" --db "$db" --scorers "$scorers" \
        --shard "$i/$n" --threads "$threads" --out "$store_dir/parts"
      python "$repo/scripts/build_release.py" --assemble --parts "$store_dir/parts"
    fi
    echo "$(date -Is) end $ds $scorers $i/$n"
  done
done
