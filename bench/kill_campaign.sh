#!/usr/bin/env bash
# kill -9 one of 3 populate workers mid-run, TRIALS times, on one PostgreSQL store; after
# each trial the survivors must have stored every architecture exactly once, and the
# killed worker's chunk must have been taken over after its lease (attempt 2).
# Usage: bash bench/kill_campaign.sh [TRIALS=10] [ADMIN_URL=postgresql://postgres@127.0.0.1:5432/test]
set -uo pipefail
TRIALS=${1:-10}
ADMIN=${2:-postgresql://postgres@127.0.0.1:5432/test}
DB=tfnas_kill_$$
U=${ADMIN%/*}/$DB
TFNAS=${TFNAS:-tfnas-db}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
psql "$ADMIN" -qc "CREATE DATABASE $DB"
trap 'psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
$TFNAS db upgrade --db "$U" >/dev/null && $TFNAS db seed --db "$U" >/dev/null
ok=0
for trial in $(seq 1 "$TRIALS"); do
  seed=$((700 + trial))
  for _ in 1 2 3; do
    $TFNAS populate --db "$U" --limit 24 --seed $seed --scorers naswot --batch-size 16 \
      --chunk-size 2 --lease-seconds 5 -q --format json >/dev/null 2>&1 &
  done
  owner=""
  for _ in $(seq 1 600); do
    owner=$(psql "$U" -tAc "select owner_pid from work_claim where state='claimed' order by claimed_at limit 1")
    [ -n "$owner" ] && break
    sleep 0.1
  done
  kill -9 "$owner" 2>/dev/null
  wait
  rows=$(psql "$U" -tAc "select count(*) || ' rows, ' || count(distinct architecture_id) || ' distinct' from score s join score_run r on r.id = s.run_id where r.seed = $seed")
  retaken=$(psql "$U" -tAc "select count(*) from work_claim w join score_run r on w.run_ids::text = '[' || r.id || ']' where r.seed = $seed and w.attempts > 1 and w.state = 'done'")
  echo "trial $trial: killed pid $owner; $rows; chunks taken over: $retaken"
  [ "$rows" = "24 rows, 24 distinct" ] && [ "$retaken" -ge 1 ] && ok=$((ok + 1))
done
echo "$ok of $TRIALS trials: nothing lost, nothing duplicated, the killed chunk taken over"
[ "$ok" -eq "$TRIALS" ]
