# SPDX-License-Identifier: GPL-2.0
# The scaling plot of `make bench` (tests/bench/bench.sh):
#   gnuplot -e "dat='scaling.dat'; png='out.png'; arch='x86_64'" scaling.gp
# scaling.dat columns: refs, FROM_REFS+export+import ms, gntdev map+mmap ms,
# their us/ref, TO_REFS (vgem buffer + import + TO_REFS) ms, gntalloc ms,
# their us/ref, the TO_REFS ioctl alone ms (medians).
set terminal pngcairo size 1200,500 font ",10" noenhanced
set output png
set multiplot layout 1,2 title sprintf("xen-zcopy set-up cost against the number of 4 KiB grant refs (%s dom0, Xen 4.17 under QEMU TCG; medians)", arch)
set logscale x 2
set xlabel "grant refs"
set grid
set key top left
set format x "%g"
set logscale y 10
set ylabel "set-up, ms"
set title "set-up time"
plot dat using 1:2 with linespoints lw 2 title "FROM_REFS + export + vgem import", \
     dat using 1:3 with linespoints lw 2 title "gntdev MAP_GRANT_REF + mmap", \
     dat using 1:6 with linespoints lw 2 dt 2 title "vgem buffer + import + TO_REFS", \
     dat using 1:7 with linespoints lw 2 dt 2 title "gntalloc ALLOC_GREF"
set ylabel "set-up per ref, us"
set title "per-ref cost"
set key top right
plot dat using 1:4 with linespoints lw 2 title "FROM_REFS + export + vgem import", \
     dat using 1:5 with linespoints lw 2 title "gntdev MAP_GRANT_REF + mmap", \
     dat using 1:8 with linespoints lw 2 dt 2 title "vgem buffer + import + TO_REFS", \
     dat using 1:9 with linespoints lw 2 dt 2 title "gntalloc ALLOC_GREF", \
     dat using 1:($10 * 1000 / $1) with linespoints lw 2 dt 3 lc rgb "black" title "TO_REFS ioctl alone"
unset multiplot
