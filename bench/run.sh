#!/usr/bin/env bash
# Reruns the benchmark of BENCHMARKS.md: SQLite, then PostgreSQL when
# BENCH_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) is set.
# Extra arguments go to the benchmark (e.g. --seconds 5 --soak-seconds 30).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin ixp-portal --example bench
./target/release/examples/bench "$@"
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  ./target/release/examples/bench --postgres "$BENCH_POSTGRES_URL" "$@"
fi
