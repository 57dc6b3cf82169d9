#!/usr/bin/env python3
"""Super-linear hunt by repeated units: builds stories that repeat one short unit (a few
tags, marks or lines) thousands of times, in each raw format, and times the release binary
on each at two sizes (about 1/4 and all of --max-bytes). Linear code takes about 4x as long
on the larger; a growth (time ratio / size ratio) above --max-growth with the large run over
0.5 s, or a peak RSS over --max-rss-mb, is reported (exit code 1). The libFuzzer targets
cannot find these (they stop at 4 KiB, and fuzz/scaling.py only repeats whole inputs); this
is how session 14 found the pre-scan's blind spots.

    cargo build --release
    python3 fuzz/patterns.py                  # the catalogue, then 200 random units
    python3 fuzz/patterns.py --random 1000 --seed 7

A measurement on a possibly busy machine, not a test: confirm a flagged unit by hand at more
sizes before calling it super-linear. The units of the catalogue are the cases that were
super-linear before session 14's fixes.
"""
import argparse
import json
import pathlib
import random
import re
import resource
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
BINARY = HERE.parent / "target" / "release" / "wire-enricher"
STORY = "The minister said on Tuesday that talks in Geneva would resume, officials said."

# (format, unit): `{i}` in a unit becomes the repetition's number.
CATALOGUE = [
    ("html", "<div></span>"),
    ("html", "<span></div>"),
    ("html", "<div/>"),
    ("html", "<b id={i}>x<p>y"),
    ("html", "<b id={i}>x<p>y<object></b></object>"),
    ("html", "<optgroup>"),
    ("html", "<b id={i}><table></b></table>"),
    ("html-svg", "<td>"),
    ("html-select-style", "<div>"),
    ("html-attrs", " a{i}"),
    ("html", "<p><span></p><x></span>"),
    ("html", "<form><span></form>"),
    ("html", "<caption><x></caption>"),
    ("html", "<svg/><section><br>"),
    ("html", "<svg></p><section><br>"),
    ("html", "<div><xmp></div></xmp>"),
    ("html", "<figure><figcaption>Open caption "),
    ("text", '"We go home now." '),
    ("text", "Line {a} here\n"),
    ("text", "By Ann {A}\n"),
    ("newsml-attrs", ' a{i}=""'),
]

# Pieces random units are made of.
TOKENS = [
    "<div>", "</div>", "<span>", "</span>", "<p>", "</p>", "<b>", "</b>", "<i>", "</i>",
    "<b id={i}>", "<font class=c{i}>", "<a>", "</a>", "<table>", "</table>", "<tr>", "<td>",
    "</td>", "<li>", "<ul>", "</ul>", "<select>", "</select>", "<option>", "<optgroup>",
    "<svg>", "</svg>", "<math>", "<mi>", "<foreignObject>", "<title>", "</title>", "<style>",
    "<object>", "</object>", "<template>", "</template>", "<figure>", "<figcaption>",
    "<h1>", "</h2>", "<blockquote>", "<form>", "<button>", "<nobr>", "<marquee>", "<x>",
    "</x>", "<br/>", "<div/>", "x", "y ", '"', "\u201c", "\u201d", "'", "<!-- c -->",
    "&amp;", "<![CDATA[", "<meta name=author content=A{A}>", "<time datetime=2020-01-01>",
]


def letters(i, upper=False):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(ord("a") + r) + s
    return s.capitalize() if upper else s


def repeat(unit, n):
    if "{" not in unit:
        return unit * n
    return "".join(unit.format(i=i, a=letters(i), A=letters(i, True)) for i in range(n))


