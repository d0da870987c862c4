#!/usr/bin/env bash
# Runs the whole test suite the way CI does: formatting, clippy with warnings as errors, and
# every test on SQLite and on PostgreSQL (started here if it is down).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_system_packages
ensure_postgres
# The transcription tests fail without the model or ONNX Runtime when CI is set.
fetch_basic_pitch_model
fetch_onnxruntime
export ENCORE_TEST_POSTGRES_URL="${ENCORE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! command -v cargo-nextest >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "tests (SQLite always; PostgreSQL at $ENCORE_TEST_POSTGRES_URL)"
cargo nextest run --locked --workspace --no-fail-fast
