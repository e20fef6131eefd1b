#!/usr/bin/env python3
"""Helpers of scripts/bench.sh: collect criterion results, assemble the run's JSON,
compare it with the baseline.

    bench_report.py criterion TARGET_CRITERION_DIR    -> JSON lines on stdout
    bench_report.py assemble RAW.jsonl COMMIT FULL    -> the run's JSON on stdout
    bench_report.py compare BASELINE.json NEW.json NOISE_PCT
        prints the comparison; exit 1 when an instruction count grew by more than
        NOISE_PCT percent (the regression gate), 0 otherwise (also when there is no
        baseline yet)
"""
import json
import math
import os
import platform
import subprocess
import sys
import time


def criterion(root):
    """One line per criterion benchmark: mean time and throughput of the last run."""
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        try:
            b = json.load(open(os.path.join(dirpath, "benchmark.json")))
            e = json.load(open(os.path.join(dirpath, "estimates.json")))
        except (OSError, ValueError):
            continue
        mean_ns = e["mean"]["point_estimate"]
        thr = b.get("throughput") or {}
        elems = thr.get("Elements") or thr.get("Bytes")
        print(json.dumps({
            "kind": "criterion",
            "name": b["full_id"],
            "mean_ns": mean_ns,
            "elements_per_s": elems / (mean_ns * 1e-9) if elems and mean_ns > 0 else None,
        }))


def machine():
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "rustc": run(["rustc", "--version"]),
        "valgrind": run(["valgrind", "--version"]),
        "os": platform.platform(),
    }


def derived(e2e, crit):
    """Figures computed from the raw ones: scaling, memory per client, ratios."""
    out = {}
    sizes = sorted((r for r in e2e if r["name"].startswith("bench-1m-")), key=lambda r: r["clients"])
    steps = []
    for a, b in zip(sizes, sizes[1:]):
        ta, tb = a["user_s"] + a["sys_s"], b["user_s"] + b["sys_s"]
        if ta <= 0 or tb <= 0:
            continue
        nlogn = (b["clients"] * math.log(b["clients"])) / (a["clients"] * math.log(a["clients"]))
        steps.append({
            "from": a["clients"], "to": b["clients"],
            "cpu_ratio": tb / ta, "n_log_n_ratio": nlogn,
            "exponent": math.log(tb / ta) / math.log(b["clients"] / a["clients"]),
        })
    out["scaling"] = steps
    small = next((r for r in sizes if r["clients"] == 10_000), None)
    for big in sizes:
        if small and big["clients"] > small["clients"]:
            out[f"bytes_per_client_{big['clients']}"] = (
                (big["peak_rss_bytes"] - small["peak_rss_bytes"]) / (big["clients"] - small["clients"]))
    by = {c["name"]: c for c in crit}
    for n in ("1000000", "10000000"):
        f, h = by.get(f"hold/fleetsim/{n}"), by.get(f"hold/binary_heap/{n}")
        r = by.get(f"hold/radix2/{n}")
        if f and h and f["elements_per_s"] and h["elements_per_s"]:
            out[f"queue_vs_binary_heap_{n}"] = f["elements_per_s"] / h["elements_per_s"]
        if f and r and f["elements_per_s"] and r["elements_per_s"]:
            out[f"queue_vs_radix2_{n}"] = f["elements_per_s"] / r["elements_per_s"]
    return out


def assemble(raw, commit, full):
    rows = [json.loads(l) for l in open(raw) if l.strip()]
    e2e = [r for r in rows if r["kind"] == "e2e"]
    crit = [r for r in rows if r["kind"] == "criterion"]
    ins = [r for r in rows if r["kind"] == "instructions"]
    doc = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit,
        "mode": "full" if full == "1" else "quick",
        "machine": machine(),
        "instructions": {r["name"]: {"instructions": r["instructions"], "events": r["events"]} for r in ins},
        "end_to_end": {r["name"]: {k: v for k, v in r.items() if k not in ("kind", "name")} for r in e2e},
        "criterion": {r["name"]: {"mean_ns": r["mean_ns"], "elements_per_s": r["elements_per_s"]} for r in crit},
        "derived": derived(e2e, crit),
    }
    json.dump(doc, sys.stdout, indent=2, sort_keys=True)
    print()


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3f} {unit}"
    return f"{ns:.1f} ns"


