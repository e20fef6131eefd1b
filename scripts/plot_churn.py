#!/usr/bin/env python3
"""Plots the network-churn curve from criterion's results: flow events per second
against concurrent flows (log scale), for the fast fair-share model and the
recompute-everything reference. Writes a self-contained SVG (no plotting library).

    cargo bench --bench net_churn
    python3 scripts/plot_churn.py target/criterion results/bench/net_churn.svg
"""
import json
import math
import os
import sys


def series(root, group):
    pts = []
    d = os.path.join(root, group)
    if not os.path.isdir(d):
        return pts
    for name in os.listdir(d):
        try:
            n = int(name)
            e = json.load(open(os.path.join(d, name, "new", "estimates.json")))
        except (ValueError, OSError):
            continue
        mean_ns = e["mean"]["point_estimate"]  # one element (flow event) per iteration
        pts.append((n, 1e9 / mean_ns / 1e6))
    return sorted(pts)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
    out = sys.argv[2] if len(sys.argv) > 2 else "results/bench/net_churn.svg"
    lines = [("fair (fleetsim)", "#1f77b4", series(root, "net_churn_fair")),
             ("reference (recompute all)", "#d62728", series(root, "net_churn_reference"))]
    lines = [l for l in lines if l[2]]
    if not lines:
        sys.exit(f"no net_churn results under {root}: run cargo bench --bench net_churn")
    W, H, L, R, T, B = 660, 400, 70, 40, 40, 60
    xs = [p[0] for _, _, s in lines for p in s]
    ymax = max(p[1] for _, _, s in lines for p in s) * 1.15
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    if x1 == x0:
        x1 = x0 + 1

    def px(n):
        return L + (math.log10(n) - x0) / (x1 - x0) * (W - L - R)

    def py(v):
        return H - B - v / ymax * (H - T - B)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">'
           f'Network model under churn: one 10 Gbps DP, 3 cap classes</text>']
    step = 10 ** math.floor(math.log10(ymax / 5)) if ymax > 0 else 1
    for k in range(0, int(ymax / step) + 1):
        v = k * step
        svg.append(f'<line x1="{L}" x2="{W - R}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    for e in range(int(math.floor(x0)), int(math.ceil(x1)) + 1):
        n = 10 ** e
        if min(xs) <= n <= max(xs):
            svg.append(f'<line x1="{px(n):.1f}" x2="{px(n):.1f}" y1="{T}" y2="{H - B}" stroke="#ddd"/>')
            svg.append(f'<text x="{px(n):.1f}" y="{H - B + 18}" text-anchor="middle">{n:,}</text>')
    svg.append(f'<line x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}" stroke="black"/>')
    svg.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H - B}" stroke="black"/>')
    svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 18}" text-anchor="middle">'
               f'concurrent flows (log scale)</text>')
    svg.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {(T + H - B) / 2})">million flow events per second</text>')
    for i, (name, colour, pts) in enumerate(lines):
        path = " ".join(f"{'M' if j == 0 else 'L'}{px(n):.1f},{py(v):.1f}" for j, (n, v) in enumerate(pts))
        svg.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for n, v in pts:
            svg.append(f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}"/>')
            svg.append(f'<text x="{px(n):.1f}" y="{py(v) - 8:.1f}" text-anchor="middle" '
                       f'fill="{colour}">{v:.2f}</text>')
        svg.append(f'<rect x="{W - R - 190}" y="{T + 8 + 18 * i}" width="12" height="3" fill="{colour}"/>')
        svg.append(f'<text x="{W - R - 172}" y="{T + 13 + 18 * i}">{name}</text>')
    svg.append("</svg>")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")
    for name, _, pts in lines:
        print(name + ": " + ", ".join(f"{n:,} flows {v:.2f} M/s" for n, v in pts))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
