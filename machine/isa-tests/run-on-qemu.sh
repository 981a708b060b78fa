#!/bin/sh
# Builds every ISA test and runs each on qemu-system-riscv64 (the reference machine),
# printing PASS/FAIL per test. A test passes when QEMU exits 0 and the console shows
# "<name>: PASS". Tests whose names start with "selftest_fail" must FAIL (with code 7):
# they prove the harness notices failures. Exit status: 0 when every test behaved.
#
# Usage: ./run-on-qemu.sh [test-name ...]   (default: all of src/bin/*.rs)
set -u
cd "$(dirname "$0")" || exit 2
QEMU=${QEMU:-qemu-system-riscv64}
TIMEOUT=${TIMEOUT:-20}
command -v "$QEMU" >/dev/null 2>&1 || { echo "run-on-qemu: $QEMU not found" >&2; exit 2; }
cargo build --release --quiet || { echo "run-on-qemu: build failed" >&2; exit 2; }
BIN=target/riscv64gc-unknown-none-elf/release

if [ $# -gt 0 ]; then
    TESTS="$*"
else
    TESTS=$(for f in src/bin/*.rs; do basename "$f" .rs; done)
fi

bad=0
for t in $TESTS; do
    out=$(timeout "$TIMEOUT" "$QEMU" -machine virt -bios none -m 128M -nographic \
        -kernel "$BIN/$t" </dev/null 2>&1)
    rc=$?
    case "$t" in
    selftest_fail*)
        if [ $rc -eq 7 ] && printf '%s\n' "$out" | grep -q "$t: FAIL code 7"; then
            echo "PASS $t (failed with code 7, as it must)"
        else
            echo "FAIL $t (expected failure code 7, got exit $rc)"
            bad=$((bad + 1))
        fi
        ;;
    *)
        if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "$t: PASS"; then
            echo "PASS $t"
        else
            if [ $rc -eq 124 ]; then why="timeout"; else why="exit $rc"; fi
            echo "FAIL $t ($why)"
            printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /'
            bad=$((bad + 1))
        fi
        ;;
    esac
done
[ $bad -eq 0 ] || { echo "$bad test(s) misbehaved"; exit 1; }
echo "all tests behaved"
