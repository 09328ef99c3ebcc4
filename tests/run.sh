#!/bin/sh
# Run shunit2 suites and total them: the last line is "N passed, N failed"
# (", N skipped" when tests skipped), after the names of the failed and
# skipped tests.
# Usage: run.sh SUITE...   (tests/test_SUITE.sh; SUITE may be NAME:ENV=VALUE;
# unit/NAME is the C unit test $CHECK_O/build/unit/test_NAME, whose TAP
# lines are counted, a case a test)
set -u
passed=0 failed=0 skipped=0 failures='' skips='' scratch='' log=''
# a suite's scratch space goes when the suite does, and on any way out
clean_up() {
	[ -n "$scratch" ] && chmod -R u+rwx "$scratch" 2>/dev/null
	rm -rf "$scratch" "$log"
	scratch='' log=''
}
trap clean_up EXIT
trap 'clean_up; exit 130' INT
trap 'clean_up; exit 143' TERM
for spec in "$@"; do
	suite=${spec%%:*}
	env=
	[ "$suite" != "$spec" ] && env=${spec#*:}
	echo ">>> test: $suite${env:+ ($env)}"
	log=$(mktemp)
	case $suite in
	unit/*)
		"$CHECK_O/build/unit/test_${suite#unit/}" >"$log" 2>&1
		code=$?
		grep -A1 '^not ok' "$log"
		ok=$(grep -c '^ok ' "$log")
		bad=$(grep -c '^not ok ' "$log")
		if [ "$code" -ne 0 ] && [ "$bad" -eq 0 ]; then
			tail -n 5 "$log"
			bad=1
		fi
		passed=$((passed + ok))
		failed=$((failed + bad))
		[ "$bad" -eq 0 ] || failures="$failures $suite"
		echo "$ok passed, $bad failed"
		clean_up
		continue ;;
	esac
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/umlkit-test.XXXXXX")
	# shellcheck disable=SC2086 # env is VAR=value words
	env UMLKIT_TEST_SCRATCH="$scratch" $env sh "$TOPDIR/tests/test_$suite.sh" 2>&1 | tee "$log"
	ran=$(sed -n 's/^Ran \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	# shunit2 counts failed assertions; we count failed tests: those
	# with an ASSERT or ERROR line after their name. A test that skips
	# prints a "SKIP: reason" line of its own.
	bad=$(awk '/^test_/ { t = $1 } /^(ASSERT|shunit2:ERROR)/ && t != "" { bad[t] = 1 }
		END { for (k in bad) print k }' "$log")
	skip=$(awk '/^test_/ { t = $1 } /^SKIP: / && t != "" { print t ": " substr($0, 7) }' "$log")
	if [ -z "$ran" ]; then
		echo "suite $suite did not finish"
		failed=$((failed + 1))
		failures="$failures $suite(did not finish)"
	else
		fails=$(printf '%s' "$bad" | grep -c . || :)
		nskip=$(printf '%s' "$skip" | grep -c . || :)
		failed=$((failed + fails))
		skipped=$((skipped + nskip))
		passed=$((passed + ran - fails - nskip))
		for t in $bad; do failures="$failures $suite:$t"; done
		[ -n "$skip" ] && skips="$skips$(printf '%s\n' "$skip" | sed "s/^/  $suite:/")
"
	fi
	clean_up
done
[ -n "$skips" ] && printf 'skipped:\n%s' "$skips"
[ -n "$failures" ] && printf 'failed:%s\n' "$failures"
echo "$passed passed, $failed failed${skipped:+, $skipped skipped}" | sed 's/, 0 skipped$//'
[ "$failed" -eq 0 ]
