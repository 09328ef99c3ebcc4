#!/bin/sh
# KUnit (docs/kunit.md): make kunit_defconfig && make, the bundle run as
# kunit.py runs the kernel, its results checked against kunit.py's own
# parser on the same output, test by test; --filter, --raw, --timeout,
# --parse, JUnit (against boot/run/junit.xsd) and JSON; bad kunitconfigs.
. "$TOPDIR/tests/lib.sh"

KO=$SCRATCH/kunit
KB=$KO/images/boot.sh
KUNIT_PY=$SCRATCH/kunit-tool/tools/testing/kunit/kunit.py

oneTimeSetUp() {
	umlkit_make O="$KO" kunit_defconfig && umlkit_make O="$KO" all ||
		echo "the KUnit build failed: $(tail -n 20 "$SCRATCH/make.log")"
	cp "$SCRATCH/make.log" "$SCRATCH/kunit-make.log"
	# kunit.py itself, from the same kernel source, to compare with
	tarball=$(sed -n 's/^UMLKIT_KERNEL_TARBALL="\(.*\)"$/\1/p' "$KO/.config")
	mkdir -p "$SCRATCH/kunit-tool"
	tar -xf "$tarball" -C "$SCRATCH/kunit-tool" --strip-components=1 --wildcards '*/tools/testing/kunit/*'
}