def pct(new, old):
    return 100.0 * (new - old) / old if old else float("nan")


def compare(base_path, new_path, noise):
    new = json.load(open(new_path))
    noise = float(noise)
    try:
        base = json.load(open(base_path))
    except (OSError, ValueError):
        print(f"no baseline at {base_path}: nothing to compare (run with --update-baseline to create it)")
        base = None
    failed = []
    print(f"\ninstruction counts (gate: more than +{noise:g}% fails)")
    print(f"  {'workload':26} {'baseline':>15} {'this run':>15} {'change':>8}  instr/event")
    for name, r in sorted(new["instructions"].items()):
        b = (base or {}).get("instructions", {}).get(name)
        per = r["instructions"] / max(r["events"], 1)
        if not b:
            print(f"  {name:26} {'-':>15} {r['instructions']:>15,} {'new':>8}  {per:,.0f}")
            continue
        d = pct(r["instructions"], b["instructions"])
        verdict = ""
        if d > noise:
            verdict = "  REGRESSION"
            failed.append(name)
        elif d < -noise:
            verdict = "  faster"
        if r["events"] != b["events"]:
            verdict += f"  (events {b['events']:,} -> {r['events']:,}: the model changed)"
        print(f"  {name:26} {b['instructions']:>15,} {r['instructions']:>15,} {d:>+7.2f}%  {per:,.0f}{verdict}")

    print("\nend to end, whole process (information: wall time on a shared machine is noisy)")
    print(f"  {'case':16} {'wall s':>8} {'base':>8} {'cpu s':>8} {'RSS MB':>8} {'base':>8} {'events/s':>12}")
    for name, r in sorted(new["end_to_end"].items(), key=lambda kv: (kv[1]["scenario"], kv[1]["clients"])):
        b = (base or {}).get("end_to_end", {}).get(name, {})
        bw = f"{b['wall_s']:.2f}" if b else "-"
        br = f"{b['peak_rss_bytes'] / 1e6:.0f}" if b else "-"
        print(f"  {name:16} {r['wall_s']:>8.2f} {bw:>8} {r['user_s'] + r['sys_s']:>8.2f} "
              f"{r['peak_rss_bytes'] / 1e6:>8.0f} {br:>8} {r['events_per_s']:>12,.0f}")

    if new["criterion"]:
        print("\ncriterion (information)")
        for name, r in sorted(new["criterion"].items()):
            b = (base or {}).get("criterion", {}).get(name)
            t = r["elements_per_s"]
            line = f"  {name[:52]:52} {fmt_time(r['mean_ns']):>10}"
            if t:
                line += f" {t / 1e6:>9.2f} M/s"
            if b and b.get("elements_per_s") and t:
                line += f"  ({pct(t, b['elements_per_s']):+.0f}% vs baseline)"
            print(line)

    d = new["derived"]
    print("\nderived")
    for s in d.get("scaling", []):
        over = 100.0 * (s["cpu_ratio"] / s["n_log_n_ratio"] - 1.0)
        print(f"  CPU time {s['from']:,} -> {s['to']:,} clients: x{s['cpu_ratio']:.2f} "
              f"(n log n: x{s['n_log_n_ratio']:.2f}, {over:+.0f}%; exponent {s['exponent']:.2f})")
    for k, v in sorted(d.items()):
        if k != "scaling":
            print(f"  {k}: {v:,.1f}")
    if failed:
        print(f"\nREGRESSION beyond {noise:g}%: {', '.join(failed)}")
        return 1
    print(f"\nno instruction-count regression beyond {noise:g}%")
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "criterion" and len(args) == 1:
        criterion(args[0])
    elif cmd == "assemble" and len(args) == 3:
        assemble(*args)
    elif cmd == "compare" and len(args) == 3:
        sys.exit(compare(*args))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
