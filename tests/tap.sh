# tap.sh: the TAP helpers of the shell tests, sourced after $T (the
# test's scratch folder) is set.  Each test ends with: echo "1..$n".
n=0
fails=0

ok () { n=$((n + 1)); echo "ok $n - $1"; }
nok () { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds, else its output
# as TAP comments
check () { desc=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$desc"; else nok "$desc"; sed 's/^/# /' "$T/out"; fi; }
