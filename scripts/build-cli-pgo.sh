#!/usr/bin/env bash
# Builds the `loyalty` CLI with profile-guided optimization, for big simulations (optional; not
# part of the main build or the tests): an instrumented build replays generated members of both
# profiles, with and without a baseline, and the final build is optimized with that profile.
# Same code, same answers (compare the reports with `cmp`), ≈ 12 % less CPU on a simulation
# (docs/simulate.md). Needs the rustup component `llvm-tools` (added here when missing).
#
#   scripts/build-cli-pgo.sh        # -> target/pgo/release/loyalty
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  step "rustup component add llvm-tools"
  rustup component add llvm-tools || die "llvm-tools is not available: use the plain build (scripts/build.sh)"
fi

data="$ROOT/target/pgo/profiles"
rm -rf "$data"
mkdir -p "$data"

step "instrumented build (target/pgo-gen)"
RUSTFLAGS="-Cprofile-generate=$data" cargo build --release --bin loyalty --target-dir target/pgo-gen
bin=target/pgo-gen/release/loyalty

step "training: simulate generated members (vn-fashion, sk-grocery; with and without a baseline)"
train="$ROOT/target/pgo/train"
mkdir -p "$train"
for spec in "vn-fashion 2026-10-01T00:00:00+07:00 30000" "sk-grocery 2026-10-01T00:00:00+02:00 4000"; do
  read -r name as_of members <<< "$spec"
  "$bin" generate --members "$members" --seed 7 --months 20 --profile "$name" --as-of "$as_of" \
    > "$train/$name.ndjson" 2> /dev/null
  for base in "--baseline docs/examples/$name-baseline.json" ""; do
    # shellcheck disable=SC2086 # $base is two words or none
    "$bin" simulate --policy "docs/examples/$name-draft.json" $base --members "$train/$name.ndjson" \
      --as-of "$as_of" --expected-redemption 0.7 > /dev/null 2>&1
  done
done

step "merge the profiles; optimized build (target/pgo)"
"$profdata" merge -o "$data/merged.profdata" "$data"/*.profraw
RUSTFLAGS="-Cprofile-use=$data/merged.profdata" cargo build --release --bin loyalty --target-dir target/pgo
echo "target/pgo/release/loyalty"
