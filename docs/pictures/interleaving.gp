# Chapter 01: what concurrency_vs_parallelism measures, drawn as a schematic (not a measurement):
# two threads with the same work, pinned to one CPU (they take turns: each runs half of its
# life) and free on two CPUs (they run at once, and the job ends in half the time).
# Usage: gnuplot -e "out='interleaving.svg'" docs/pictures/interleaving.gp
set terminal svg size 760,300 dynamic font "sans,12" background "white"
set output out
set xrange [0:12.5]
set yrange [-0.2:6.6]
set xlabel "time (time slices of the scheduler)"
set ytics ("thread 1" 5.0, "thread 2" 4.0, "thread 1" 1.5, "thread 2" 0.5) nomirror
set xtics 0,2,12 nomirror
set border 3
unset key
set style fill solid 0.9 noborder
set label 1 "pinned to one CPU: concurrency, the threads take turns (12 slices)" at 0.15,6.2 font "sans,13"
set label 2 "free on two CPUs: parallelism, both run at once (6 slices)" at 0.15,2.35 font "sans,13"
# x-centre y-centre half-width half-height colour: one row per run of a thread on a CPU.
$runs << EOD
0.5 5.0 0.5 0.32 0x43a047
2.5 5.0 0.5 0.32 0x43a047
4.5 5.0 0.5 0.32 0x43a047
6.5 5.0 0.5 0.32 0x43a047
8.5 5.0 0.5 0.32 0x43a047
10.5 5.0 0.5 0.32 0x43a047
1.5 4.0 0.5 0.32 0x1e88e5
3.5 4.0 0.5 0.32 0x1e88e5
5.5 4.0 0.5 0.32 0x1e88e5
7.5 4.0 0.5 0.32 0x1e88e5
9.5 4.0 0.5 0.32 0x1e88e5
11.5 4.0 0.5 0.32 0x1e88e5
3.0 1.5 3.0 0.32 0x43a047
3.0 0.5 3.0 0.32 0x1e88e5
EOD
# The waits: a thread that is ready but not running, its turn taken by the other.
$waits << EOD
1.5 5.0 0.5 0.1
3.5 5.0 0.5 0.1
5.5 5.0 0.5 0.1
7.5 5.0 0.5 0.1
9.5 5.0 0.5 0.1
0.5 4.0 0.5 0.1
2.5 4.0 0.5 0.1
4.5 4.0 0.5 0.1
6.5 4.0 0.5 0.1
8.5 4.0 0.5 0.1
10.5 4.0 0.5 0.1
EOD
set label 3 "thick bar: running on a CPU" at 6.8,1.5 textcolor rgb "#333333"
set label 4 "thin red bar: ready, waiting for its turn" at 6.8,0.5 textcolor rgb "#e53935"
plot $waits using 1:2:3:4 with boxxyerror lc rgb "#e53935", \
     $runs using 1:2:3:4:5 with boxxyerror lc rgb variable
