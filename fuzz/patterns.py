#!/usr/bin/env python3
"""Super-linear hunt by repeated units: builds stories that repeat one short unit (a few
tags, marks or lines) thousands of times, in each raw format, and times the release binary
on each at two sizes (about 1/4 and all of --max-bytes). Linear code takes about 4x as long
on the larger; a growth (time ratio / size ratio) above --max-growth with the large run over
0.5 s, or a peak RSS over --max-rss-mb, is reported (exit code 1). The libFuzzer targets
cannot find these (they stop at 4 KiB, and fuzz/scaling.py only repeats whole inputs); this
is how session 14 found the pre-scan's blind spots.

The formats are HTML, text and NewsML, and the two JSON formats: IPTC ninjs items
(`ninjs-*`: the unit repeated inside a field the parser reads — `body_text`, `body_html`,
`bodies`, `headline`/`headlines`, `by`/`bylines`, `infosources`, `located`, `services`,
picture `associations` and their captions, credits and `descriptions`, dates, `language` —
or in the entries of such a list, or as keys) and the JSON envelope (`json-*`: `body`,
`headline`, `byline` as a string or a list, `published`, `language`, `section`, `id`, many,
duplicate or huge keys, many small objects in an array). A JSON frame escapes the repeated
text with json.dumps, so the file stays valid JSON; the `*-raw*` frames put the unit in as
JSON syntax (deep `[` nesting, many small objects, repeated keys), and the `*-unterminated`
frames leave the body string open: those must be rejected quickly as `malformed_json` (any
other outcome is reported too). Two kinds of frame grow a second part with the unit, the
same number of times: `*-headline-quotes` (the unit in the headline, an attributed quote
repeated in the body) and `text-speaker` (the unit repeated inside one word, the speaker of
a story's first quote, then as many unattributed quotes). In a unit, `{i}` becomes the repetition's number (`{a}` and
`{A}` its letters, `{g}` ten vowels one letter from the previous repetition's) and `{{`,
`}}` are literal braces.

    cargo build --release
    python3 fuzz/patterns.py                  # the catalogue, then 200 random units
    python3 fuzz/patterns.py --random 1000 --seed 7

A measurement on a possibly busy machine, not a test: confirm a flagged unit by hand at more
sizes before calling it super-linear. The HTML, text and NewsML units of the catalogue are
the cases that were super-linear before session 14's fixes; the ninjs and JSON units put
those, and the JSON shapes (long lists, keys, nesting), through the two JSON parsers. The
units marked session 15 are the quote and entity shapes fixed then (quotes walking back over
their paragraph, headline quotes x body quotes, a huge speaker word shared by every quote,
a person's titles deduplicated by a walk).
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
    # Session 15: list items alternating nested past the uncounted scan (332 s at 1 MB).
    ("html", "<li><dd>"),
    ("html", "<span><li></span></li>"),
    ("text", '"We go home now." '),
    ("text", "Line {a} here\n"),
    ("text", "By Ann {A}\n"),
    ("text", "M{g} Lee said. "),
    ("newsml-attrs", ' a{i}=""'),
    # ninjs: the HTML cases in `body_html` and `bodies`, text cases in `body_text`.
    ("ninjs-body_html", "<div></span>"),
    ("ninjs-body_html", "<span></div>"),
    ("ninjs-body_html", "<b id={i}>x<p>y"),
    ("ninjs-body_html", "<b id={i}><table></b></table>"),
    ("ninjs-body_html", "<p><span></p><x></span>"),
    ("ninjs-body_html", "<figure><figcaption>Open caption "),
    ("ninjs-bodies", "<div></span>"),
    ("ninjs-bodies", "<div><xmp></div></xmp>"),
    ("ninjs-body_text", '"We go home now." '),
    ("ninjs-body_text", "Line {a} here\n\n"),
    ("ninjs-body_text", "By Ann {A}\n"),
    ("ninjs-headline", '"We go home now." '),
    ("ninjs-both", '"We go home now," said Ann {A}. '),
    ("ninjs-headlines", "Talks {a} resume"),
    ("ninjs-by", "By Ann {A} and "),
    ("ninjs-bylines", "Ann {A}"),
    ("ninjs-bylines", "Ann Lee"),
    ("ninjs-bylines", "By Ann {A} and Bo {A}, Reuters"),
    ("ninjs-infosources", "Source {A}"),
    ("ninjs-located", "Geneva "),
    ("ninjs-services", "s{i}"),
    ("ninjs-captions", "Ann {A} arrives in Geneva."),
    ("ninjs-captions", '"Yes," said Ann {A}.'),
    ("ninjs-credits", "Ann {A}/Reuters"),
    ("ninjs-credits", "Ann {A}"),
    ("ninjs-assoc-object", "Minister {A} speaks in Geneva."),
    ("ninjs-descriptions", "Caption {a}"),
    ("ninjs-caption", '"Yes," said Ann {A}. '),
    ("ninjs-subject", "Politics {a}"),
    ("ninjs-dates", "2024-01-15 "),
    ("ninjs-language", "en-"),
    ("ninjs-keys", "k{i}"),
    ("ninjs-keys", "uri"),
    ("ninjs-hugekey", "k"),
    ("ninjs-raw-array", "["),
    ("ninjs-raw-array", "{{\"name\": \"Politics {i}\"}}, "),
    ("ninjs-unterminated", "<div></span>"),
    # The JSON envelope: its body goes to the quote and entity stages as it is.
    ("json-body", '"We go home now." '),
    ("json-body", "Line {a} here\n"),
    ("json-body", "By Ann {A}\n"),
    ("json-body", "\u201cYes,\u201d said Ann {A}. "),
    ("json-body", "x\x01"),
    ("json-headline", '"We go home now." '),
    ("json-both", '"We go home now," said Ann {A}. '),
    ("json-byline", "By Ann {A} and "),
    ("json-bylines", "By Ann {A}"),
    ("json-published", "2024-01-15 "),
    ("json-language", "en "),
    ("json-section", "World "),
    ("json-id", "x"),
    ("json-keys", "k{i}"),
    ("json-keys", "headline"),
    ("json-hugekey", 'k"'),
    ("json-objects", "a{i}"),
    ("json-raw", "["),
    ("json-raw", "[1, "),
    ("json-raw", "{{\"a\": "),
    ("json-raw-array", "["),
    ("json-raw-array", "{{\"a\": {i}}}, "),
    ("json-raw-array", "[], "),
    ("json-raw-object", '"k{i}": 1, '),
    ("json-raw-object", '"body": "x", '),
    ("json-unterminated", "Line {a} "),
    # Session 15: uncued quotes whose next sentence opens its own clause, one paragraph.
    ("text", '"Go home." That said it. '),
    ("ninjs-body_text", '"Go home." That said it. '),
    ("json-body", '"Go home." That said it. '),
    # Session 15: headline quotes x attributed body quotes (a feed's headline is unbounded).
    ("ninjs-headline-quotes", '"zq{i}" '),
    ("json-headline-quotes", '"zq{i}" '),
    # Session 15: one huge word as the first quote's speaker, shared by the quotes after it.
    ("text-speaker", "a"),
    # Session 15: thousands of distinct titles of one person.
    ("text", "{A}{a} Minister John Kerry. "),
    ("ninjs-body_text", "{A}{a} Minister John Kerry. "),
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

# Pieces of the random units of the `*-raw*` frames, which go in as JSON syntax.
JSON_TOKENS = [
    "[", "]", "{{", "}}", '"a": ', '"k{i}": ', '"body": ', '"x{i}", ', "1, ", "-0.5e300, ",
    "null, ", "true, ", "[], ", "{{}}, ", '"\\u00e9", ', '"\\"", ', ": ", ", ", '"',
]

# Formats of the random units: made of TOKENS, or of JSON_TOKENS for the `*-raw*` ones.
RANDOM_FORMATS = [
    "html", "html", "html-svg", "html-select-style", "text",
    "ninjs-body_html", "ninjs-bodies", "ninjs-body_text", "ninjs-headline", "ninjs-both",
    "ninjs-bylines", "ninjs-captions", "json-body", "json-headline", "json-byline",
    "json-raw", "json-raw-array", "json-raw-object",
]


def letters(i, upper=False):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(ord("a") + r) + s
    return s.capitalize() if upper else s


def pieces(unit, n):
    """The `n` repetitions of `unit`, each with its number filled in."""
    if "{" not in unit:
        return [unit] * n
    return [unit.format(i=i, a=letters(i), A=letters(i, True), g=gray(i)) for i in range(n)]


def gray(i):
    """Ten vowels spelling `i` in a reflected base-4 Gray code: consecutive numbers give
    words one letter apart (a chain of one-letter variants of one name)."""
    digits = []
    for _ in range(10):
        i, d = divmod(i, 4)
        digits.append(d)
    return "".join(
        "aeio"[3 - d if k + 1 < 10 and digits[k + 1] % 2 else d] for k, d in enumerate(digits)
    )


def repeat(unit, n):
    if "{" not in unit:
        return unit * n
    return "".join(pieces(unit, n))


TEXT_BODY = f"GENEVA (Reuters) - {STORY}"
# The body quote of the `*-headline-quotes` frames, repeated as often as the unit.
ATTRIBUTED = '"We go home now," said Ann Lee. '
HTML_BODY = f"<p>{TEXT_BODY}</p>"
NINJS = {
    "uri": "urn:newsml:example.org:20240115:talks", "type": "text",
    "versioncreated": "2024-01-15T18:05:00+01:00", "language": "en",
    "headline": "Talks to resume in Geneva",
}
ENVELOPE = {
    "id": "env-1", "headline": "Talks to resume in Geneva", "section": "World",
    "published": "2024-01-15T09:00:00Z", "language": "en", "byline": "By Ann Lee",
}


def dumps(value):
    return json.dumps(value, ensure_ascii=False)


def fields(base, **changes):
    """`base` with `changes` (a None value drops the field)."""
    obj = {**base, **changes}
    return {k: v for k, v in obj.items() if v is not None}


def ninjs(**changes):
    return dumps(fields(NINJS, **changes))


def envelope(**changes):
    return dumps(fields({**ENVELOPE, "body": TEXT_BODY}, **changes))


def with_keys(keys, obj):
    """`obj` as JSON with the keys `keys` (each holding 0) in front: duplicates stay."""
    return "{" + "".join(f"{dumps(k)}: 0, " for k in keys) + dumps(obj)[1:]


def picture(**changes):
    """A picture association, as small as the parser takes it (`type` may be left out), so
    that a megabyte holds as many as it can."""
    return changes


# ninjs and envelope frames: from the list of repetitions `p` to the file's text.
JSON_FRAMES = {
    "ninjs-body_text": lambda p: ninjs(body_text=TEXT_BODY + "\n\n" + "".join(p)),
    "ninjs-body_html": lambda p: ninjs(body_html=HTML_BODY + "".join(p)),
    "ninjs-bodies": lambda p: ninjs(bodies=[
        {"role": "summary", "contenttype": "text/plain", "value": "Talks."},
        {"role": "main", "contenttype": "text/html", "value": HTML_BODY + "".join(p)},
    ]),
    "ninjs-headline": lambda p: ninjs(headline="".join(p), body_text=TEXT_BODY),
    "ninjs-both": lambda p: ninjs(
        headline="".join(p), body_text=TEXT_BODY + "\n\n" + "".join(p)
    ),
    "ninjs-headline-quotes": lambda p: ninjs(
        headline="".join(p), body_text=TEXT_BODY + "\n\n" + ATTRIBUTED * len(p)
    ),
    "ninjs-headlines": lambda p: ninjs(
        headline=None, body_text=TEXT_BODY,
        headlines=[{"role": "sub", "value": x} for x in p] + [{"role": "main", "value": "T"}],
    ),
    "ninjs-by": lambda p: ninjs(by="".join(p), body_text=TEXT_BODY),
    "ninjs-bylines": lambda p: ninjs(
        body_text=TEXT_BODY, bylines=[{"name": x, "role": "author"} for x in p]
    ),
    "ninjs-infosources": lambda p: ninjs(
        body_text=TEXT_BODY, infosources=[{"name": x, "role": "source"} for x in p]
        + [{"name": "Northbridge Press", "literal": "distributor"}],
    ),
    "ninjs-located": lambda p: ninjs(located={"name": "".join(p)}, body_text=TEXT_BODY),
    "ninjs-services": lambda p: ninjs(
        body_text=TEXT_BODY, services=[{"code": x} for x in p] + [{"name": "World"}]
    ),
    "ninjs-captions": lambda p: ninjs(
        body_text=TEXT_BODY, associations=[picture(description_text=x) for x in p]
    ),
    "ninjs-credits": lambda p: ninjs(
        body_text=TEXT_BODY, associations=[picture(by=x) for x in p]
    ),
    "ninjs-assoc-object": lambda p: ninjs(body_text=TEXT_BODY, associations={
        f"picture{i}": picture(descriptions=[{"role": "caption", "value": x}])
        for i, x in enumerate(p)
    }),
    "ninjs-descriptions": lambda p: ninjs(body_text=TEXT_BODY, associations={
        "featureimage": picture(descriptions=[{"role": "alt", "value": x} for x in p]
                                + [{"role": "caption", "value": "Talks."}]),
    }),
    "ninjs-caption": lambda p: ninjs(
        body_text=TEXT_BODY, associations=[picture(description_text="".join(p))]
    ),
    # Not read by the parser: what serde_json alone costs.
    "ninjs-subject": lambda p: ninjs(
        body_text=TEXT_BODY,
        subject=[{"name": x, "code": f"medtop:{i}"} for i, x in enumerate(p)],
    ),
    "ninjs-dates": lambda p: ninjs(
        body_text=TEXT_BODY, versioncreated="".join(p), firstcreated="".join(p)
    ),
    "ninjs-language": lambda p: ninjs(body_text=TEXT_BODY, language="".join(p)),
    "ninjs-keys": lambda p: with_keys(p, fields(NINJS, body_text=TEXT_BODY)),
    "ninjs-hugekey": lambda p: ninjs(body_text=TEXT_BODY, **{"".join(p): 1}),
    "ninjs-raw-array": lambda p: (
        ninjs(body_text=TEXT_BODY)[:-1] + ', "subject": [' + "".join(p) + "null]}"
    ),
    "ninjs-unterminated": lambda p: (
        '{"uri": "urn:x:1", "body_html": ' + dumps(HTML_BODY + "".join(p))[:-1]
    ),
    "json-body": lambda p: envelope(body=TEXT_BODY + "\n\n" + "".join(p)),
    "json-headline": lambda p: envelope(headline="".join(p)),
    "json-both": lambda p: envelope(
        headline="".join(p), body=TEXT_BODY + "\n\n" + "".join(p)
    ),
    "json-headline-quotes": lambda p: envelope(
        headline="".join(p), body=TEXT_BODY + "\n\n" + ATTRIBUTED * len(p)
    ),
    "json-byline": lambda p: envelope(byline="".join(p)),
    "json-bylines": lambda p: envelope(byline=p),
    "json-published": lambda p: envelope(published="".join(p)),
    "json-language": lambda p: envelope(language="".join(p)),
    "json-section": lambda p: envelope(section="".join(p)),
    "json-id": lambda p: envelope(id="".join(p)),
    "json-keys": lambda p: with_keys(p, fields({**ENVELOPE, "body": TEXT_BODY})),
    "json-hugekey": lambda p: envelope(**{"".join(p): 1}),
    # Not read by the parser: what serde_json alone costs.
    "json-objects": lambda p: envelope(extra=[{"a": x} for x in p]),
    "json-raw": "".join,
    "json-raw-array": lambda p: envelope()[:-1] + ', "extra": [' + "".join(p) + "null]}",
    "json-raw-object": lambda p: "{" + "".join(p) + envelope()[1:],
    "json-unterminated": lambda p: (
        '{"id": "env-1", "body": ' + dumps(TEXT_BODY + "\n\n" + "".join(p))[:-1]
    ),
}

# Text frames that grow more than the unit: from the list of repetitions `p` to the body.
TEXT_FRAMES = {
    # The repetitions make one word, the speaker of the first quote; as many quotes follow.
    "text-speaker": lambda p: (
        "X" + "".join(p) + ' said: "We go home now." ' + '"We go home now." ' * len(p)
    ),
}

# The outcome a frame must have whatever its unit (the file is broken by construction).
EXPECTED = {"ninjs-unterminated": "malformed_json", "json-unterminated": "malformed_json"}


def build(fmt, unit, n):
    """The story of `n` repetitions of `unit` in the frame `fmt`."""
    if fmt in JSON_FRAMES:
        return JSON_FRAMES[fmt](pieces(unit, n))
    if fmt in TEXT_FRAMES:
        return frame("text", TEXT_FRAMES[fmt](pieces(unit, n)))
    return frame(fmt, repeat(unit, n))


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
    one = len(build(fmt, unit, 200).encode()) / 200
    big = max(1, int(max_bytes * 0.95 / max(one, 1)))
    results = []
    for n in (big // 4, big):
        path = pathlib.Path(tmp) / "story"
        data = build(fmt, unit, n).encode()
        while len(data) > max_bytes and n > 1:  # numbered units grow with their number
            n = int(n * max_bytes / len(data) * 0.98)
            data = build(fmt, unit, n).encode()
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
        fmt = rng.choice(RANDOM_FORMATS)
        tokens = JSON_TOKENS if "-raw" in fmt else TOKENS
        units.append((fmt, "".join(rng.choice(tokens) for _ in range(rng.randint(1, 4)))))
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
                or EXPECTED.get(fmt, outcome) != outcome
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
