#!/bin/bash
# Self-test of the host-side checks of tests/vm/host-lib.sh.
# The manifest check (zc_manifest_check):
# a run's verdicts against a platform manifest must fail for each way a
# green run can hide missing work (a listed case without a verdict, an
# unlisted case, a skip where none is allowed, a listed skip that passed, a
# case reported twice, a malformed line, a partial ZC_CASES run missing a
# named case) and must pass a complete run.
# The backstop over the whole serial log (zc_host_trouble): must catch
# trouble also where a kernel record landed inside a relayed domU line, must
# excuse a declared line there as well, once per declaration, and must not
# take a domU kernel line or a Xen line apart. Runs on the host before every
# VM run (tests/vm/check.sh, tests/vm/arm64/ci.sh); silent on success.
#   bash tests/vm/manifest-selftest.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/host-lib.sh
. "$HERE/host-lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TOP=$T	# zc_manifest_check reads $TOP/tests/manifest/PLAT.txt
mkdir -p "$T/tests/manifest" "$T/tests/vm/guest" "$T/d"
cp "$HERE/guest/zc-lib.sh" "$T/tests/vm/guest/"	# zc_host_trouble's patterns
FAILS=0
cat > "$T/tests/manifest/t.txt" <<'EOF'
# a test manifest
alpha
beta
gamma  SKIP  no such device on this platform
EOF
# verdicts: the lines of a normal run, one per argument ("ok alpha",
# "skip gamma", "fail beta"), framed by vm_setup and vm_teardown
mklog() {
	local v
	{
		echo "ZCHECK: ok - vm_setup"
		for v in "$@"; do
			case $v in
			"ok "*) echo "[ 1.0] ZCHECK: ok - ${v#ok }" ;;
			"skip "*) echo "ZCHECK: ok - ${v#skip } # SKIP why" ;;
			"fail "*) echo "ZCHECK: not ok - ${v#fail }" ;;
			esac
		done
		echo "ZCHECK: ok - vm_teardown"
	} > "$T/log"
}
# want N-PROBLEMS WHAT VERDICTS...: the check finds that many problems
want() {
	local n=$1 what=$2
	shift 2
	mklog "$@"
	zc_manifest_check t "$T/log" > "$T/out"
	if [ "$ZC_MANIFEST_FAILS" != "$n" ]; then
		echo "manifest-selftest: $what: $ZC_MANIFEST_FAILS problems, want $n"
		sed 's/^/  /' "$T/out"
		FAILS=$((FAILS + 1))
	fi
}
unset ZC_CASES
want 0 "a complete run" "ok alpha" "ok beta" "skip gamma"
want 0 "a complete run in another order, a listed case failing" "skip gamma" "fail beta" "ok alpha"
want 1 "a listed case without a verdict" "ok alpha" "skip gamma"
want 1 "the case that may skip did not run" "ok alpha" "ok beta"
want 1 "an unlisted case" "ok alpha" "ok beta" "skip gamma" "ok delta"
want 1 "a skip where none is allowed" "ok alpha" "skip beta" "skip gamma"
want 1 "a listed skip that passed" "ok alpha" "ok beta" "ok gamma"
want 1 "a case reported twice" "ok alpha" "ok alpha" "ok beta" "skip gamma"
mklog "ok alpha" "ok beta" "skip gamma"
grep -v vm_teardown "$T/log" > "$T/log2" && mv "$T/log2" "$T/log"
zc_manifest_check t "$T/log" > "$T/out"
[ "$ZC_MANIFEST_FAILS" = 1 ] || { echo "manifest-selftest: no vm_teardown verdict not caught"; FAILS=$((FAILS + 1)); }
ZC_CASES=alpha
want 0 "a partial run of the named case" "ok alpha"
grep -q '^# partial run' "$T/out" || { echo "manifest-selftest: a partial run not labelled"; FAILS=$((FAILS + 1)); }
want 1 "a partial run missing its named case" "ok beta"
unset ZC_CASES
echo "alpha SKOP bad" >> "$T/tests/manifest/t.txt"
want 1 "a malformed manifest line" "ok alpha" "ok beta" "skip gamma"

# trouble N WHAT LINE...: the backstop over a serial log of these lines (each
# behind a host timestamp, CR-terminated like the console's) reports N lines
trouble() {
	local n=$1 what=$2 l got
	shift 2
	for l in "$@"; do printf '[  12.345] %s\r\n' "$l"; done > "$T/serial"
	zc_host_trouble "$T/serial" "$T/d"
	got=$(wc -l < "$T/d/trouble.log")
	if [ "$got" != "$n" ]; then
		echo "manifest-selftest: backstop: $what: $got trouble lines, want $n"
		sed 's/^/  /' "$T/d/trouble.log"
		FAILS=$((FAILS + 1))
	fi
}
CR=$'\r'
CLAMP="xen_drm_zcopy: max_refs 4294967295 clamped to 1048576"
EXP="    # log: expected: $CLAMP"
trouble 0 "a normal line" "[    1.000000] Freeing unused kernel memory: 2048K"
trouble 1 "a driver line nobody declared" "[    1.000000] $CLAMP"
trouble 0 "a declared driver line" "$EXP" "[    1.000000] $CLAMP"
trouble 0 "a declared driver line inside a relayed domU line" "$EXP" \
	"[domU] zcopy-agent: 1519.1 reset  -> ok 0${CR}[   56.955650] $CLAMP"
trouble 0 "the same, without the CR" "$EXP" "[domU] zcopy-agent: 1519.1 reset  -> ok 0[   56.955650] $CLAMP"
trouble 1 "an undeclared driver line inside a relayed domU line" \
	"[domU] zcopy-agent: 1519.1 reset  -> ok 0${CR}[   56.955650] $CLAMP"
trouble 1 "a line declared once, printed twice" "$EXP" "[    1.000000] $CLAMP" "[    2.000000] $CLAMP"
trouble 1 "a BUG inside a relayed domU line" "[domU] zcopy-agent: 15[   12.000000] BUG: kernel NULL pointer dereference"
trouble 1 "a BUG record after a CR" "[    1.000000] random: crng init done${CR}BUG: unable to handle page fault"
trouble 0 "a domU kernel line" "[domU] [    5.670455] reboot: Power down"
trouble 1 "a domU kernel BUG" "[domU] [    5.670455] BUG: soft lockup - CPU#0 stuck for 22s!"
grep -qx '\[domU\] \[    5.670455\] BUG: soft lockup - CPU#0 stuck for 22s!' "$T/d/trouble.log" ||
	{ echo "manifest-selftest: backstop: a domU kernel line was taken apart"; FAILS=$((FAILS + 1)); }
trouble 1 "a Xen assertion" "(XEN) [   3.000000] Assertion 'x' failed at common/grant_table.c:1"
trouble 0 "an allowed line" "[    1.000000] clocksource: Switched to clocksource xen"
[ $FAILS = 0 ]
