#!/bin/sh
# Test reports from any guest run (boot.sh --junit FILE --json FILE): the
# command's stdout read as TAP/KTAP as it passes through unchanged.
. "$TOPDIR/tests/lib.sh"

COPY=$SCRATCH/boot.sh

oneTimeSetUp() {
	cp "$BUNDLE" "$COPY"
}

# python3 EXPR over the JSON report $1 (bound to d)
json() {
	python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

test_tap_output_becomes_junit_and_json() {
	out=$("$COPY" --junit "$SCRATCH/r.xml" --json "$SCRATCH/r.json" -- sh -c '
		echo "TAP version 13"; echo 1..3; echo "ok 1 - a"; echo "# why b fails"; echo "not ok 2 - b"
		echo "ok 3 - c # SKIP no disk"; exit 3' </dev/null 2>"$SCRATCH/err")
	assertEquals "the command's status" 3 $?
	assertEquals "stdout passes through unchanged" \
		"$(printf 'TAP version 13\n1..3\nok 1 - a\n# why b fails\nnot ok 2 - b\nok 3 - c # SKIP no disk')" "$out"
	assertEquals "nothing on stderr" "" "$(stderr_of "$SCRATCH/err")"
	assertTrue "valid against the schema" "xmllint --noout --schema '$TOPDIR/boot/run/junit.xsd' '$SCRATCH/r.xml'"
	assertTrue "JUnit counts" "grep -q 'tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"' '$SCRATCH/r.xml'"
	assertTrue "the failure carries its log" "grep -q '<failure message=\"failed\"># why b fails' '$SCRATCH/r.xml'"
	assertTrue "the skip its reason" "grep -q '<skipped message=\"no disk\"/>' '$SCRATCH/r.xml'"
	assertEquals "JSON statuses" "['PASS', 'FAIL', 'SKIP']" "$(json "$SCRATCH/r.json" '[t["status"] for t in d["tests"]]')"
	assertEquals "JSON log and reason" "['# why b fails'] no disk" \
		"$(json "$SCRATCH/r.json" 'd["tests"][1]["log"], d["tests"][2]["reason"]' | tr -d '(),')"
}

test_a_run_cut_short_marks_the_running_test_crashed() {
	"$COPY" --timeout 5 --json "$SCRATCH/r.json" -- sh -c '
		echo "TAP version 13"; echo 1..3; echo "ok 1 - a"; echo "# b starts"; sleep 60' \
		</dev/null >/dev/null 2>&1
	assertEquals "timed out" 124 $?
	assertEquals "a passed, the running one crashed, the third never ran" \
		"['PASS', 'CRASHED', 'CRASHED']" "$(json "$SCRATCH/r.json" '[t["status"] for t in d["tests"]]')"
	assertEquals "what it printed and why it ended" "['# b starts', 'timed out (--timeout)']" \
		"$(json "$SCRATCH/r.json" 'd["tests"][1]["log"]')"
}

test_nested_ktap_as_kunit_prints_it() {
	cat >"$SCRATCH/ktap.txt" <<'EOF'
KTAP version 1
1..2
    KTAP version 1
    # Subtest: example
    1..3
    # example_simple_test: initializing
    ok 1 example_simple_test
    ok 2 example_skip_test # SKIP this test should be skipped
    # example_fail: EXPECTATION FAILED at lib/x.c:12
    not ok 3 example_fail
# Totals: pass:1 fail:1 skip:1 total:3
not ok 1 example
    KTAP version 1
    # Subtest: params
    1..2
        KTAP version 1
        # Subtest: param_test
        ok 1 case-a
        ok 2 case-b
    ok 1 param_test
    # running the second
EOF
	"$COPY" --share "$SCRATCH" --junit "$SCRATCH/k.xml" --json "$SCRATCH/k.json" -- cat "$SCRATCH/ktap.txt" \
		</dev/null >/dev/null 2>&1
	assertEquals "cat's status" 0 $?
	assertEquals "kunit.py's counts: a missing subtest is crashed" \
		"{'total': 6, 'passed': 3, 'failed': 1, 'skipped': 1, 'crashed': 1}" "$(json "$SCRATCH/k.json" 'd["summary"]')"
	assertTrue "valid against the schema" "xmllint --noout --schema '$TOPDIR/boot/run/junit.xsd' '$SCRATCH/k.xml'"
	assertTrue "nested suites flattened with dotted names" \
		"grep -q '<testsuite name=\"params.param_test\" tests=\"2\"' '$SCRATCH/k.xml'"
	assertTrue "the crashed case is an error with its log" \
		"grep -q '<error message=\"crashed\"># running the second' '$SCRATCH/k.xml'"
}

# TAP as real emitters print it, with no version line (TAP 12): bats and
# prove, read by --parse on the host.
test_tap_without_a_version_line_from_bats_and_prove() {
	mkdir -p "$SCRATCH/t"
	printf '%s\n' '@test "adds" { [ $((1 + 1)) -eq 2 ]; }' '@test "fails" { false; }' \
		'@test "skips" { skip "no network"; }' >"$SCRATCH/t/a.bats"
	bats --tap "$SCRATCH/t/a.bats" >"$SCRATCH/bats.tap" 2>&1
	"$COPY" --parse "$SCRATCH/bats.tap" --junit "$SCRATCH/b.xml" --json "$SCRATCH/b.json" >/dev/null 2>&1
	assertEquals "a failure: 1" 1 $?
	assertTrue "bats: counts $(head -c 300 "$SCRATCH/b.xml")" \
		"grep -q 'tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"' '$SCRATCH/b.xml'"
	assertEquals "bats: statuses" "['PASS', 'FAIL', 'SKIP']" "$(json "$SCRATCH/b.json" '[t["status"] for t in d["tests"]]')"
	printf '%s\n' 'print "1..2\nok 1 - one\nok 2 - two\n";' >"$SCRATCH/t/p.t"
	(cd "$SCRATCH/t" && prove -v p.t) >"$SCRATCH/prove.tap" 2>&1
	"$COPY" --parse "$SCRATCH/prove.tap" --json "$SCRATCH/p.json" >/dev/null 2>&1
	assertEquals "prove: all passed: 0" 0 $?
	assertEquals "prove: names" "['one', 'two']" "$(json "$SCRATCH/p.json" '[t["name"] for t in d["tests"]]')"
}

test_output_without_tap_is_an_error_in_the_report() {
	printf 'hello\nworld\n' | "$COPY" --parse - --junit "$SCRATCH/n.xml" --json "$SCRATCH/n.json" \
		>/dev/null 2>"$SCRATCH/err"
	assertEquals "status 1" 1 $?
	assertTrue "one line says so: $(cat "$SCRATCH/err")" "grep -q '^boot.sh: no TAP or KTAP in the output' '$SCRATCH/err'"
	assertTrue "valid JUnit" "xmllint --noout --schema '$TOPDIR/boot/run/junit.xsd' '$SCRATCH/n.xml'"
	assertTrue "an error entry, no time: $(cat "$SCRATCH/n.xml")" \
		"grep -q 'tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\"' '$SCRATCH/n.xml'"
	assertEquals "JSON says so" "no TAP or KTAP in the output" "$(json "$SCRATCH/n.json" 'd["error"]')"
}

test_report_usage_errors() {
	"$COPY" --junit /nonexistent/r.xml -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "an unwritable place: 125" 125 $?
	assertEquals "one line" "boot.sh: --junit '/nonexistent/r.xml': cannot write in its directory" "$(cat "$SCRATCH/err")"
	# the default bundle is a login prompt: no command, nothing to read
	"$BUNDLE" --json "$SCRATCH/none.json" </dev/null 2>"$SCRATCH/err"
	assertEquals "no command: 125" 125 $?
	assertTrue "says why: $(cat "$SCRATCH/err")" "grep -q 'give one after --' '$SCRATCH/err'"
	assertFalse "no report" "[ -e '$SCRATCH/none.json' ]"
}

# docs/ci.md's runner steps, extracted and run as written, against a bundle
test_the_ci_guide_steps_run_as_written() {
	dir=$SCRATCH/ci-guide
	mkdir -p "$dir"
	sed -n '/^<!-- ci-steps/,/^<!-- end ci-steps/p' "$TOPDIR/docs/ci.md" | sed '/^<!--/d; /^```/d' >"$dir/steps.sh"
	assertTrue "the guide has its steps" "grep -q -- '--junit' '$dir/steps.sh'"
	(cd "$dir" && BUNDLE=$COPY sh -eu steps.sh) >"$dir/out" 2>&1
	assertEquals "the steps succeed: $(cat "$dir/out")" 0 $?
	assertTrue "the JUnit report: $(cat "$dir/reports/junit.xml" 2>&1)" \
		"grep -q 'tests=\"2\" failures=\"0\"' '$dir/reports/junit.xml'"
	assertEquals "the guest saw its kernel and the rw share" "['PASS', 'PASS']" \
		"$(json "$dir/reports/results.json" '[t["status"] for t in d["tests"]]')"
}

. shunit2
