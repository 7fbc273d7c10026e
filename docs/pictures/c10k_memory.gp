# Chapter 09: what idle connections cost each server, as c10k_client measured it while the
# docs were built (docs/pictures/draw writes the data: connections, then each server's
# resident memory in MB and its thread count).
# Usage: gnuplot -e "out='c10k_memory.svg'; data='c10k_memory.dat'" docs/pictures/c10k_memory.gp
set terminal svg size 760,340 dynamic font "sans,12" background "white"
set output out
set title "Resident memory while holding N idle connections (c10k\\_client, measured at docs build)"
set ylabel "resident memory (MB)"
set xlabel "idle connections held (and thread\\_server's threads)"
set xlabel offset 0,-0.6
set bmargin 5
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 noborder
set boxwidth 0.9
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set key top left
set grid ytics lc rgb "#dddddd"
set border 3
set xtics nomirror
set ytics nomirror
# Two bars per group, a third of the slot wide each: their centres sit 1/6 either side of it.
plot data using 2:xtic(sprintf("%d\n(%d threads)", $1, $5)) \
         title "loop\\_server: 1 thread" lc rgb "#43a047", \
     '' using 4 title "thread\\_server: a thread per connection" lc rgb "#e53935", \
     '' using ($0 - 1.0/6):2:(sprintf("%.1f MB", $2)) with labels offset 0,0.7 \
         font "sans,10" notitle, \
     '' using ($0 + 1.0/6):4:(sprintf("%.1f MB", $4)) with labels offset 0,0.7 \
         font "sans,10" notitle
