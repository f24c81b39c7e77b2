#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run in dom0 by `make bench` (tests/vm/guest/dom0-suite.sh --bench): $1 is
# the domU's id. One boot, both paths side by side:
#   1. zcbench (tests/bench/*.c): the CPU consumer per frame, the scaling
#      curves, the SYNC cost; every part checks its data
#   2. the phase profile: ftrace function_graph around one traced cycle of
#      each operation (time in gnttab_map_refs vs allocation vs PRIME ...)
#   3. the display part (display-bench.sh, when the image has it: the
#      scan-out comparison through the displif backend)
# Knobs (dom0 kernel command line, set by tests/bench/bench.sh from the
# host's ZC_BENCH* variables):
#   zc.bench=full|smoke   full: the issue's sizes, 5 runs; smoke: CI's
#                         short run (small sizes, 3 runs, no profile)
#   zc.bench_reps= zc.bench_frames= zc.bench_calls= zc.bench_sizes=WxH,..
#   zc.bench_refs=N,.. zc.bench_sync=N,.. zc.bench_profile=0|1
#   zc.bench_parts=frame,scale,sync   only these parts of zcbench
# Exit status: non-zero when any check failed.
. /zc/zc-lib.sh
D=${1:?domU id}
B=/zc/bench
case $(zc_arg zc.bench full) in
smoke)	reps=3 frames=3 calls=20 sizes=1920x1080 refs=1,256,2025 sync=1,256,2025 profile=0 ;;
*)	reps=5 frames=10 calls=100 sizes=1920x1080,3840x2160
	refs=1,16,256,2025,8100,32768,65536 sync=1,16,256,2025,8100 profile=1 ;;
esac
reps=$(zc_arg zc.bench_reps $reps)
frames=$(zc_arg zc.bench_frames $frames)
calls=$(zc_arg zc.bench_calls $calls)
sizes=$(zc_arg zc.bench_sizes $sizes)
refs=$(zc_arg zc.bench_refs $refs)
sync=$(zc_arg zc.bench_sync $sync)
profile=$(zc_arg zc.bench_profile $profile)
parts=$(zc_arg zc.bench_parts frame,scale,sync)
rc=0

echo "== the machine =="
echo "   Xen $(xl info xen_version) $(xl info xen_caps | cut -d' ' -f1), $(xl info nr_cpus) CPU(s) (QEMU -smp), $(xl info total_memory) MiB"
echo "   dom0: $(nproc) vCPU(s), $(uname -r) $(uname -m);" \
	"domU $D: $(xl vcpu-list "$D" 2>/dev/null | tail -n +2 | wc -l) vCPU(s), $(xl list "$D" | awk 'NR == 2 { print $3 }') MiB"
echo "   (all domains share the QEMU CPU(s); the host's CPU, cores and load are printed by the host)"

sz=
for s in $(echo "$sizes" | tr ',' ' '); do sz="$sz --size $s"; done
# shellcheck disable=SC2086
$B/zcbench --domu "$D" --reps "$reps" --frames "$frames" --calls "$calls" $sz \
	--refs "$refs" --sync "$sync" --parts "$parts" || rc=1

# ---------------------------------------------------------------- profile
T=/sys/kernel/debug/tracing
FROM_FNS="zcopy_ioctl_from_refs zcopy_map_grants kvmalloc_node gnttab_alloc_pages
	xen_alloc_unpopulated_pages gnttab_map_refs set_foreign_p2m_mapping
	drm_gem_prime_handle_to_fd drm_gem_prime_fd_to_handle zcopy_dmabuf_map
	zcopy_buf_sgt xen_swiotlb_map_sg zcopy_sgt_needs_sync zcopy_dmabuf_unmap
	xen_swiotlb_unmap_sg zcopy_ioctl_wait_free zcopy_gem_free gnttab_unmap_refs
	gnttab_unmap_refs_async clear_foreign_p2m_mapping gnttab_free_pages
	gntdev_ioctl gntdev_alloc_map gntdev_mmap gntdev_map_grant_pages
	apply_to_page_range gntdev_put_map gntdev_free_map gntdev_vma_close
	zap_page_range_single unmap_mapping_range"
TO_FNS="drm_gem_shmem_dumb_create drm_gem_prime_handle_to_fd drm_gem_prime_fd_to_handle
	zcopy_ioctl_to_refs zcopy_to_refs zcopy_grant_frames zcopy_import_frames
	drm_gem_shmem_get_pages_sgt drm_gem_shmem_get_pages xen_swiotlb_map_sg
	zcopy_dma_map_sg gnttab_grant_foreign_access gnttab_alloc_grant_references
	gnttab_end_foreign_access gnttab_free_grant_references zcopy_import_release
	drm_gem_shmem_free gntalloc_ioctl __alloc_pages zcopy_gem_prime_import
	zcopy_gem_import_sg_table dma_buf_attach dma_buf_map_attachment drm_gem_map_attach
	drm_gem_map_dma_buf drm_gem_shmem_pin drm_gem_get_pages drm_prime_pages_to_sg
	drm_gem_shmem_get_sg_table zcopy_import_revoke gnttab_try_end_foreign_access
	dma_buf_detach drm_gem_map_detach drm_gem_shmem_unpin drm_gem_put_pages
	dma_buf_unmap_attachment set_pages_array_wc set_pages_array_wb drm_gem_shmem_pin"
