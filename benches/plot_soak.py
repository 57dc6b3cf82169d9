#!/usr/bin/env python3
"""Renders the soak CSV (benches/soak.rs) as one PNG: worker VmRSS and consumer lag over time.

Usage: python3 benches/plot_soak.py soak.csv soak.png [--title TEXT]
Needs matplotlib (`pip install matplotlib`).
"""
import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("png")
    parser.add_argument("--title", default="wire-enricher soak")
    args = parser.parse_args()
    minutes, rss, lag = [], [], []
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            minutes.append(float(row["elapsed_s"]) / 60.0)
            rss.append(float(row["rss_kib"]) / 1024.0 if row["rss_kib"] else float("nan"))
            lag.append(float(row["lag"]) if row["lag"] else float("nan"))
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 5), dpi=80)
    top.plot(minutes, rss, color="tab:blue")
    top.set_ylabel("worker VmRSS (MiB)")
    top.set_ylim(bottom=0)
    top.grid(alpha=0.3)
    bottom.plot(minutes, lag, color="tab:red")
    bottom.set_ylabel("consumer lag\n(pending + ack pending)")
    bottom.set_xlabel("minutes")
    bottom.set_ylim(bottom=0)
    bottom.grid(alpha=0.3)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.png)


if __name__ == "__main__":
    main()
