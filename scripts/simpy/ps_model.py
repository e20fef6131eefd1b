#!/usr/bin/env python3
"""The processor-sharing workload of scenarios/bench-ps.toml, written in SimPy the way
a capacity planner would write it by hand: N clients start at times uniform over
N * 16 s, each downloads 1 GB from one 1 Gbps link shared equally by every active
download (processor sharing, rho = 0.5), then runs 20 fixed 60 s steps.

The link is one SimPy process that sleeps until the next download would finish or
until a download starts, whichever comes first, then charges every active download
its share of the bytes sent meanwhile (the textbook event-driven processor sharing).

    python3 scripts/simpy/ps_model.py --clients 100000 --seed 1
    python3 scripts/simpy/ps_model.py --arrivals clients.csv   # fleetsim's start times

Prints one JSON object: clients, mean download time (s), mean task-sequence time (s),
simulated end (s), events the link handled.
"""
import argparse
import csv
import json
import random

import simpy

SIZE_BITS = 8e9  # 1 GB
RATE_BPS = 1e9  # 1 Gbps
STEPS = 20
STEP_S = 60.0
EPS_BITS = 1.0  # a download with less left than this is done (float round-off)


class PsLink:
    """One link shared equally by its active downloads."""

    def __init__(self, env, rate):
        self.env = env
        self.rate = rate
        self.active = {}  # id -> [bits left, done event]
        self.last = 0.0
        self.next_id = 0
        self.wake = env.event()
        self.events = 0
        env.process(self.run())

    def download(self, bits):
        """An event that fires when `bits` have been received."""
        self.charge()
        done = self.env.event()
        self.active[self.next_id] = [bits, done]
        self.next_id += 1
        if not self.wake.triggered:
            self.wake.succeed()
        return done

    def charge(self):
        """Takes the bits sent since the last change off every active download."""
        dt = self.env.now - self.last
        if dt > 0 and self.active:
            share = self.rate * dt / len(self.active)
            for f in self.active.values():
                f[0] -= share
        self.last = self.env.now

    def run(self):
        while True:
            if not self.active:
                yield self.wake
                self.wake = self.env.event()
                continue
            first = min(self.active, key=lambda k: self.active[k][0])
            until = max(self.active[first][0], 0.0) * len(self.active) / self.rate
            timer = self.env.timeout(until)
            yield timer | self.wake
            self.events += 1
            self.charge()
            # The timer firing means `first` is done, whatever float round-off left.
            done = [k for k, f in self.active.items() if f[0] <= EPS_BITS]
            if timer.processed and first not in done:
                done.append(first)
            for k in done:
                self.active.pop(k)[1].succeed()
            if self.wake.triggered:
                self.wake = self.env.event()


def client(env, start, link, downloads, sequences):
    yield env.timeout(start)
    t0 = env.now
    yield link.download(SIZE_BITS)
    downloads.append(env.now - t0)
    for _ in range(STEPS):
        yield env.timeout(STEP_S)
    sequences.append(env.now - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--arrivals",
        help="clients.csv of a fleetsim run: use its policy_s column as start times",
    )
    a = ap.parse_args()
    if a.arrivals:
        with open(a.arrivals, newline="") as f:
            starts = [float(r["policy_s"]) for r in csv.DictReader(f)]
    else:
        rng = random.Random(a.seed)
        # Arrival rate rho * C / S = 0.5 * 1e9 / 8e9 = 1/16 per second.
        span = a.clients * 16.0
        starts = [rng.uniform(0.0, span) for _ in range(a.clients)]
    env = simpy.Environment()
    link = PsLink(env, RATE_BPS)
    downloads, sequences = [], []
    for s in starts:
        env.process(client(env, s, link, downloads, sequences))
    env.run()
    print(
        json.dumps(
            {
                "clients": len(starts),
                "download_mean_s": sum(downloads) / max(len(downloads), 1),
                "task_sequence_mean_s": sum(sequences) / max(len(sequences), 1),
                "sim_end_s": env.now,
                "link_events": link.events,
            }
        )
    )


if __name__ == "__main__":
    main()
