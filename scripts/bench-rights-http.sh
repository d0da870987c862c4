#!/usr/bin/env bash
# HTTP rights-check benchmark (issue 3): POST /v1/rights/check against `encore serve` on
# SQLite, with one million recordings, 100,000 parties and 100,000 accepted agreements.
#   scripts/bench-rights-http.sh [RECORDINGS]   (default 1000000)
# Two loads, both from this machine: RATE requests/s offered at a constant rate by
# examples/bench_rate.rs (default 5000; latency as a client at that rate sees it, stalls
# included), then, unless CONNECTIONS is empty, wrk's closed loop (as fast as the server
# answers, CONNECTIONS=8 32 by default). DURATION (default 20s) is each run's length.
# The catalog is imported with `encore import` and the agreements and participation are made
# through the store (examples/seed_rights.rs), both kept in $BENCH_DIR for the next run. With
# DATABASE_URL=postgres://… (an existing database, empty the first time) the same runs go
# against PostgreSQL instead; the seeding is kept there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
n="${1:-1000000}"
work="${BENCH_DIR:-/tmp/encore-bench}"
duration="${DURATION:-20s}"
mkdir -p "$work"
command -v wrk >/dev/null 2>&1 || { step "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
file="$work/catalog-$n.jsonl"
[ -f "$file" ] || { step "generating $file"; python3 scripts/gen-catalog.py "$n" "$file"; }
step "building encore, the seeding example and the load generator (release)"
cargo build --release --locked -p encore --bin encore --example seed_rights --example bench_rate
bin="${CARGO_TARGET_DIR:-target}/release/encore"
seed="${CARGO_TARGET_DIR:-target}/release/examples/seed_rights"
rate_gen="${CARGO_TARGET_DIR:-target}/release/examples/bench_rate"
if [ -n "${DATABASE_URL:-}" ]; then
  # PostgreSQL: DATABASE_URL names an existing database, empty the first time.
  where=(--database-url "$DATABASE_URL")
  marker="$work/seeded-$n-$(printf '%s' "$DATABASE_URL" | sha256sum | cut -c1-12)"
  if [ ! -f "$marker" ]; then
    step "importing $n recordings into $DATABASE_URL"
    "$bin" import "$file" "${where[@]}"
    step "seeding agreements and participation"
    "$seed" "$DATABASE_URL"
    # Measure a settled database, not one still vacuuming and checkpointing the seeding.
    psql "$DATABASE_URL" -q -c "VACUUM ANALYZE" -c "CHECKPOINT"
    touch "$marker"
  fi
  psql "$DATABASE_URL" -Atc "SELECT id FROM recordings ORDER BY random() LIMIT 100000" >"$work/ids.txt"
else
  data="$work/rights-$n"
  where=(--data-dir "$data")
  if [ ! -f "$data/seeded" ]; then
    rm -rf "$data"
    step "importing $n recordings"
    "$bin" import "$file" "${where[@]}"
    step "seeding agreements and participation"
    "$seed" "$data/encore.db"
    touch "$data/seeded"
  fi
  python3 - "$data/encore.db" "$work/ids.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ids = [r[0] for r in db.execute("SELECT id FROM recordings ORDER BY random() LIMIT 100000")]
open(sys.argv[2], "w").write("\n".join(ids) + "\n")
PY
fi
key=$("$bin" keys create --role fan --name bench "${where[@]}" 2>/dev/null | grep -o 'enc_[0-9a-f]*' | head -n1)
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB"
"$bin" serve "${where[@]}" --bind 127.0.0.1:18080 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
# `serve` loads every recording's rights facts into memory in the background; measure after.
for _ in $(seq 1 600); do grep -q "rights facts loaded" "$work/serve.log" && break; sleep 0.2; done
grep -o "rights facts loaded.*" "$work/serve.log" | sed 's/\x1b\[[0-9;]*m//g'
echo "server RSS: $(( $(ps -o rss= -p $server) / 1024 )) MiB"
# A short run first, so each measured run starts from the same warm state.
IDS="$work/ids.txt" KEY="$key" INPUTS=1,2,3,4 wrk -t2 -c16 -d5s -s scripts/bench/rights-check.lua \
  http://127.0.0.1:18080 >/dev/null
rate="${RATE:-5000}"
seconds="${duration%s}"
for inputs in 1,2,3,4 1 2 3 4; do
  step "inputs $inputs: $rate requests/s offered for $seconds s"
  "$rate_gen" --url http://127.0.0.1:18080 --key "$key" --ids "$work/ids.txt" --rate "$rate" \
    --seconds "$seconds" --inputs "$inputs" || echo "  (failed or dropped requests: not a result)"
done
for connections in ${CONNECTIONS-8 32}; do
  for inputs in 1 2 3 4 1,2,3,4; do
    step "inputs $inputs: wrk -t2 -c$connections -d$duration"
    IDS="$work/ids.txt" KEY="$key" INPUTS="$inputs" wrk -t2 -c"$connections" -d"$duration" \
      -s scripts/bench/rights-check.lua http://127.0.0.1:18080 | grep -E 'Requests/sec|p50|errors|requests in'
  done
done
