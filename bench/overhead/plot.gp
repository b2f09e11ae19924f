# CPU of each audit collector against the exec rate achieved, like Laurel's
# performance study. Called by bench/overhead.sh:
#   gnuplot -e "datafile='cpu.dat'; outfile='overhead.png'" plot.gp
# cpu.dat: one block per collector (its name in the block's first line),
# rows "rate cpu_median cpu_min cpu_max workload".
if (!exists("datafile")) datafile = 'cpu.dat'
if (!exists("outfile")) outfile = 'overhead.png'
set terminal pngcairo size 900,560 font ",11"
set output outfile
set title "Audit collectors: CPU against exec rate (exec of /bin/true; median, bars min-max)"
set xlabel "execs per second achieved (log scale)"
set ylabel "collector CPU, % of one core"
set logscale x
set grid xtics ytics mxtics
set key top left box opaque
set yrange [0:*]
set style data yerrorlines
array colors[5] = ["#7f7f7f", "#d62728", "#1f77b4", "#ff7f0e", "#2ca02c"]
stats datafile using 1 nooutput
plot for [i=0:STATS_blocks-1] datafile index i using 1:2:3:4 \
  title columnheader(1) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb colors[(i % 5) + 1]
