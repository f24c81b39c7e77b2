#!/bin/sh
# Self-test of the per-case checks of tests/vm/guest/zc-lib.sh: the log scan
# (zc_scan) must catch a planted line of every kind of trouble (including
# every error and warning message of the driver, taken from src/*.c, at its
# own log level and as plain text), must not fire on lines of a normal run,
# must notice a dead kmsg reader, lost kernel records and a silent domU
# agent, and must excuse exactly the lines a case declared; the Xen grant
# check (zc_xen_grants) must catch a grant left in use and an incomplete
# dump. Runs on the host with busybox sh (the shell dom0 uses); silent on
# success.
#   busybox sh tests/vm/scan-selftest.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$HERE/guest/zc-lib.sh"
ZC_RUN=$T ZC_KMSG=$T/kmsg ZC_XENLOG=$T/xen ZC_DOMULOG=$T/domu
ZC_EXPECT=$T/expect ZC_KMSG_DEV=$T/kmsg ZC_DOMU=
# stand-ins: 'xl dmesg -c' prints and clears the Xen ring, 'xl debug-keys g'
# adds the grant dump of $T/gdump to it; no sleeping; the kmsg reader
# lives unless $T/dead exists (then its restart is counted)
xl() {
	case $1 in
	dmesg) cat "$T/ring"; : > "$T/ring" ;;
	debug-keys) [ -e "$T/gdump" ] && cat "$T/gdump" >> "$T/ring" ;;
	esac
}
sleep() { :; }
zc_kmsg_alive() { [ ! -e "$T/dead" ]; }
zc_kmsg_start() { rm -f "$T/dead"; echo x >> "$T/restarts"; }
FAILS=0 SEQ=0
fail() { echo "scan-selftest: $*"; FAILS=$((FAILS + 1)); }
# plant LEVEL TEXT: a dom0 kernel record (the next sequence number)
plant() { echo "$1,$SEQ,$SEQ,-;$2" >> "$T/kmsg"; SEQ=$((SEQ + 1)); }
# expect 0|1 LEVEL KMSG-TEXT DOMU-LINE XEN-LINE
expect() {
	: > "$T/ring"
	[ -n "$3" ] && plant "$2" "$3"
	[ -n "$4" ] && echo "$4" >> "$T/domu"
	[ -n "$5" ] && echo "$5" >> "$T/ring"
	zc_scan > "$T/out"
	got=$?
	[ "$got" = "$1" ] || fail "want $1, got $got for: <$2>$3|$4|$5"
}
: > "$T/kmsg"; : > "$T/domu"; : > "$T/ring"
# the boot: warnings before zc_scan_init are not trouble by level alone
plant 4 "acpi PNP0A03:00: fail to add MMCONFIG information"
zc_scan_init
expect 0 6 "" "" ""
# the kernel's own
expect 1 6 "WARNING: CPU: 0 PID: 431 at src/zcopy_drv.c:78 zcopy_open+0x9/0x30" "" ""
expect 1 6 "BUG: kernel NULL pointer dereference, address: 0000000000000008" "" ""
expect 1 6 "BUG kmalloc-64 (Tainted: G O): Poison overwritten" "" ""
expect 1 6 "general protection fault, probably for non-canonical address" "" ""
expect 1 6 "Call Trace:" "" ""
expect 1 6 "INFO: task zctest:123 blocked for more than 120 seconds." "" ""
expect 1 6 "rcu: INFO: rcu_sched self-detected stall on CPU" "" ""
expect 1 6 "WARNING: possible circular locking dependency detected" "" ""
expect 1 6 "refcount_t: underflow; use-after-free." "" ""
expect 1 6 "vkms vkms: [drm] *ERROR* something failed" "" ""
expect 1 6 "vgem vgem: [drm] *WARNING* something odd" "" ""
expect 1 6 "swiotlb buffer is full (sz: 8192 bytes), total 32768 (slots), used 32760 (slots)" "" ""
expect 1 6 "zctest[345]: segfault at 8 ip 000055d0c0a0 sp 00007ffd error 4 in zctest[55d0c0+9000]" "" ""
expect 1 6 "zctest[345]: unhandled exception: DABT (lower EL), ESR 0x92000007, level 3 translation fault" "" ""
# any other kernel warning or error after the start, whatever its text
expect 1 4 "xen:grant_table: xen/grant-table: max_grant_frames reached" "" ""
expect 1 3 "vgem: some error" "" ""
expect 0 5 "some notice" "" ""
# domU console
expect 1 0 "" "[   12.345678] kernel BUG at mm/slub.c:100!" ""
expect 1 0 "" "[    3.300000] Oops: 0000 [#1] PREEMPT SMP NOPTI" ""
expect 1 0 "" "domU: zcopy-agent exited (139), restarting" ""
expect 1 0 "" "zcopy-agent: FATAL: xenstore: Connection reset by peer" ""
expect 1 0 "" "zcopy-agent: ERROR: write rsp: No space left on device" ""
expect 1 0 "" "[   44.100000] zcopy-agent[77]: segfault at 0 ip 0000000000401000 sp 00007ffc error 6" ""
# Xen
expect 1 0 "" "" "(XEN) Assertion 'x' failed at common/grant_table.c:100"
expect 1 0 "" "" "(XEN) Xen BUG at grant_table.c:100"
expect 1 0 "" "" "(XEN) d1v0 domain_crash called from p2m.c:100"
expect 1 0 "" "" "(XEN) Attempt to implicitly unmap a granted PTE c0000000"
expect 1 0 "" "" "(XEN) Panic on CPU 0:"
expect 1 0 "" "" "(XEN) FATAL TRAP: vector = 14 (page fault)"
expect 1 0 "" "" "(XEN) Xen WARN at common/grant_table.c:100"
# harmless lines seen in normal runs
expect 0 6 "ACPI: bus type drm_connector registered" "" ""
expect 0 4 "xen_drm_zcopy: loading out-of-tree module taints kernel." "" ""
expect 0 5 "zc_importer: module verification failed: signature and/or required key missing - tainting kernel" "" ""
expect 0 6 "[drm] Initialized xen_drm_zcopy 1.0.0 20181002 for xen_drm_zcopy on minor 0" "" ""
expect 0 6 "platform xen_drm_zcopy: [drm] Initialized xen_drm_zcopy 1.0.0 for xen_drm_zcopy on minor 1" "" ""
expect 0 6 "" "[    0.000000] Hypervisor detected: Xen PV" ""
expect 0 4 "hrtimer: interrupt took 14986512 ns" "" ""
expect 0 4 "sched: RT throttling activated" "" ""
expect 0 4 "[drm] vkms_vblank_simulate: vblank timer overrun" "" ""
expect 1 4 "vkms_vblank_simulate: something else" "" ""
expect 0 4 "clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because the skew is too large:" "" ""
expect 0 4 "clocksource:                       'tsc' is current clocksource." "" ""
expect 0 4 "tsc: Marking TSC unstable due to clocksource watchdog" "" ""
expect 0 4 "vkms_vblank_simulate: vblank timer overrun" "" ""
expect 0 4 "xen-backend console-2-0: xenbus: device forcefully removed from xenstore" "" ""
expect 0 4 "xen-backend vdispl-12-0: xenbus: device forcefully removed from xenstore" "" ""
expect 1 4 "vdispl-0: xenbus: device forcefully removed from xenstore" "" ""
expect 1 4 "xen-backend vdispl-2-0: xenbus: something else went wrong" "" ""
expect 1 4 "xen-backend vdispl-2-0: xenbus: device forcefully removed from xenstore, and more" "" ""
expect 0 6 "" "zcopy-agent: 123.4 check 5 7 0 4096 -> differ pattern 7 mismatch at byte 0 (page 0): got 0x00" ""
expect 0 6 "" "" "(XEN) ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]"
expect 0 6 "" "" "(XEN) Xen version 4.17.7 (Debian) debug=n"
expect 0 6 "" "" "(XEN) grant_table.c:1234:d0v0 Bad flags (0) or dom (0); expected d1"

