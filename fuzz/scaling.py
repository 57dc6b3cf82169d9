#!/usr/bin/env python3
"""Super-linear hunt over a fuzz corpus: repeats corpus inputs 32x and 128x and times one
execution of each through the built fuzz target (libFuzzer's "Executed ... in N ms").
The growth factor is time ratio / size ratio: ~1 for linear code, ~4 for quadratic. A
factor above --max-growth (default 2.5) with a large-input time over 200 ms (below that,
scheduler noise on a busy machine dominates) is reported as super-linear (exit code 1).
Each time is the best of three batches (the machine may be busy); a flagged input should
then be confirmed by hand at more sizes (it is printed with its corpus name).

    fuzz/scaling.py TARGET [--inputs N] [--max-growth G]

Needs the target built (`cargo +nightly fuzz build -s none`) and its corpus (seed.sh or a
fuzz run). Inputs are repeated payload-wise (the detect/enrich hint byte is kept once) and
capped at 900 KB, under the default 1 MiB story limit. A measurement, not a test.
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
HINTED = {"detect", "enrich"}
CAP = 900_000


def binary(target):
    for profile in ("release", "debug"):
        path = HERE / "target" / "x86_64-unknown-linux-gnu" / profile / target
        if path.exists():
            return path
    sys.exit(f"{target} is not built: cargo +nightly fuzz build -s none")


def repeated(data, factor, hinted):
    head, payload = (data[:1], data[1:]) if hinted else (b"", data)
    if not payload:
        return None
    body = (payload + b"\n\n") * factor
    return head + body[:CAP]


def timings(exe, files):
    out = subprocess.run(
        [str(exe), "-timeout=60", "-rss_limit_mb=4096", *map(str, files)],
        capture_output=True, text=True, errors="replace",
    )
    found = dict(re.findall(r"Executed (\S+) in (\d+) ms", out.stderr))
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        sys.exit(f"{exe.name} failed on the scaled inputs (see above)")
    return {pathlib.Path(k).name: int(v) for k, v in found.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--inputs", type=int, default=40)
    ap.add_argument("--max-growth", type=float, default=2.5)
    args = ap.parse_args()
    exe = binary(args.target)
    corpus = sorted((HERE / "corpus" / args.target).glob("*"), key=lambda p: p.stat().st_size)
    # The largest inputs and an even spread of the rest.
    step = max(1, len(corpus) // args.inputs)
    picked = list(dict.fromkeys(corpus[-args.inputs // 2:] + corpus[::step]))[: args.inputs]
    hinted = args.target in HINTED
    worst = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        files = []
        for i, p in enumerate(picked):
            data = p.read_bytes()
            for factor in (32, 128):
                scaled = repeated(data, factor, hinted)
                if scaled is None:
                    continue
                f = tmp / f"{i}x{factor}"
                f.write_bytes(scaled)
                files.append(f)
        # Best of three batches: the machine may be busy, and a slow outlier is noise.
        runs = [timings(exe, files) for _ in range(3)]
        times = {k: min(r.get(k, 10**9) for r in runs) for k in runs[0]}
        for i, p in enumerate(picked):
            small, large = times.get(f"{i}x32"), times.get(f"{i}x128")
            if small is None or large is None:
                continue
            size_small = os.path.getsize(tmp / f"{i}x32")
            size_large = os.path.getsize(tmp / f"{i}x128")
            # libFuzzer reports whole milliseconds: floor the small time at 5 ms.
            growth = (large / max(small, 5)) / (size_large / size_small)
            worst.append((growth, small, large, size_large, p.name))
    worst.sort(reverse=True)
    bad = [w for w in worst if w[0] > args.max_growth and w[2] > 200]
    print(f"{args.target}: {len(worst)} inputs scaled 32x -> 128x; worst growth (1 = linear, 4 = quadratic):")
    for growth, small, large, size, name in worst[:5]:
        print(f"  {growth:5.2f}  {small:6d} ms -> {large:6d} ms  ({size} bytes)  {name}")
    if bad:
        print(f"SUPER-LINEAR: {len(bad)} inputs over growth {args.max_growth}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
