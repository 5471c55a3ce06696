#!/usr/bin/env bash
# Builds the simulate CLI with profile-guided optimization: the `loyalty` binary without the
# server (`--no-default-features`), profile `release-simulate` (fat LTO, panics abort). An
# instrumented build replays generated members of both profiles, with and without a baseline,
# and the final build is optimized with that profile. Same code, same answers (reports compare
# with `cmp`), ≈ 8–12 % less CPU on a simulation (docs/simulate.md). scripts/bench-simulate.sh
# runs it; the everyday `target/release/loyalty` (with `loyalty serve`) is the plain release
# build. Needs the rustup component `llvm-tools` (added here when missing).
#
#   scripts/build-cli-pgo.sh            # -> target/pgo/release-simulate/loyalty
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

for arg in "$@"; do
  die "build-cli-pgo.sh: unknown argument $arg"
done
build=(--profile release-simulate -p loyalty-cli --no-default-features --bin loyalty)

sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  step "rustup component add llvm-tools"
  rustup component add llvm-tools || die "llvm-tools is not available: use the plain build (cargo build --release)"
fi

data="$ROOT/target/pgo/profiles"
merged="$data/merged.profdata"
mkdir -p "$data"

step "instrumented build (target/pgo-gen)"
RUSTFLAGS="-Cprofile-generate=$data" cargo build "${build[@]}" --target-dir target/pgo-gen
bin=target/pgo-gen/release-simulate/loyalty

# Training only when the instrumented binary changed since the last profile.
if [ ! -f "$merged" ] || [ "$bin" -nt "$merged" ]; then
  step "training: simulate generated members (vn-fashion, sk-grocery; with and without a baseline)"
  rm -f "$data"/*.profraw
  train="$ROOT/target/pgo/train"
  mkdir -p "$train"
  for spec in "vn-fashion 2026-10-01T00:00:00+07:00 20000" "sk-grocery 2026-10-01T00:00:00+02:00 1500"; do
    read -r name as_of members <<< "$spec"
    "$bin" generate --members "$members" --seed 7 --months 20 --profile "$name" --as-of "$as_of" \
      > "$train/$name.ndjson" 2> /dev/null
    for base in "--baseline docs/examples/$name-baseline.json" ""; do
      # shellcheck disable=SC2086 # $base is two words or none
      "$bin" simulate --policy "docs/examples/$name-draft.json" $base --members "$train/$name.ndjson" \
        --as-of "$as_of" --expected-redemption 0.7 > /dev/null 2>&1
    done
  done
  "$profdata" merge -o "$merged.tmp" "$data"/*.profraw
  mv "$merged.tmp" "$merged"
fi

# The profile under a name of its content: a new profile changes RUSTFLAGS, so cargo rebuilds
# with it, and an unchanged one leaves the optimized build as it is.
sum="$(sha256sum "$merged" | cut -c1-16)"
used="$data/profile-$sum.profdata"
[ -f "$used" ] || cp "$merged" "$used"
step "optimized build with the profile (target/pgo)"
RUSTFLAGS="-Cprofile-use=$used" cargo build "${build[@]}" --target-dir target/pgo
echo "target/pgo/release-simulate/loyalty"