# every error and warning of the driver (the first string of each call in
# src/*.c), planted at its own level and as plain text in the domU log
awk '/(pr_(err|warn|crit|alert|emerg)|drm_(err|warn)(_once)?|dev_(err|warn))\(/ { call = ""; on = 1 }
	on { call = call $0 } on && /;/ {
		on = 0
		kind = call; sub(/^[^a-z_]*/, "", kind); sub(/[^a-z_].*/, "", kind)
		rest = call; sub(/^[^"]*"/, "", rest)
		msg = ""
		while (match(rest, /^([^"\\]|\\.)*"/)) {	# concatenated literals
			msg = msg substr(rest, 1, RLENGTH - 1)
			rest = substr(rest, RLENGTH + 1)
			if (!match(rest, /^[ \t]*"/)) break
			rest = substr(rest, RLENGTH + 1)
		}
		sub(/\\n$/, "", msg); gsub(/%[-+ #0-9.]*[a-z]+/, "7", msg)
		if (call ~ /ZCOPY_DRIVER_NAME *":/) msg = "xen_drm_zcopy" msg
		print kind "\t" msg }' "$TOP"/src/*.c > "$T/driver-msgs"
[ -s "$T/driver-msgs" ] || fail "no error or warning message found in $TOP/src/*.c"
while IFS='	' read -r kind msg; do
	case $kind in
	drm_err*) text="platform xen_drm_zcopy: [drm] *ERROR* $msg" lvl=3 ;;
	drm_warn*) text="platform xen_drm_zcopy: [drm] $msg" lvl=4 ;;
	dev_err*) text="platform xen_drm_zcopy: $msg" lvl=3 ;;
	dev_warn*) text="platform xen_drm_zcopy: $msg" lvl=4 ;;
	pr_warn*) text=$msg lvl=4 ;;
	*) text=$msg lvl=3 ;;
	esac
	expect 1 $lvl "$text" "" ""
	expect 1 0 "" "[  9.000000] $text" ""
done < "$T/driver-msgs"

# each line is reported once: the offsets advance
plant 6 "WARNING: once"
zc_scan > /dev/null
expect 0 6 "" "" ""
# a record the reader lost, and the same record read again after a restart
SEQ=$((SEQ + 2))
expect 1 6 "a record after a gap" "" ""
SEQ=$((SEQ - 1))
expect 0 6 "WARNING: seen before the restart" "" ""
# the reader died: trouble, and it is restarted
: > "$T/restarts"; touch "$T/dead"
expect 1 6 "" "" ""
[ -s "$T/restarts" ] || fail "the dead kmsg reader was not restarted"
expect 0 6 "" "" ""
# the domU agent does not answer a ping (stand-ins for the xenstore
# client: an agent that answers and logs each request while $T/agent exists)
mkdir -p "$T/bin"
cat > "$T/bin/xenstore-write" <<EOF
#!/bin/sh
[ -e "$T/agent" ] || exit 0
seq=\${2%% *}
echo "\$seq ok" > "$T/rsp"
echo "zcopy-agent: \$2  -> ok" >> "$T/domu"
EOF
printf '#!/bin/sh\ncat "%s/rsp" 2>/dev/null\n' "$T" > "$T/bin/xenstore-read"
chmod +x "$T/bin/xenstore-write" "$T/bin/xenstore-read"
PATH=$T/bin:$PATH
ZC_DOMU=1
expect 1 6 "" "" ""
grep -q 'did not answer' "$T/out" || fail "a silent agent was not reported"
# ... or answers, and the answer reaches its console log
touch "$T/agent"
expect 0 6 "" "" ""
ZC_DOMU=
# a case declared the warning it provokes: excused once, not twice
echo "still mapped by another domain at unload: leaked" > "$ZC_EXPECT"
expect 0 4 "xen_drm_zcopy: 1 imported buffer(s) still mapped by another domain at unload: leaked" "" ""
grep -q '^# log: expected: ' "$T/out" || fail "an expected line was not reported as expected"
expect 1 4 "xen_drm_zcopy: 1 imported buffer(s) still mapped by another domain at unload: leaked" "" ""

# Xen's grant table usage
gdump() { # gdump ENTRY...: a dump of 'xl debug-keys g' with those d1 entries
	{ echo "(XEN) gnttab_usage_print_all [ key 'g' pressed"
	  echo "(XEN)       -------- active --------       -------- shared --------"
	  echo "(XEN) [ref] localdom mfn      pin          localdom gmfn     flags"
	  echo "(XEN) grant-table for remote d0 (v1)"
	  echo "(XEN)   1 frames (64 max), 1 maptrack frames (1024 max)"
	  echo "(XEN) no active grant table entries"
	  echo "(XEN) grant-table for remote d1 (v1)"
	  echo "(XEN)   1 frames (64 max), 0 maptrack frames (1024 max)"
	  for e in "$@"; do echo "(XEN) $e"; done
	  echo "(XEN) gnttab_usage_print_all ] done"; } > "$T/gdump"
}
RING0="[0x000]      0 0x72802 0x00000002          0 0x072802 0x19"
RING1="[0x001]      0 0x72801 0x00000002          0 0x072801 0x19"
gdump "$RING0" "$RING1"
zc_scan > /dev/null
zc_xen_grants > "$T/out" || fail "baseline: $(cat "$T/out")"
zc_scan > /dev/null
zc_xen_grants > "$T/out" || fail "same dump again: $(cat "$T/out")"
gdump "$RING0" "$RING1" "[0x00c]      0 0x73000 0x00000001          0 0x073000 0x19"
zc_scan > /dev/null
zc_xen_grants > "$T/out" && fail "a grant of d1 mapped by dom0 was not reported"
grep -q 'grant 0x00c of d1 still mapped by d0' "$T/out" || fail "report: $(cat "$T/out")"
gdump "$RING0" "$RING1"
zc_scan > /dev/null
zc_xen_grants > "$T/out" || fail "released again: $(cat "$T/out")"
grep -v 'pressed' "$T/gdump" > "$T/g2"; mv "$T/g2" "$T/gdump"
zc_scan > /dev/null
zc_xen_grants > "$T/out" && fail "an incomplete dump was accepted"
gdump "$RING0" "$RING1"
zc_scan > /dev/null
zc_xen_grants /dev/null > "$T/out" && fail "at teardown, the rings still mapped were not reported"
[ $FAILS = 0 ]
