#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 30), one after the other, and
# prints one summary line per target. Needs cargo-fuzz (see README.md); stable
# Rust is enough because the targets are built without a sanitizer.
#
#   fuzz/run-all.sh [SECONDS] [TARGET...]
#
# Logs go to fuzz/target/run-all/TARGET.log, crashing inputs to
# fuzz/artifacts/TARGET/. Exits non-zero if any target failed.
set -uo pipefail

cd "$(dirname "$0")"
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build --sanitizer none || exit 1
mkdir -p target/run-all
failed=0
start=$(date +%s)
for t in "${targets[@]}"; do
    log=target/run-all/$t.log
    mkdir -p "corpus/$t"
    cargo fuzz run --sanitizer none "$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "corpus/$t" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        status=ok
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        status="FAILED (exit $rc) ${artifact:-see $log}"
    fi
    printf '%-24s execs=%-10s cov=%-6s corpus=%-6s %s\n' "$t" "${execs:-?}" "${cov:-?}" "$corpus" "$status"
done
echo "total: $(( $(date +%s) - start ))s for ${#targets[@]} targets"
exit $failed
