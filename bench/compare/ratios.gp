# Bar chart of the troupe/peer ratios that bench/compare/compare.py writes
# with --chart-data (bench/compare.sh calls this after the table):
#
#   gnuplot -e "data='RUN.tsv'; out='RUN.png'" bench/compare/ratios.gp
#
# One row per workload configuration and metric, top to bottom in the table's
# order, with one bar against Erlang and one against Go. The x axis is the
# ratio on a log scale, oriented as in the table (> 1: troupe is better); each
# bar starts at 1.0 (the black line, parity), so a bar to the right is a lead
# for troupe and one to the left a deficit, and the figure at its end is the
# ratio. A missing ratio (Go has no links or monitors) has no bar.
#
# Optional -e variables: title (default: the TSV's "# title:" and
# "# subtitle:" lines) and width (pixels, default 1100). Needs gnuplot's pngcairo terminal (Debian package
# gnuplot-nox).

if (!exists("data")) { print "ratios.gp: give the TSV with -e \"data='RUN.tsv'; out='RUN.png'\""; exit status 2 }
if (!exists("out")) { out = data[1:strlen(data) - (data[strlen(data)-3:] eq ".tsv" ? 4 : 0)] . ".png" }
if (!exists("title")) {
    title = system("sed -n 's/^# title: //p' '" . data . "' | head -n 1")
    subtitle = system("sed -n 's/^# subtitle: //p' '" . data . "' | head -n 1")
    if (strlen(subtitle) > 0) { title = title . "\n" . subtitle }
}
if (!exists("width")) { width = 1100 }
peers = system("sed -n 's/^# peers: //p' '" . data . "' | head -n 1")
has_erlang = strstrt(" " . peers . " ", " erlang ") > 0
has_go = strstrt(" " . peers . " ", " go ") > 0

set datafile separator "\t"
set datafile commentschars "#"

# Rows and range. A NaN field makes any plain $N expression of its line
# undefined (so its bar is skipped); v(c) reads a missing ratio as 1 instead,
# which changes no extreme, so that stats sees every row.
v(c) = valid(c) ? column(c) : 1
if (int(system("grep -cv '^#' '" . data . "' || true")) == 0) {
    print "ratios.gp: no ratios in " . data . " (no troupe figures?), no chart"
    exit status 3
}
stats data using (v(5)):(v(6)) nooutput
rows = STATS_records
lo = STATS_min_x < STATS_min_y ? STATS_min_x : STATS_min_y
hi = STATS_max_x > STATS_max_y ? STATS_max_x : STATS_max_y
lo = lo < 1 ? lo : 1
hi = hi > 1 ? hi : 1
# Room for the figures at the bars' ends: about 0.6 of a decade each side.
xmin = lo / 4.0
xmax = hi * 4.0

set terminal pngcairo size width, (190 + 34 * rows) enhanced font "DejaVu Sans,10" background rgb "white"
set output out

# The title centred on the picture, not on the plot (which the labels push right).
set label 3 title at screen 0.5, screen 1 offset 0, -1.5 center noenhanced font "DejaVu Sans,12"
set logscale x 10
set xrange [xmin:xmax]
set xtics ("0.001×" 0.001, "0.002×" 0.002, "0.005×" 0.005, \
           "0.01×" 0.01, "0.02×" 0.02, "0.05×" 0.05, \
           "0.1×" 0.1, "0.2×" 0.2, "0.5×" 0.5, \
           "1×" 1, "2×" 2, "5×" 5, \
           "10×" 10, "20×" 20, "50×" 50, \
           "100×" 100, "200×" 200, "500×" 500, "1000×" 1000)
set xtics nomirror
set mxtics default
set label 1 "troupe better →" at 1.12, graph 1 offset 0, 0.8 left font "DejaVu Sans,10" tc rgb "#444444"
set label 2 "← peer better" at 1 / 1.12, graph 1 offset 0, 0.8 right font "DejaVu Sans,10" tc rgb "#444444"
set xlabel "troupe vs peer: rate troupe/peer, time or size peer/troupe (log scale; > 1: troupe is better)" noenhanced
set grid xtics lc rgb "#dddddd" lw 1
set yrange [rows - 0.5 : -0.5]
set ytics nomirror scale 0 noenhanced font "DejaVu Sans,10"
set key outside bottom center horizontal samplen 2 width 2 font "DejaVu Sans,10"
set border 3 lc rgb "#666666"
set tmargin 5.5
set bmargin 6

# Parity line.
set arrow 1 from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "black" front

# Light bands under every other row, to follow a row to its label.
do for [i = 0 : rows - 1 : 2] {
    set object (10 + i) rectangle from graph 0, first (i - 0.5) to graph 1, first (i + 0.5) \
        behind fillstyle solid 1.0 noborder fillcolor rgb "#f3f3f3"
}

erlang_color = "#a90533"
go_color = "#00add8"
bh = 0.17  # half-height of one bar
off = 0.19 # distance of a bar's centre from its row's centre
set style fill solid 0.85 noborder

fig(x) = x >= 9.95 ? sprintf("%.0f×", x) : x >= 0.995 ? sprintf("%.1f×", x) : x >= 0.0995 ? sprintf("%.2f×", x) : sprintf("%.3f×", x)
# The figure beyond the bar's end: right of a bar > 1, left of one < 1.
right(x) = (x == x && x >= 1) ? x * 1.08 : NaN
left(x) = (x == x && x < 1) ? x / 1.08 : NaN

plot \
    data using (1):0:ytic(4) with points pointtype -1 notitle, \
    data using (sqrt($5)):($0 - off):(1 < $5 ? 1 : $5):(1 < $5 ? $5 : 1):($0 - off - bh):($0 - off + bh) \
        with boxxyerror lc rgb erlang_color title (has_erlang ? "vs Erlang" : ""), \
    data using (sqrt($6)):($0 + off):(1 < $6 ? 1 : $6):(1 < $6 ? $6 : 1):($0 + off - bh):($0 + off + bh) \
        with boxxyerror lc rgb go_color title (has_go ? "vs Go" : ""), \
    data using (right($5)):($0 - off):(fig($5)) with labels left font "DejaVu Sans,9" tc rgb erlang_color notitle, \
    data using (left($5)):($0 - off):(fig($5)) with labels right font "DejaVu Sans,9" tc rgb erlang_color notitle, \
    data using (right($6)):($0 + off):(fig($6)) with labels left font "DejaVu Sans,9" tc rgb go_color notitle, \
    data using (left($6)):($0 + off):(fig($6)) with labels right font "DejaVu Sans,9" tc rgb go_color notitle
