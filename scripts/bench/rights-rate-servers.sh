#!/usr/bin/env bash
# Server-by-server runs of POST /v1/rights/check at a constant rate, for comparing builds in
# alternating order (BENCHMARKS.md, "Deciding in place, and a decision writer with its own
# connection"):
#   scripts/bench/rights-rate-servers.sh BINARY LABEL INPUTS...    e.g. … target/release/encore new 4 1,2,3,4 1
# Needs the seeded data `scripts/bench-rights-http.sh` leaves in $BENCH_DIR/rights-1000000 and
# its ids.txt, and the release build of examples/bench_rate. Each call copies the seeded data
# afresh, starts BINARY on it, waits for the rights facts, warms up for 5 s at 3,000/s, then
# runs RATE requests/s (default 5,000) for SECONDS (default 20) per INPUTS set, one after
# another on the same server. Per run it prints the generator's figures, the server's CPU per
# check (from /proc) and that CPU by thread kind (Tokio workers, sqlx's SQLite workers, the
# decision writer).
# With DATABASE_URL=postgres://… each call serves that database instead (seeded by
# `DATABASE_URL=… scripts/bench-rights-http.sh`, or by hand: import, seed_rights, VACUUM
# ANALYZE, CHECKPOINT), with ids from $BENCH_DIR/ids-pg.txt and a fan key in $BENCH_DIR/key-pg;
# its decisions accumulate from call to call.
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,15p "$0" >&2; exit 2; }
bin=$1; label=$2; shift 2
work="${BENCH_DIR:-/tmp/encore-bench}"
rate="${RATE:-5000}"; seconds="${SECONDS_PER_RUN:-20}"
gen="${CARGO_TARGET_DIR:-target}/release/examples/bench_rate"
if [ -n "${DATABASE_URL:-}" ]; then
  ids="$work/ids-pg.txt"
  [ -f "$ids" ] || psql "$DATABASE_URL" -Atc "SELECT id FROM recordings ORDER BY random() LIMIT 100000" >"$ids"
  key=$(cat "$work/key-pg" 2>/dev/null || "$bin" keys create --role fan --name bench --database-url "$DATABASE_URL" 2>/dev/null | grep -o 'enc_[0-9a-f]*' | head -n1 | tee "$work/key-pg")
  where=(--database-url "$DATABASE_URL")
else
  [ -f "$work/rights-1000000/seeded" ] || { echo "run scripts/bench-rights-http.sh first" >&2; exit 1; }
  ids="$work/ids.txt"
  key=$(cat "$work/key" 2>/dev/null || "$bin" keys create --role fan --name bench --data-dir "$work/rights-1000000" 2>/dev/null | grep -o 'enc_[0-9a-f]*' | head -n1 | tee "$work/key")
  rm -rf "$work/run" && cp -a "$work/rights-1000000" "$work/run" && sync
  where=(--data-dir "$work/run")
fi
"$bin" serve "${where[@]}" --bind 127.0.0.1:18080 >"$work/$label.serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 900); do grep -q "rights facts loaded" "$work/$label.serve.log" && break; sleep 0.2; done
"$gen" --url http://127.0.0.1:18080 --key "$key" --ids "$ids" --rate 3000 --seconds 5 >/dev/null 2>&1
# CPU ticks (utime + stime) per thread name, summed.
threads() {
  for t in /proc/$pid/task/*; do echo "$(tr -d ' ' <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done |
    awk '{sum[$1] += $2} END {for (k in sum) print k, sum[k]}' | sort
}
# CPU ticks of every PostgreSQL process (the server shares the machine when DATABASE_URL is set).
pg_ticks() {
  local sum=0
  for p in $(pgrep -x postgres || true); do
    sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}
for inputs in "$@"; do
  before=$(threads)
  pg_before=$(pg_ticks)
  out=$("$gen" --url http://127.0.0.1:18080 --key "$key" --ids "$ids" --rate "$rate" \
    --seconds "$seconds" --inputs "$inputs" 2>/dev/null | grep -E 'p99|errors' | tr -s ' \n' ' ')
  after=$(threads)
  pg_after=$(pg_ticks)
  n=$((rate * seconds))
  # Ticks are 10 ms: µs per check = ticks * 10,000 / checks.
  per_thread=$(join -a2 -e0 -o 0,1.2,2.2 <(echo "$before") <(echo "$after") |
    awk -v n="$n" '{us = ($3 - $2) * 10000 / n; total += us; if (us > 0) printf "%s %.1f, ", $1, us} END {printf "total %.1f", total}')
  pg=""
  [ -z "${DATABASE_URL:-}" ] || pg=", postgres $(( (pg_after - pg_before) * 10000 / n ))"
  echo "$label inputs=$inputs :: $out:: server CPU µs/check: $per_thread$pg"
done
