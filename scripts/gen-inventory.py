#!/usr/bin/env python3
"""Writes a made-up ConfigMgr device inventory for fleetsim's `[fleet] inventory`.

No real machine or person is named: devices are WS-<SITE>-<number>. The columns and
units are those of the README's query against the ConfigMgr views (bare sizes in
the views' units: free_disk and system_drive in MB, memory in KB), and the mix of
hardware is a plausible 2026 corporate fleet: mostly Windows 11-capable, with older
models lacking TPM 2.0, a supported processor or Secure Boot.

    scripts/gen-inventory.py                       # scenarios/inventory-example.csv
    scripts/gen-inventory.py --rows 1000000 --out /tmp/inventory-1m.csv

The same --seed and --rows always write the same bytes.
"""
import argparse
import random
import sys

# (model, share, tpm, firmware, cpu_supported share, memory GiB choices, drive GB choices)
MODELS = [
    ("HP EliteBook 840 G8", 0.30, "2.0", "uefi_secure_boot", 1.0, [8, 16, 16, 32], [256, 512]),
    ("Dell Latitude 5420", 0.25, "2.0", "uefi_secure_boot", 1.0, [8, 16], [256, 512]),
    ("Lenovo ThinkPad T480", 0.15, "2.0", "uefi_secure_boot", 0.9, [8, 16], [256]),
    ("HP EliteDesk 800 G3", 0.12, "2.0", "uefi", 0.0, [8, 8, 16], [256, 500]),
    ("Dell OptiPlex 7040", 0.10, "1.2", "bios", 0.0, [4, 8], [128, 256, 500]),
    ("Fujitsu Esprimo P556", 0.08, "none", "bios", 0.0, [4, 4, 8], [60, 128]),
]
SITES = [("HQ", 0.6, "10.1"), ("Lyon", 0.25, "10.2"), ("Munich", 0.15, "10.3")]
LANGS = [(1033, 0.75), (1031, 0.15), (1036, 0.10)]
NETWORKS = [("wired", 0.65), ("wireless", 0.30), ("vpn", 0.05)]
HEADER = ("name,site,subnet,architecture,language,os,model,free_disk,memory,cpu_mhz,"
          "network,power,tpm,firmware,cpu_supported,system_drive")


def pick(rng, items):
    u = rng.random()
    acc = 0.0
    for item in items:
        acc += item[1]
        if u < acc:
            return item
    return items[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--out", default="scenarios/inventory-example.csv")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    counters = {s[0]: 0 for s in SITES}
    with open(a.out, "w", newline="\n") as f:
        f.write(HEADER + "\n")
        for _ in range(a.rows):
            site, _, net = pick(rng, SITES)
            counters[site] += 1
            name = f"WS-{site[:3].upper()}-{counters[site]:06d}"
            model, _, tpm, fw, cpu_ok, mems, drives = pick(rng, MODELS)
            lang = pick(rng, LANGS)[0]
            network = pick(rng, NETWORKS)[0]
            power = "battery" if network != "wired" and rng.random() < 0.3 else "ac"
            # A few 32-bit Windows 10 installs survive on the oldest desktops.
            arch = "32-bit" if fw == "bios" and rng.random() < 0.1 else "64-bit"
            build = rng.choice(["19044", "19045", "19045", "19045"])
            mem_kb = rng.choice(mems) * 1024 * 1024
            drive_mb = rng.choice(drives) * 1000 * 1000 * 1000 // (1 << 20)
            free_mb = int(drive_mb * rng.uniform(0.15, 0.7))
            cpu = rng.choice([1800, 2100, 2400, 2600, 3000])
            supported = "true" if rng.random() < cpu_ok else "false"
            # TPM inventory is sometimes missing (class not collected yet): an empty
            # cell, drawn from the scenario's [fleet] tpm weights.
            tpm_cell = "" if rng.random() < 0.02 else tpm
            subnet = f"{net}.{rng.randrange(0, 32)}.0/24"
            f.write(
                f"{name},{site},{subnet},{arch},{lang},10.0.{build},{model},{free_mb},"
                f"{mem_kb},{cpu},{network},{power},{tpm_cell},{fw},{supported},{drive_mb}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