def frame(fmt, body):
    if fmt == "text":
        return f"Headline here\n\nLONDON (Reuters) - {STORY}\n\n{body}\n"
    if fmt == "newsml-attrs":
        return (
            f'<?xml version="1.0"?><newsItem{body} guid="g"><contentSet><inlineXML><html>'
            f"<body><p>{STORY}</p></body></html></inlineXML></contentSet></newsItem>"
        )
    prefix = {
        "html": "",
        "html-svg": "<svg>",
        "html-select-style": "<select><style></select>",
        "html-attrs": "<select><style></select><div",
    }[fmt]
    suffix = ">x</div>" if fmt == "html-attrs" else ""
    return (
        "<!DOCTYPE html><html><head><title>T</title></head><body>"
        f"<p>{STORY}</p>{prefix}{body}{suffix}</body></html>"
    )


def run(binary, path, max_memory_mb):
    """(seconds, peak RSS in MB, outcome) of one enrichment; `failed` when it died (a
    blow-up past the address-space limit aborts the child instead of the machine)."""
    limit = max_memory_mb * 1024 * 1024

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", str(binary), "enrich", str(path)],
            capture_output=True, text=True, timeout=300, preexec_fn=cap_memory,
        )
    except subprocess.TimeoutExpired:
        return 300.0, 0.0, "timed_out"
    secs, kb = out.stderr.strip().splitlines()[-1].split()
    error = re.search(r": ([a-z_]+): ", out.stderr)
    if error:
        outcome = error.group(1)
    else:
        outcome = "record" if out.returncode == 0 else "failed"
    return float(secs), int(kb) / 1024, outcome


def measure(binary, fmt, unit, max_bytes, tmp, max_memory_mb):
    one = len(frame(fmt, repeat(unit, 200)).encode()) / 200
    big = max(1, int(max_bytes * 0.95 / max(one, 1)))
    results = []
    for n in (big // 4, big):
        path = pathlib.Path(tmp) / "story"
        data = frame(fmt, repeat(unit, n)).encode()
        while len(data) > max_bytes and n > 1:  # numbered units grow with their number
            n = int(n * max_bytes / len(data) * 0.98)
            data = frame(fmt, repeat(unit, n)).encode()
        path.write_bytes(data)
        results.append((len(data), *run(binary, path, max_memory_mb)))
    (s1, t1, _, _), (s4, t4, rss4, outcome) = results
    growth = (t4 / max(t1, 0.01)) / (s4 / s1)
    return s4, t4, rss4, outcome, growth


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--random", type=int, default=200, help="random units after the catalogue")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-bytes", type=int, default=1_000_000)
    ap.add_argument("--max-growth", type=float, default=2.5)
    ap.add_argument("--max-rss-mb", type=float, default=300)
    ap.add_argument("--binary", type=pathlib.Path, default=BINARY)
    ap.add_argument("--max-memory-mb", type=int, default=8192,
                    help="address-space limit of each run (a blow-up fails, not the machine)")
    args = ap.parse_args()
    if not args.binary.exists():
        sys.exit(f"{args.binary} is missing: cargo build --release")
    rng = random.Random(args.seed)
    units = list(CATALOGUE)
    for _ in range(args.random):
        fmt = rng.choice(["html", "html", "html-svg", "html-select-style", "text"])
        units.append((fmt, "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 4)))))
    flagged = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, unit in units:
            s4, t4, rss, outcome, growth = measure(
                args.binary, fmt, unit, args.max_bytes, tmp, args.max_memory_mb
            )
            bad = (
                (growth > args.max_growth and t4 > 0.5)
                or rss > args.max_rss_mb
                or outcome in ("failed", "timed_out")
            )
            mark = "SUPER-LINEAR?" if bad else ""
            print(f"{fmt:18} {json.dumps(unit)[:40]:42} {s4 / 1e3:7.0f} KB {t4:6.2f} s "
                  f"{rss:6.0f} MB growth {growth:4.2f} {outcome:14} {mark}", flush=True)
            if bad:
                flagged.append((fmt, unit))
    if flagged:
        print(f"{len(flagged)} flagged: {flagged}")
        sys.exit(1)
    print(f"{len(units)} units, nothing super-linear")


if __name__ == "__main__":
    main()
