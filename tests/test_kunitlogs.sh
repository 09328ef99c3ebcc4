#!/bin/sh
# kunit.py's own test logs (tools/testing/kunit/test_data in the kernel
# source the check build unpacked) through the runtime's --parse, each
# compared with kunit.py's answer test by test (tests/kunit_compare.py).
# No guest boots: part of make check-quick. One exception, documented in
# docs/kunit.md: a header with no cases is kunit.py's 'no tests' (FAIL in
# its JSON) where the line under it says ok (umlkit says PASS).
. "$TOPDIR/tests/lib.sh"

KUNIT_DIR=$CHECK_O/build/linux-src/tools/testing/kunit
RUNTIME=$CHECK_O/build/runtime/umlkit-run

# the runtime run as a KUnit bundle's: an entry holding only bundle.conf
oneTimeSetUp() {
	mkdir -p "$SCRATCH/entry"
	printf 'name=kunit-logs\nmode=kunit\nkernel=none\nmem=1G\n' >"$SCRATCH/entry/bundle.conf"
}

check_log() {
	log=$KUNIT_DIR/test_data/$1
	"$RUNTIME" boot.sh "$SCRATCH/entry" --parse "$log" --json "$SCRATCH/t.json" >"$SCRATCH/out" 2>&1
	code=$?
	assertTrue "${1}: the parser ran ($code): $(tail -3 "$SCRATCH/out")" "[ $code -le 1 ]"
	python3 "$TOPDIR/tests/kunit_compare.py" "$KUNIT_DIR/kunit.py" "$SCRATCH/t.json" "$log" >"$SCRATCH/cmp"
	assertEquals "${1} as kunit.py: $(cat "$SCRATCH/cmp")" 0 $?
}

suite() {
	if [ ! -d "$KUNIT_DIR/test_data" ]; then
		eval "test_kunit_logs() { echo 'SKIP: no kernel source with tools/testing/kunit in $CHECK_O'; startSkipping; }"
		suite_addTest test_kunit_logs
		return
	fi
	for log in "$KUNIT_DIR"/test_data/*.log; do
		name=${log##*/}
		case $name in test_is_test_passed-no_tests_no_plan.log) continue ;; esac
		fn=test_$(printf '%s' "${name%.log}" | tr -c 'A-Za-z0-9_' '_')
		eval "$fn() { check_log '$name'; }"
		suite_addTest "$fn"
	done
}

. shunit2
