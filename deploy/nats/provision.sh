#!/bin/sh
# Create (or bring up to date) the wire-enricher streams and durable from the JSON
# definitions beside this script, with the `nats` CLI. Idempotent: an existing
# stream or durable is edited to match its file, which the server allows for every
# field this deployment changes (limits, description, replicas), and refuses for
# the fields it cannot change (e.g. retention), which then needs a migration
# (deploy/README.md, "Upgrade and rollback").
#
# Connection: the usual nats CLI settings, e.g. NATS_URL, NATS_USER, NATS_PASSWORD
# or NATS_CREDS, or a selected `nats context`. Run it as an operator, not as the
# worker (the worker's user may not create streams).
#
# usage: provision.sh [DEFINITIONS_DIR]    (default: the directory of this script)
#        WAIT_SECONDS=60 provision.sh      (wait for JetStream to come up first)
set -eu

dir=${1:-$(dirname "$0")}
wait_seconds=${WAIT_SECONDS:-60}

waited=0
until nats account info > /dev/null 2>&1; do
    if [ "$waited" -ge "$wait_seconds" ]; then
        echo "provision: JetStream not reachable after ${wait_seconds}s" >&2
        nats account info >&2 || true
        exit 1
    fi
    sleep 2
    waited=$((waited + 2))
done

for file in "$dir"/streams/*.json; do
    name=$(basename "$file" .json)
    if nats stream info "$name" > /dev/null 2>&1; then
        echo "provision: updating stream $name from $file"
        nats stream edit "$name" --config "$file" --force
    else
        echo "provision: creating stream $name from $file"
        nats stream add "$name" --config "$file"
    fi
done

# consumers/<STREAM>.<DURABLE>.json
for file in "$dir"/consumers/*.json; do
    base=$(basename "$file" .json)
    stream=${base%%.*}
    durable=${base#*.}
    if nats consumer info "$stream" "$durable" > /dev/null 2>&1; then
        echo "provision: updating durable $stream/$durable from $file"
        nats consumer edit "$stream" "$durable" --config "$file" --force
    else
        echo "provision: creating durable $stream/$durable from $file"
        nats consumer add "$stream" "$durable" --config "$file"
    fi
done
echo "provision: done"
