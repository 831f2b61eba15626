#!/usr/bin/env python3
"""Counts the TAP results of meson test logs; prints 'N passed, N failed'.

A skipped test counts as failed; a test program that crashed or printed no TAP line counts as one failure;
a plain (exit-status) test counts as one test.
Exits 1 when anything failed or a log is missing."""
import json
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"{path}: missing (the suite did not run)")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdo", t.get("stdout", "")) or ""
        # a skipped test is not a passed one
        skipped = len(re.findall(r"^ok\b.*#\s*SKIP", out, re.M | re.I))
        ok = len(re.findall(r"^ok\b", out, re.M)) - skipped
        bad = len(re.findall(r"^not ok\b", out, re.M))
        if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
            bad = 1     # crashed, timed out or exited non-zero without saying why
        elif t.get("result") == "OK" and ok + bad + skipped == 0 and not re.search(r"^1\.\.\d+", out, re.M):
            ok = 1      # a plain test (exit status only) that passed
        passed += ok
        failed += bad + skipped
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
