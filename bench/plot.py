#!/usr/bin/env python3
"""Draws the benchmarks' figures from their own CSV output (Python standard library only).

    python3 bench/plot.py [CSV_DIR] [--out DIR]

CSV_DIR (default: build/bench-out) holds the CSVs the benchmarks write with `--csv CSV_DIR`; each
figure is drawn when its CSV is there (at least one must be); the figures go to DIR (default:
docs/img):
  storm-latency.svg         median and p99 latency of a storm / a single normal call, by callers
                            (storm.csv, mcp_recovery_bench_storm)
  recovery-vs-payload.svg   recovery / normal call of the same size, by params size (payload.csv,
                            mcp_recovery_bench_storm)
  recovery-vs-outage.svg    server back -> first successful call, and server down -> first
                            successful call, by outage length (outage.csv, mcp_recovery_bench_outage)
  gateway-memory.svg        resident memory and heap of a gateway process, by idle clients; and per
                            client (gateway_memory.csv, mcp_recovery_bench_gateway)
Hand-written SVG line charts: log or linear axes, ticks, labels, legend.
"""
import csv
import math
import os
import sys
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BLUE, RED, GREY = "#1f6fb4", "#d1452f", "#8a8a8a"


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def nice_linear_ticks(lo, hi, count=5):
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def log_ticks(lo, hi):
    """Decades, with 2 and 5 between them when the range spans fewer than three decades."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mults = (1, 2, 5) if b - a < 3 else (1,)
    ticks = [m * 10 ** e for e in range(a, b + 1) for m in mults]
    return [t for t in ticks if lo * 0.999 <= t <= hi * 1.001]


def log_bound(v, down):
    """The nearest 1, 2 or 5 times a power of ten below (down) or above `v`."""
    e = math.floor(math.log10(v))
    steps = [m * 10 ** k for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
    return max(t for t in steps if t <= v) if down else min(t for t in steps if t >= v)


def human_bytes(n):
    n = int(n)
    for unit, size in (("MB", 10 ** 6), ("KB", 10 ** 3)):
        if n >= size:
            return "%g %s" % (n / size, unit)
    return "%d B" % n


def fmt(v):
    if v >= 1e6 and v % 1e6 == 0:
        return "%gM" % (v / 1e6)
    if v >= 1e3 and v % 1e3 == 0:
        return "%gk" % (v / 1e3)
    return "%g" % v


class Axis:
    def __init__(self, lo, hi, log, pixel_lo, pixel_hi):
        self.lo, self.hi, self.log = lo, hi, log
        self.p0, self.p1 = pixel_lo, pixel_hi

    def __call__(self, v):
        if self.log:
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo)
        return self.p0 + f * (self.p1 - self.p0)


def panel(out, x0, y0, w, h, title, xlabel, ylabel, series, xlog, ylog, xticks=None, hlines=()):
    """One chart in the box (x0, y0, w, h); `series`: dicts with label, color, dash, points."""
    xs = [x for s in series for x, _ in s["points"]]
    ys = [y for s in series for _, y in s["points"]] + [v for v, _ in hlines]
    if ylog:
        ylo, yhi = log_bound(min(ys), down=True), log_bound(max(ys), down=False)
    else:
        ylo, yhi = 0.0, max(ys) * 1.15
        ticks = nice_linear_ticks(ylo, yhi)
        yhi = max(yhi, ticks[-1])
    if xlog:
        xlo, xhi = min(xs) / 1.3, max(xs) * 1.3
    else:
        xlo, xhi = min(xs), max(xs)
    left, right, top, bottom = x0 + 64, x0 + w - 12, y0 + 34, y0 + h - 48
    X = Axis(xlo, xhi, xlog, left, right)
    Y = Axis(ylo, yhi, ylog, bottom, top)
    out.append('<text x="%.1f" y="%.1f" class="title">%s</text>' % ((left + right) / 2, y0 + 18, escape(title)))
    # grid and ticks
    for t in (log_ticks(ylo, yhi) if ylog else nice_linear_ticks(ylo, yhi)):
        y = Y(t)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>' % (left, y, right, y))
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>' % (left - 5, y, left, y))
        out.append('<text x="%.1f" y="%.1f" class="ytick">%s</text>' % (left - 8, y + 4, fmt(t)))
    for t in (xticks or (log_ticks(xlo, xhi) if xlog else nice_linear_ticks(xlo, xhi))):
        x = X(t)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>' % (x, top, x, bottom))
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>' % (x, bottom, x, bottom + 5))
        out.append('<text x="%.1f" y="%.1f" class="xtick">%s</text>' % (x, bottom + 18, fmt(t)))
    # axes
    out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>' % (left, bottom, right, bottom))
    out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>' % (left, top, left, bottom))
    out.append('<text x="%.1f" y="%.1f" class="label">%s</text>' % ((left + right) / 2, bottom + 38, escape(xlabel)))
    out.append('<text transform="translate(%.1f %.1f) rotate(-90)" class="label">%s</text>'
               % (x0 + 16, (top + bottom) / 2, escape(ylabel)))
    for v, label in hlines:
        y = Y(v)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="2 3"/>'
                   % (left, y, right, y, GREY))
        out.append('<text x="%.1f" y="%.1f" class="note">%s</text>' % (right - 4, y - 5, escape(label)))
    # data
    for s in series:
        pts = sorted(s["points"])
        path = " ".join("%.1f,%.1f" % (X(x), Y(y)) for x, y in pts)
        dash = ' stroke-dasharray="%s"' % s["dash"] if s.get("dash") else ""
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (path, s["color"], dash))
        for x, y in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (X(x), Y(y), s["color"]))


def legend(out, x, y, series, columns):
    col_w = 250
    for i, s in enumerate(series):
        cx, cy = x + (i % columns) * col_w, y + (i // columns) * 20
        dash = ' stroke-dasharray="%s"' % s["dash"] if s.get("dash") else ""
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>'
                   % (cx, cy, cx + 26, cy, s["color"], dash))
        out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (cx + 13, cy, s["color"]))
        out.append('<text x="%.1f" y="%.1f" class="legend">%s</text>' % (cx + 32, cy + 4, escape(s["label"])))


def svg(width, height, body, subtitle):
    head = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        'font-family="Helvetica, Arial, sans-serif">' % (width, height, width, height),
        "<style>"
        ".title{font-size:14px;font-weight:bold;text-anchor:middle}"
        ".label{font-size:12px;text-anchor:middle}"
        ".xtick{font-size:11px;text-anchor:middle}"
        ".ytick{font-size:11px;text-anchor:end}"
        ".legend{font-size:12px}"
        ".note{font-size:11px;text-anchor:end;fill:#666}"
        ".sub{font-size:11px;fill:#666;text-anchor:middle}"
        ".grid{stroke:#e3e3e3}"
        ".axis{stroke:#333}"
        "</style>",
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    tail = ['<text x="%d" y="%d" class="sub">%s</text>' % (width / 2, height - 8, escape(subtitle)), "</svg>"]
    return "\n".join(head + body + tail) + "\n"


STYLE = {
    ("sync", "single_flight"): ("sync: single flight (mcp-recovery)", BLUE, None),
    ("sync", "naive"): ("sync: naive per-call reconnect", RED, None),
    ("sync", "no_expiry"): ("sync: no expiry (reference)", GREY, None),
    ("async", "single_flight"): ("async: single flight (mcp-recovery)", BLUE, "7 4"),
    ("async", "naive"): ("async: naive per-call reconnect", RED, "7 4"),
    ("async", "no_expiry"): ("async: no expiry (reference)", GREY, "7 4"),
}


def storm_figure(rows, path):
    series_for = {}
    for key, (label, color, dash) in STYLE.items():
        picked = [r for r in rows if (r["mode"], r["policy"]) == key]
        if picked:
            series_for[key] = (label, color, dash, picked)
    callers = sorted({int(r["callers"]) for r in rows})

    def series(column):
        return [{"label": label, "color": color, "dash": dash,
                 "points": [(int(r["callers"]), float(r[column])) for r in picked]}
                for label, color, dash, picked in series_for.values()]

    width, height = 980, 470
    body = []
    panel(body, 0, 0, width / 2, 390, "Median latency / single normal call", "concurrent callers (log scale)",
          "ratio (log scale)", series("median_ratio"), True, True, xticks=callers)
    panel(body, width / 2, 0, width / 2, 390, "p99 latency (within a storm) / single normal call", "concurrent callers (log scale)",
          "ratio (log scale)", series("p99_ratio"), True, True, xticks=callers)
    legend(body, 70, 410, series("p99_ratio"), 3)
    single = sorted({(r["mode"], r["single_call_us"]) for r in rows})
    sub = "one expired session, all callers at once; single normal call: " + ", ".join(
        "%s %.0f us" % (m, float(v)) for m, v in single)
    write(path, svg(width, height, body, sub))


def payload_figure(rows, path):
    pts = [(int(r["params_bytes"]), float(r["ratio"])) for r in rows]
    series = [{"label": "one call on an expired session / a normal call of the same size (medians)",
               "color": BLUE, "dash": None, "points": pts}]
    width, height = 640, 430
    body = []
    panel(body, 0, 0, width, 360, "Recovery cost vs payload size (synchronous, one caller)",
          "params size in bytes (log scale)", "recovery / normal call", series, True, False,
          xticks=[p for p, _ in pts], hlines=[(1.0, "a normal call")])
    legend(body, 70, 385, series, 1)
    sub = "%s rounds; a normal call takes %.0f us at %s, %.0f us at %s (medians)" % (
        rows[0]["rounds"], float(rows[0]["normal_median_us"]), human_bytes(rows[0]["params_bytes"]),
        float(rows[-1]["normal_median_us"]), human_bytes(rows[-1]["params_bytes"]))
    write(path, svg(width, height, body, sub))


def outage_figure(rows, path):
    flavours = [("sync", BLUE, None), ("async", RED, "7 4")]

    def series(column, what):
        out = []
        for flavour, color, dash in flavours:
            picked = [r for r in rows if r["flavour"] == flavour and float(r[column]) >= 0]
            if picked:
                out.append({"label": "%s (%s callers)%s" % (flavour, picked[0]["callers"], what), "color": color,
                            "dash": dash, "points": [(float(r["outage_s"]), float(r[column])) for r in picked]})
        return out

    outages = sorted({float(r["outage_s"]) for r in rows})
    cap = float(rows[0]["backoff_cap_ms"])
    width, height = 980, 470
    body = []
    panel(body, 0, 0, width / 2, 390, "Server back -> first successful call", "outage length, s (log scale)",
          "ms", series("back_to_first_ok_ms", ""), True, False, xticks=outages,
          hlines=[(cap, "the reconnectors' backoff cap (%.0f ms)" % cap)])
    down = series("down_to_first_ok_ms", "")
    ideal = {"label": "the outage itself", "color": GREY, "dash": "2 3",
             "points": [(o, o * 1000.0) for o in outages]}
    panel(body, width / 2, 0, width / 2, 390, "Server down -> first successful call", "outage length, s (log scale)",
          "ms (log scale)", down + [ideal], True, True, xticks=outages)
    legend(body, 70, 410, down + [ideal], 3)
    inits = sorted({r["initializes"] for r in rows})
    sub = "go_down() / come_back() of flaky_server under load; initializes per outage: %s" % ", ".join(inits)
    write(path, svg(width, height, body, sub))


def gateway_memory_figure(rows, path):
    rows = sorted(rows, key=lambda r: int(r["clients"]))
    base = rows[0]
    pts = lambda col: [(int(r["clients"]), float(r[col]) / 1024.0) for r in rows]
    totals = [
        {"label": "VmRSS", "color": GREY, "dash": None, "points": pts("vmrss_kib")},
        {"label": "RssAnon", "color": BLUE, "dash": None, "points": pts("rssanon_kib")},
        {"label": "heap in use (mallinfo2)", "color": RED, "dash": "7 4", "points": pts("heap_used_kib")},
    ]
    per = []
    for col, label, color, dash in (("rssanon_kib", "RssAnon", BLUE, None),
                                    ("heap_used_kib", "heap in use", RED, "7 4")):
        p = [(int(r["clients"]), (float(r[col]) - float(base[col])) / int(r["clients"]))
             for r in rows[1:] if int(r["clients"]) > 0]
        per.append({"label": label + " per client (over 0 clients)", "color": color, "dash": dash, "points": p})
    clients = [int(r["clients"]) for r in rows]
    width, height = 980, 470
    body = []
    panel(body, 0, 0, width / 2, 390, "Gateway process memory by idle clients", "async recovering clients",
          "MiB", totals, False, False, xticks=clients)
    panel(body, width / 2, 0, width / 2, 390, "Memory per idle client", "async recovering clients", "KiB per client",
          per, False, False, xticks=clients[1:], hlines=[(16.0, "goal: 16 KiB")])
    legend(body, 70, 410, totals + per[:1], 4)
    fds = ", ".join("%s: %s" % (r["clients"], r["fds"]) for r in rows)
    sub = "one io_context, one thread (threads: %s); descriptors by clients: %s" % (
        ", ".join(sorted({r["threads"] for r in rows})), fds)
    write(path, svg(width, height, body, sub))


def write(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print("wrote", path)


def main(argv):
    args = list(argv[1:])
    out = os.path.join(ROOT, "docs", "img")
    if "--out" in args:
        i = args.index("--out")
        if i + 1 >= len(args):
            sys.exit("usage: plot.py [CSV_DIR] [--out DIR]")
        out = args[i + 1]
        del args[i:i + 2]
    csv_dir = args[0] if args else os.path.join(ROOT, "build", "bench-out")
    figures = [("storm.csv", storm_figure, "storm-latency.svg"),
               ("payload.csv", payload_figure, "recovery-vs-payload.svg"),
               ("outage.csv", outage_figure, "recovery-vs-outage.svg"),
               ("gateway_memory.csv", gateway_memory_figure, "gateway-memory.svg")]
    drawn = 0
    for name, draw, figure in figures:
        src = os.path.join(csv_dir, name)
        if os.path.exists(src):
            draw(read_csv(src), os.path.join(out, figure))
            drawn += 1
    if drawn == 0:
        sys.exit("plot.py: none of %s in %s (run a benchmark with --csv %s first)"
                 % (", ".join(n for n, _, _ in figures), csv_dir, csv_dir))


if __name__ == "__main__":
    main(sys.argv)