# python3 EXPR over the JSON report $1 (bound to d)
json() {
	python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

# kunit.py's summary line for kernel output $1, without its timestamp
kunit_py_summary() {
	python3 "$KUNIT_PY" parse "$1" 2>&1 | sed -n 's/^\[[0-9:]*\] \(Testing complete\.\)/\1/p'
}

test_every_test_runs_and_the_answer_is_kunit_py_s() {
	[ -x "$KB" ] || fail "no KUnit bundle: $(cat "$SCRATCH/kunit-make.log")"
	"$KB" --raw --json "$SCRATCH/k.json" --junit "$SCRATCH/k.xml" >"$SCRATCH/raw" 2>"$SCRATCH/err"
	assertEquals "all passed or skipped: $(cat "$SCRATCH/err")" 0 $?
	assertEquals "--raw prints the KTAP" "KTAP version 1" "$(head -n 1 "$SCRATCH/raw")"
	python3 "$TOPDIR/tests/kunit_compare.py" "$KUNIT_PY" "$SCRATCH/k.json" "$SCRATCH/raw" >"$SCRATCH/cmp"
	assertEquals "test by test as kunit.py: $(cat "$SCRATCH/cmp")" 0 $?
	n=$(sed -n 's/^same //p' "$SCRATCH/cmp")
	assertTrue "hundreds of tests ($n)" "[ '${n:-0}' -gt 100 ]"
	assertTrue "JUnit valid against the schema" \
		"xmllint --noout --schema '$TOPDIR/boot/run/junit.xsd' '$SCRATCH/k.xml'"
	assertEquals "JSON: every test has a status and a duration" "True" \
		"$(json "$SCRATCH/k.json" 'all("status" in c and "duration" in c for s in d["tests"] for c in s.get("tests", [s]))')"
	# the results as kunit.py shows them, and its summary line
	"$KB" >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "status" 0 $?
	assertEquals "kunit.py's summary line" "$(kunit_py_summary "$SCRATCH/raw")" "$(tail -n 1 "$SCRATCH/out")"
	assertTrue "a suite's footer" "grep -q '^=* \[PASSED\] example =*$' '$SCRATCH/out'"
	assertEquals "nothing on stderr" "" "$(cat "$SCRATCH/err")"
}

test_filter_runs_only_what_it_names() {
	out=$("$KB" --filter 'example*' --json "$SCRATCH/f.json" 2>&1)
	assertEquals "status: $out" 0 $?
	assertEquals "only example suites" "True" \
		"$(json "$SCRATCH/f.json" 'len(d["tests"]) > 0 and all(t["name"].startswith("example") for t in d["tests"])')"
	out=$("$KB" --filter 'example.example_simple_test' 2>&1)
	assertEquals "one test" "Testing complete. Ran 1 tests: passed: 1" "$(printf '%s\n' "$out" | tail -n 1)"
	"$KB" --filter 'no_such_suite' >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "no test ran: a failure, as kunit.py" 1 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'no test ran' '$SCRATCH/err'"
}

test_a_run_cut_short_fails_and_marks_the_running_test_crashed() {
	# ended by a signal halfway: 128+15, the JSON says where it stopped
	"$KB" --raw --json "$SCRATCH/s.json" >"$SCRATCH/fifo-out" 2>/dev/null &
	pid=$!
	i=0
	until [ "$(grep -c '^    ok ' "$SCRATCH/fifo-out" 2>/dev/null)" -ge 20 ] || [ $i -ge 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	assertEquals "SIGTERM's status" 143 $?
	assertTrue "some passed, the one running crashed" \
		"[ '$(json "$SCRATCH/s.json" 'd["summary"]["passed"] >= 20 and d["summary"]["crashed"] >= 1')' = True ]"
	assertEquals "no kernel left" "" "$(uml_processes "$XDG_CACHE_HOME")"
	# a timeout: kunit.py's answer (1), and the reason on stderr
	"$KB" --timeout 1 >/dev/null 2>"$SCRATCH/err"
	assertEquals "timed out: a failure" 1 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'timed out after 1s' '$SCRATCH/err'"
}

test_real_failures_and_panics_through_parse() {
	data=$SCRATCH/kunit-tool/tools/testing/kunit/test_data
	"$KB" --parse "$data/test_is_test_passed-failure.log" >"$SCRATCH/out" 2>&1
	assertEquals "a failure: 1" 1 $?
	assertTrue "a failed case, its log first: $(cat "$SCRATCH/out")" \
		"grep -B4 '^\[FAILED\] ' '$SCRATCH/out' | grep -q 'Expected'"
	"$KB" --parse "$data/test_kernel_panic_interrupt.log" --junit "$SCRATCH/p.xml" >"$SCRATCH/out" 2>&1
	assertEquals "a panic: 1" 1 $?
	assertTrue "crashed tests counted" "grep -q 'crashed: 2' '$SCRATCH/out'"
	assertTrue "JUnit with errors, valid" "grep -q 'errors=\"2\"' '$SCRATCH/p.xml' &&
		xmllint --noout --schema '$TOPDIR/boot/run/junit.xsd' '$SCRATCH/p.xml'"
	# every log of kunit.py's own parser tests, test by test; one
	# exception: a header with no cases is kunit.py's 'no tests' (FAIL in
	# its JSON) where the line under it says ok (so umlkit says PASS)
	for log in "$data"/*.log; do
		case $log in */test_is_test_passed-no_tests_no_plan.log) continue ;; esac
		"$KB" --parse "$log" --json "$SCRATCH/t.json" >/dev/null 2>&1
		python3 "$TOPDIR/tests/kunit_compare.py" "$KUNIT_PY" "$SCRATCH/t.json" "$log" >"$SCRATCH/cmp"
		assertEquals "${log##*/} as kunit.py: $(cat "$SCRATCH/cmp")" 0 $?
	done
	printf 'KTAP version 1\n1..1\nok 1 a\n' | "$KB" --parse - >/dev/null
	assertEquals "stdin" 0 $?
}

test_bad_options_get_125_and_one_line() {
	for args in "-- true" "--share /tmp" "--net user" "--filter a\ b" "--parse /no/such/file"; do
		eval "set -- $args"
		"$KB" "$@" </dev/null >/dev/null 2>"$SCRATCH/err"
		assertEquals "$args: status" 125 $?
		assertEquals "$args: one line: $(cat "$SCRATCH/err")" 1 "$(wc -l <"$SCRATCH/err")"
	done
	"$BUNDLE" --filter 'x*' -- true </dev/null >/dev/null 2>"$SCRATCH/err"
	assertEquals "--filter is for KUnit bundles" 125 $?
	assertTrue "says so" "grep -q 'is for KUnit bundles' '$SCRATCH/err'"
	"$KB" --help >"$SCRATCH/help"
	assertTrue "--help names --filter, not --share" "grep -q -- --filter '$SCRATCH/help' && ! grep -q -- --share '$SCRATCH/help'"
}

test_make_after_make_does_nothing() {
	umlkit_make O="$KO" all
	assertEquals "no work: $(cat "$SCRATCH/make.log")" "" "$(grep '>>>' "$SCRATCH/make.log")"
}

test_a_dynamic_kernel_on_a_host_without_a_c_library_gets_121() {
	# a KUnit kernel is linked as kunit.py links it: dynamically
	if ! bare_root "$SCRATCH/bare"; then
		startSkipping
		echo "SKIP: needs a mount namespace (unshare -rm) for the chroot"
	fi
	cp "$KB" "$SCRATCH/bare/boot.sh"
	in_bare_root "$SCRATCH/bare" /bin/sh /boot.sh </dev/null >/dev/null 2>"$SCRATCH/err"
	assertEquals "status" 121 $?
	assertTrue "says why: $(cat "$SCRATCH/err")" "grep -q 'needs glibc 2.34' '$SCRATCH/err'"
}

test_a_bad_kunitconfig_is_named() {
	o=$SCRATCH/bad
	umlkit_make O="$o" kunit_defconfig
	printf 'CONFIG_KUNIT=y\nCONFIG_KUNIT_EXAMPLE_TEST y\n' >"$SCRATCH/bad.kunitconfig"
	echo "UMLKIT_KUNITCONFIG=\"$SCRATCH/bad.kunitconfig\"" >>"$o/.config"
	umlkit_make O="$o" kernel
	assertNotEquals "refused" 0 $?
	assertTrue "file and line: $(cat "$SCRATCH/make.log")" \
		"grep -q 'bad.kunitconfig:2: not a kconfig line' '$SCRATCH/make.log'"
	printf 'CONFIG_KUNIT=y\nCONFIG_KUNIT_NO_SUCH_OPTION=y\n' >"$SCRATCH/bad.kunitconfig"
	umlkit_make O="$o" kernel
	assertNotEquals "refused" 0 $?
	assertTrue "the option that did not land: $(cat "$SCRATCH/make.log")" \
		"grep -q 'CONFIG_KUNIT_NO_SUCH_OPTION=y did not land' '$SCRATCH/make.log'"
	assertFalse "no kernel" "[ -e '$o/images/linux' ]"
	echo "UMLKIT_KUNITCONFIG=\"no_such.config\"" >>"$o/.config"
	umlkit_make O="$o" kernel
	assertTrue "a missing one: $(cat "$SCRATCH/make.log")" "grep -q 'kunitconfig .*no_such.config not found' '$SCRATCH/make.log'"
}

. shunit2
