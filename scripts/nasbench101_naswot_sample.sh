#!/usr/bin/env bash
# NAS-Bench-101 naswot on the seeded sample of 2 000 cells (issue 28: the bundled sample),
# into a store outside the repository; resumable: run it again after an interruption.
#   scripts/nasbench101_naswot_sample.sh STORE_DIR
# One torch thread, so it can run beside other work; populate commits as it goes, so it
# can be killed at any time and run again.
set -euo pipefail
dir=${1:?usage: $0 STORE_DIR}
mkdir -p "$dir"
db="sqlite:///$(cd "$dir" && pwd)/nb101_naswot.db"
[ -f "$dir/nb101_naswot.db" ] || tfnas-db db upgrade --db "$db"
exec tfnas-db populate --space nasbench101 --dataset cifar10 --scorers naswot \
  --limit 2000 --sample --threads 1 --db "$db" --quiet
