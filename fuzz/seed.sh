#!/usr/bin/env bash
# Builds the fuzz corpora at run time (never committed): fuzz/corpus/<target>/ from the
# repository's tests/fixtures/ and, when present, ../shared/corpus/raw/ (read only;
# WIRE_ENRICHER_SHARED overrides ../shared).
#
#   fuzz/seed.sh            seed every target (keeps what earlier runs found)
#   fuzz/seed.sh --fresh    wipe fuzz/corpus first
#
# Seeds per target:
#   detect, enrich   every raw payload, prefixed with one Content-Type selector byte
#                    (0 = no hint; see `hint_and_payload` in fuzz/src/lib.rs)
#   parse_text       *.txt payloads      parse_html    *.html
#   parse_newsml     *.xml               parse_json    *.json (not the expected records)
#   quotes, entities, tokenize
#                    stage text: `body \x1e headline \x1e caption...` taken from the
#                    expected records (tests/fixtures/**/*.expected.json), plus the raw
#                    text payloads
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
corpus="${FUZZ_CORPUS:-$here/corpus}"  # smoke.sh seeds a fresh one of its own
# The shared data lives at ../shared (or wherever WIRE_ENRICHER_SHARED says, as for the
# evaluations).
shared="${WIRE_ENRICHER_SHARED:-$repo/../shared}/corpus/raw"

[ "${1:-}" = "--fresh" ] && rm -rf "$corpus"
targets=(detect parse_text parse_html parse_newsml parse_json quotes tokenize entities enrich)
for t in "${targets[@]}"; do mkdir -p "$corpus/$t"; done

sources=("$repo/tests/fixtures")
if [ -d "$shared" ]; then
  sources+=("$shared")
else
  echo "seed.sh: $shared is missing; seeding from tests/fixtures only" >&2
fi

# Raw payloads: everything that is not an expected/parse record, a manifest or a doc.
mapfile -t raw < <(find "${sources[@]}" -type f \
  \( -name '*.txt' -o -name '*.html' -o -name '*.xml' -o -name '*.json' \) \
  ! -name '*.expected.json' ! -name '*.parse.json' | sort)

seed() { # target source-file [prefix-byte-octal]
  local name
  name="$(basename "$(dirname "$2")")-$(basename "$2")"
  if [ -n "${3:-}" ]; then
    { printf "\\$3"; cat "$2"; } > "$corpus/$1/$name"
  else
    cp "$2" "$corpus/$1/$name"
  fi
}

for f in "${raw[@]}"; do
  seed detect "$f" 000
  seed enrich "$f" 000
  case "$f" in
    *.txt) seed parse_text "$f"; seed quotes "$f"; seed tokenize "$f"; seed entities "$f" ;;
    *.html) seed parse_html "$f" ;;
    *.xml) seed parse_newsml "$f" ;;
    *.json) seed parse_json "$f" ;;
  esac
done

# Stage text from the expected records: what the parse stage hands the later stages.
python3 - "$corpus" "$repo/tests/fixtures" <<'EOF'
import json, pathlib, sys
corpus, fixtures = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(fixtures.rglob("*.expected.json")):
    record = json.loads(path.read_text(encoding="utf-8"))
    fields = [record.get("body") or "", record.get("headline") or ""]
    fields += [m.get("caption") or "" for m in record.get("media") or []]
    text = "\x1e".join(fields).encode("utf-8")
    for target in ("quotes", "tokenize", "entities"):
        (corpus / target / f"record-{path.parent.name}-{path.stem}").write_bytes(text)
EOF

for t in "${targets[@]}"; do
  printf '%-14s %4d seeds\n' "$t" "$(find "$corpus/$t" -type f | wc -l)"
done
