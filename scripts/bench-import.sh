#!/usr/bin/env bash
# Import benchmark: one million recordings with their splits (plus 100,000 parties and 250,000
# works with theirs), through `encore import`, on SQLite and PostgreSQL; then the same import
# again on SQLite (idempotent: everything updates, nothing is created); and, as the peer in the same run,
# PostgreSQL's own COPY of the same rows into the same tables and indexes with no validation.
#   scripts/bench-import.sh [RECORDINGS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
n="${1:-1000000}"
work="${BENCH_DIR:-/tmp/encore-bench}"
pg="${ENCORE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
mkdir -p "$work"
file="$work/catalog-$n.jsonl"
if [ ! -f "$file" ]; then
  step "generating $file"
  python3 scripts/gen-catalog.py "$n" "$file" "$work/copy-$n"
fi
step "building encore (release)"
cargo build --release --locked -p encore
bin="${CARGO_TARGET_DIR:-target}/release/encore"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m); rows: $(wc -l < "$file")"

timed() { local label="$1"; shift; local t0 t1; t0=$(date +%s.%N); "$@" >"$work/out.txt" 2>&1 || true; t1=$(date +%s.%N);
  printf '%-44s %6.1f s   %s\n' "$label" "$(awk "BEGIN{print $t1 - $t0}")" "$(grep -E '^imported' "$work/out.txt" || tail -n1 "$work/out.txt")"; }

rm -rf "$work/sqlite"
timed "encore import, SQLite, empty catalog" "$bin" import "$file" --data-dir "$work/sqlite"
timed "encore import, SQLite, same file again" "$bin" import "$file" --data-dir "$work/sqlite"

ensure_postgres
base="${pg%/*}"
psql -q "$pg" -c "DROP DATABASE IF EXISTS encore_bench WITH (FORCE)" -c "CREATE DATABASE encore_bench"
timed "encore import, PostgreSQL, empty catalog" "$bin" import "$file" --database-url "$base/encore_bench"
# The PostgreSQL re-import (every row an update) is left out: it takes over six minutes, see
# the note in BENCHMARKS.md.

# The peer: the same rows, pre-shaped as CSV, copied straight into encore's own schema.
psql -q "$pg" -c "DROP DATABASE IF EXISTS encore_peer WITH (FORCE)" -c "CREATE DATABASE encore_peer"
"$bin" migrate --database-url "$base/encore_peer" >/dev/null
copy_all() {
  for t in parties works work_writers work_splits recordings recording_artists recording_works recording_splits; do
    psql -q "$base/encore_peer" -c "\\copy $t FROM '$work/copy-$n/$t.csv' WITH (FORMAT csv, NULL '')"
  done
}
timed "peer: PostgreSQL COPY, same rows, no checks" copy_all
psql -q "$pg" -c "DROP DATABASE IF EXISTS encore_bench WITH (FORCE)" -c "DROP DATABASE IF EXISTS encore_peer WITH (FORCE)"