SYNC_FNS="dma_buf_ioctl zcopy_dmabuf_begin_cpu zcopy_dmabuf_end_cpu
	xen_swiotlb_sync_sg_for_cpu xen_swiotlb_sync_sg_for_device
	dma_direct_sync_sg_for_cpu dma_direct_sync_sg_for_device
	xen_swiotlb_sync_single_for_cpu xen_swiotlb_sync_single_for_device
	arch_sync_dma_for_cpu arch_sync_dma_for_device"

# profile OP N FUNCTION...: one traced cycle; per function: calls, total ms
profile() {
	op=$1 n=$2
	shift 2
	echo 0 > $T/tracing_on
	echo nop > $T/current_tracer
	: > $T/set_ftrace_filter
	ok=
	for f in "$@"; do echo "$f" >> $T/set_ftrace_filter 2>/dev/null && ok="$ok $f"; done
	echo 16384 > $T/buffer_size_kb
	echo 1 > $T/options/funcgraph-tail 2>/dev/null
	echo function_graph > $T/current_tracer
	: > $T/trace
	echo
	if ! ZC_BENCH_TRACE=1 $B/zcbench --domu "$D" --profile "$op:$n" > /run/zc/profile.out 2>&1; then
		cat /run/zc/profile.out
		echo "zcbench: FAIL: profile $op:$n"
		return 1
	fi
	echo "== profile: $(sed -n 's/^profile //p' /run/zc/profile.out) =="
	echo "   ftrace function_graph, only these functions timed (nested ones counted in their caller too);"
	echo "   tracing slows every call, so compare shares, not absolute times"
	awk -F'|' 'NF >= 2 && $1 ~ /us/ {
		d = $1; sub(/^ *[0-9]+\)/, "", d); gsub(/[^0-9.]/, "", d)
		f = $2; sub(/^ */, "", f)
		if (f ~ /^} \/\* /) { sub(/^} \/\* /, "", f); sub(/ \*\/.*/, "", f) }
		else if (f ~ /\(\);/) sub(/\(\);.*/, "", f)
		else next
		sub(/ \[.*\]$/, "", f); sub(/\(\)$/, "", f)
		c[f]++; t[f] += d
	} END { for (f in c) printf "   %-34s %8d %12.3f\n", f, c[f], t[f] / 1000 }' $T/trace |
		sort -k3 -n -r > /run/zc/profile.tab
	printf '   %-34s %8s %12s\n' function calls "total ms"
	cat /run/zc/profile.tab
	[ -s /run/zc/profile.tab ] || echo "   (no traced call: none of the functions exists here:$ok)"
	echo nop > $T/current_tracer
	: > $T/set_ftrace_filter
	return 0
}

if [ "$profile" = 1 ] && [ $rc = 0 ]; then
	if [ -w $T/current_tracer ] && grep -qw function_graph $T/available_tracers; then
		for n in 8100 65536; do
			case ",$refs," in *",$n,"*) ;; *) continue ;; esac
			# shellcheck disable=SC2086
			{ profile zc-from $n $FROM_FNS && profile gntdev $n $FROM_FNS; } || rc=1
		done
		# shellcheck disable=SC2086
		{ profile zc-to 8100 $TO_FNS && profile gntalloc 8100 $TO_FNS &&
			profile sync 8100 $SYNC_FNS; } || rc=1
	else
		echo "profile: no ftrace function_graph tracer in this kernel: skipped"
	fi
fi

# ---------------------------------------------------------------- display part
if [ -e $B/display-bench.sh ]; then
	# the same runs, and the largest frame of the CPU part that the 6.1
	# frontend can show: drm_xen_front's mode_config max is 4095x2047, so
	# 2560x1600 (a DMT mode vkms offers) stands in for 4K in full mode
	export ZC_BENCH_REPS="$reps" ZC_BENCH_DISPLAY_FRAMES=$((frames * 3))
	dsize=${sizes##*,}
	w=${dsize%x*} h=${dsize#*x}
	if [ "$w" -gt 4095 ] || [ "$h" -gt 2047 ]; then dsize=2560x1600; fi
	export ZC_BENCH_DISPLAY_SIZE="$dsize"
	sh $B/display-bench.sh || rc=1
else
	echo
	echo "== scan-out (KMS flip against memcpy + flip, through the display backend): not in this image =="
fi
exit $rc
