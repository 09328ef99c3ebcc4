#!/usr/bin/env python3
"""Compare umlkit's results with kunit.py's on the same kernel output.

Usage: kunit_compare.py KUNIT_PY UMLKIT_JSON KERNEL_OUTPUT

Runs 'kunit.py parse --json' on KERNEL_OUTPUT and prints, one a line, the
leaf tests (suite path / name: status) where the two disagree, then
'same N' or 'differ N'. kunit.py names a test it never saw '' and calls a
crash ERROR: a crashed test matches on its status alone.
"""
import json
import subprocess
import sys
import tempfile


def kunit_leaves(group, path, out):
    for case in group.get("test_cases", []):
        status = {"ERROR": "CRASHED"}.get(case["status"], case["status"])
        out.append((path, case["name"], status))
    for sub in group.get("sub_groups", []):
        kunit_leaves(sub, path + [sub["name"]], out)


def umlkit_leaves(tests, path, out):
    # kunit.py lists a group's own cases before its subgroups
    for t in tests:
        if not t.get("tests"):
            out.append((path, t["name"], t["status"]))
    for t in tests:
        if t.get("tests"):
            umlkit_leaves(t["tests"], path + [t["name"]], out)


def main():
    kunit_py, ours_file, output = sys.argv[1:4]
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        subprocess.run([sys.executable, kunit_py, "parse", "--json=" + tmp.name, output],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        theirs_json = json.load(open(tmp.name))
    theirs, ours = [], []
    kunit_leaves(theirs_json, [], theirs)
    umlkit_leaves(json.load(open(ours_file))["tests"], [], ours)
    differ = 0
    for i in range(max(len(theirs), len(ours))):
        a = theirs[i] if i < len(theirs) else None
        b = ours[i] if i < len(ours) else None
        if a and b and a[2] == b[2] and (a[2] == "CRASHED" or (a[0], a[1]) == (b[0], b[1])):
            continue
        differ += 1
        print("kunit.py: %s  umlkit: %s" % (
            "%s/%s: %s" % ("/".join(a[0]), a[1], a[2]) if a else "-",
            "%s/%s: %s" % ("/".join(b[0]), b[1], b[2]) if b else "-"))
    print("%s %d" % ("differ" if differ else "same", len(theirs)))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
