#!/bin/sh
# Run shunit2 suites and total them: the last line is "N passed, N failed".
# Usage: run.sh SUITE...   (tests/test_SUITE.sh; SUITE may be NAME:ENV=VALUE)
set -u
passed=0 failed=0
for spec in "$@"; do
	suite=${spec%%:*}
	env=
	[ "$suite" != "$spec" ] && env=${spec#*:}
	echo ">>> test: $suite${env:+ ($env)}"
	log=$(mktemp)
	# shellcheck disable=SC2086 # env is VAR=value words
	env $env sh "$TOPDIR/tests/test_$suite.sh" 2>&1 | tee "$log"
	ran=$(sed -n 's/^Ran \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	# shunit2 counts failed assertions; we count failed tests: those
	# with an ASSERT or ERROR line after their name
	fails=$(awk '/^test_/ { t = $1 } /^(ASSERT|shunit2:ERROR)/ && t != "" { bad[t] = 1 }
		END { n = 0; for (k in bad) n++; print n }' "$log")
	if [ -z "$ran" ]; then
		echo "suite $suite did not finish"
		failed=$((failed + 1))
	else
		failed=$((failed + fails))
		passed=$((passed + ran - fails))
	fi
	rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
