#!/usr/bin/env bash
# Seed the fuzz corpora from the fixtures: whole bolt files for bolt_read/db_load, every gob value
# for gob_decode.
set -euo pipefail
cd "$(dirname "$0")/.."
data=tests/data/heketi-db
mkdir -p fuzz/corpus/bolt_read fuzz/corpus/db_load fuzz/corpus/gob_decode
for f in small medium pending pending_clone; do
  cp "$data/$f.db" "fuzz/corpus/bolt_read/$f.db"
  cp "$data/$f.db" "fuzz/corpus/db_load/$f.db"
  cargo run -q --release -p heketi-doctor-common --example dump_values -- "$data/$f.db" fuzz/corpus/gob_decode
done
head -c 20000 "$data/small.json" > fuzz/corpus/db_load/small-head.json
gzip -c "$data/small.db" > fuzz/corpus/db_load/small.db.gz
