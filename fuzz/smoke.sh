#!/usr/bin/env bash
# Fuzz smoke: seed the corpora, build every target, run each for a few seconds.
# Exits non-zero when a target crashes, hangs (-timeout) or runs out of memory; libFuzzer
# leaves the input under fuzz/artifacts/<target>/.
#
#   fuzz/smoke.sh              every target, FUZZ_SECONDS (default 12) each
#   fuzz/smoke.sh quotes enrich   only these targets
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`); .ci/run
# checks both and skips this step with a message when nightly is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-12}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(detect parse_text parse_html parse_newsml parse_json quotes tokenize entities enrich)

# A fresh corpus each time (under the git-ignored fuzz/corpus/): the smoke's time stays
# bounded however much the long runs' corpora have grown.
export FUZZ_CORPUS="$here/corpus/.smoke"
./seed.sh --fresh
# No sanitizer: the core is safe Rust (see README.md); sancov coverage and debug
# assertions (overflow checks) stay on. Same flags as the long runs, so the build is shared.
# The fuzz build (sancov, nightly) of all dependencies takes minutes, so it lives outside
# the checkout and survives fresh clones: FUZZ_TARGET_DIR, else ~/.cache/wire-enricher/fuzz-target.
target_dir="${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wire-enricher/fuzz-target}"
mkdir -p "$target_dir"
cargo +nightly fuzz build -s none --target-dir "$target_dir"

failed=()
for t in "${targets[@]}"; do
  printf '\n--- fuzz %s (%ss)\n' "$t" "$seconds"
  if ! cargo +nightly fuzz run -s none --target-dir "$target_dir" "$t" "$FUZZ_CORPUS/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -dict=dict/wire.dict -print_final_stats=1 2>&1 | tail -n 25; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke FAILED: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz smoke: ${#targets[@]} targets, ${seconds}s each, no crash"
