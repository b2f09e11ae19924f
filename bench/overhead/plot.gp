# Two panels from bench/overhead.sh's summary files:
#  left:  each collector's CPU against the exec rate achieved, like Laurel's
#         performance study (exec of /bin/true; median, bars min-max);
#  right: each collector's median CPU for every workload.
# Called by bench/overhead.sh:
#   gnuplot -e "dir='RESULTS_DIR'" plot.gp      (reads cpu.dat, workloads.dat;
#                                                 writes overhead.png)
# cpu.dat: one block per collector (its name in the block's first line),
# rows "rate cpu_median cpu_min cpu_max workload"; workloads.dat: a header
# of collector names, then "workload cpu_median..." per workload.
if (!exists("dir")) dir = '.'
set terminal pngcairo size 1400,560 font ",10"
set output dir.'/overhead.png'
array colors[5] = ["#7f7f7f", "#d62728", "#1f77b4", "#ff7f0e", "#2ca02c"]
set multiplot layout 1,2

# The left panel needs exec workloads in the run (cpu.dat has data rows).
has_exec = int(system("grep -qE '^[0-9]' '".dir."/cpu.dat' && echo 1 || echo 0"))
if (!has_exec) set multiplot next
if (has_exec) {
set title "CPU against exec rate (exec of /bin/true; median, bars min-max)"
set xlabel "execs per second achieved"
set ylabel "collector CPU, % of one core"
set grid xtics ytics
set key top left box opaque
set yrange [0:*]
set offsets graph 0.05, graph 0.05, 0, 0
stats dir.'/cpu.dat' using 1 nooutput
plot for [i=0:STATS_blocks-1] dir.'/cpu.dat' index i using 1:2:3:4 \
  title columnheader(1) with yerrorbars lw 2 pt 7 ps 1.3 lc rgb colors[(i % 5) + 1]
}

set yrange [0:*]
set title "CPU per workload (median of the repetitions)"
set xlabel "workload (exec: /bin/true at 100, 1000, 3000/s and as fast as possible; tcp, file: 1000/s)"
set ylabel "collector CPU, % of one core"
set offsets 0, 0, 0, 0
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics nomirror
set grid noxtics ytics
stats dir.'/workloads.dat' using 2 skip 1 nooutput
columns = STATS_columns
plot for [c=2:columns] dir.'/workloads.dat' using c:xtic(1) title columnheader(c) lc rgb colors[c - 1]
unset multiplot
