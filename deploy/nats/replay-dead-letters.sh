#!/bin/sh
# Re-publish dead letters to the raw subject after the cause has been fixed and the
# fixed worker is deployed. Each dead letter holds the original story bytes; it is
# republished with Nats-Msg-Id set to its Wire-Enricher-Original-Id so the story
# keeps its record id. With --delete, a dead letter is removed once the raw stream
# has acknowledged its copy (so a second run does not replay it again).
#
# Needs the `nats` CLI (connection from NATS_URL/NATS_CREDS/context, as an operator),
# jq and base64.
#
# usage: replay-dead-letters.sh [--kind KIND] [--from SEQ] [--to SEQ] [--delete] [--dry-run]
#   --kind KIND   only dead letters whose Wire-Enricher-Error header equals KIND
#   --from/--to   stream sequence range in STORIES_DEAD (default: the whole stream)
set -eu

dead_stream=${DEAD_STREAM:-STORIES_DEAD}
raw_subject=${RAW_SUBJECT:-stories.raw}
kind=""
from=""
to=""
delete=0
dry_run=0
while [ $# -gt 0 ]; do
    case "$1" in
        --kind) kind=$2; shift 2 ;;
        --from) from=$2; shift 2 ;;
        --to) to=$2; shift 2 ;;
        --delete) delete=1; shift ;;
        --dry-run) dry_run=1; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

state=$(nats stream info "$dead_stream" --json)
first=${from:-$(printf '%s' "$state" | jq -r '.state.first_seq')}
last=${to:-$(printf '%s' "$state" | jq -r '.state.last_seq')}
echo "replay: $dead_stream sequences $first..$last -> $raw_subject${kind:+ (kind $kind)}"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
replayed=0
skipped=0
seq=$first
while [ "$seq" -le "$last" ]; do
    if ! msg=$(nats stream get "$dead_stream" "$seq" --json 2> /dev/null); then
        seq=$((seq + 1))   # deleted or expired
        continue
    fi
    # hdrs is the base64 of the NATS header block ("NATS/1.0\r\nKey: Value\r\n...").
    headers=$(printf '%s' "$msg" | jq -r '.hdrs // empty' | base64 -d | tr -d '\r')
    error_kind=$(printf '%s\n' "$headers" | sed -n 's/^Wire-Enricher-Error: //p' | head -n 1)
    original_id=$(printf '%s\n' "$headers" | sed -n 's/^Wire-Enricher-Original-Id: //p' | head -n 1)
    if [ -n "$kind" ] && [ "$error_kind" != "$kind" ]; then
        skipped=$((skipped + 1))
        seq=$((seq + 1))
        continue
    fi
    printf '%s' "$msg" | jq -r '.data' | base64 -d > "$tmp"
    echo "replay: seq $seq id ${original_id:-?} kind ${error_kind:-?} ($(wc -c < "$tmp") bytes)"
    if [ "$dry_run" -eq 0 ]; then
        if [ -n "$original_id" ]; then
            nats pub "$raw_subject" --jetstream --force-stdin -H "Nats-Msg-Id:$original_id" < "$tmp"
        else
            nats pub "$raw_subject" --jetstream --force-stdin < "$tmp"
        fi
        if [ "$delete" -eq 1 ]; then
            nats stream rmm "$dead_stream" "$seq" --force
        fi
    fi
    replayed=$((replayed + 1))
    seq=$((seq + 1))
done
if [ "$dry_run" -eq 1 ]; then
    echo "replay: dry run: $replayed would be republished, $skipped skipped"
else
    echo "replay: $replayed republished, $skipped skipped"
fi
