#!/usr/bin/env python3
"""Cross-file consistency checks of the deployment files.

Each deployment artefact repeats a few facts of the worker's configuration (stream
and durable names, ack_wait, replicas, the shutdown timeout, metric names). Schemas
cannot see that two valid files disagree; this script can. It reads only files under
deploy/ and prints one line per check. Exit status 0 = all passed.

It must not talk to any network service and must not change any file.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import promql_parser
import yaml

DEPLOY = Path(__file__).resolve().parent.parent
RESULTS: list[tuple[bool, str]] = []

# The worker's configuration keys (config/default.toml); deploy files may use no others.
CONFIG_KEYS = {
    "nats": {"url", "credentials_file", "nkey_seed_file", "token_file", "user", "password_file",
             "tls_ca", "tls_cert", "tls_key", "connect_timeout"},
    "input": {"mode", "stream", "subjects", "durable", "ack_wait", "max_deliver", "max_ack_pending",
              "batch", "queue_group", "replicas"},
    "output": {"stream", "subject", "duplicate_window", "replicas"},
    "dead_letter": {"stream", "subject", "replicas"},
    "pipeline": {"channel_capacity", "parallelism"},
    "limits": {"max_story_bytes"},
    "http": {"listen"},
    "log": {"format", "level"},
    "shutdown": {"timeout"},
}
WORKER_METRICS = {
    "wire_enricher_stories_in_total", "wire_enricher_stories_out_total",
    "wire_enricher_dead_letters_total", "wire_enricher_redeliveries_total",
    "wire_enricher_publish_retries_total", "wire_enricher_stage_seconds_bucket",
    "wire_enricher_stage_seconds_sum", "wire_enricher_stage_seconds_count",
    "wire_enricher_channel_depth", "wire_enricher_bytes_in_total", "wire_enricher_bytes_out_total",
}
# prometheus-nats-exporter (-jsz=all) series this deployment reads, and Prometheus' own.
OTHER_METRICS = {
    "up", "jetstream_consumer_num_pending", "jetstream_consumer_num_ack_pending",
    "jetstream_stream_total_bytes", "jetstream_stream_total_messages",
}
DURATION = re.compile(r"^(\d+)(ms|s|m|h)$")


def check(ok: bool, what: str) -> None:
    RESULTS.append((ok, what))
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")


def seconds(text: str) -> float:
    """Parse the worker's duration strings ("30s", "2h", "250ms")."""
    m = DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def load_yaml_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def check_worker_config() -> dict:
    print("worker config (deploy/config/worker.toml):")
    text = (DEPLOY / "config/worker.toml").read_text()
    cfg = tomllib.loads(text)
    unknown = [f"{s}.{k}" for s, t in cfg.items() for k in (t if isinstance(t, dict) else {"": 0})
               if s not in CONFIG_KEYS or k not in CONFIG_KEYS[s]]
    check(not unknown, f"only known config keys {unknown or ''}")
    for key in (("input", "ack_wait"), ("output", "duplicate_window"), ("shutdown", "timeout"),
                ("nats", "connect_timeout")):
        try:
            seconds(cfg[key[0]][key[1]])
            check(True, f"{'.'.join(key)} = {cfg[key[0]][key[1]]} is a duration")
        except (KeyError, ValueError) as exc:
            check(False, f"{'.'.join(key)} is a duration ({exc})")
    check(cfg["http"]["listen"].startswith("0.0.0.0:"), "http.listen binds all interfaces (containers)")
    cm = load_yaml_docs(DEPLOY / "k8s/base/configmap.yaml")[0]
    check(cm["data"]["config.toml"] == text, "k8s ConfigMap config.toml is identical to worker.toml")
    return cfg


def check_nats(cfg: dict) -> None:
    print("NATS definitions vs worker config:")
    streams = {json.loads(p.read_text())["name"]: json.loads(p.read_text())
               for p in (DEPLOY / "nats/streams").glob("*.json")}
    for p in (DEPLOY / "nats/streams").glob("*.json"):
        check(p.stem == json.loads(p.read_text())["name"], f"{p.name} is named after its stream")
    pairs = [("input", cfg["input"]["stream"], cfg["input"]["subjects"]),
             ("output", cfg["output"]["stream"], [cfg["output"]["subject"]]),
             ("dead_letter", cfg["dead_letter"]["stream"], [cfg["dead_letter"]["subject"]])]
    for section, name, subjects in pairs:
        s = streams.get(name)
        check(s is not None, f"{section} stream {name} has a definition")
        if s is None:
            continue
        check(set(subjects) <= set(s["subjects"]), f"{name} carries {subjects}")
        check(s["num_replicas"] == cfg[section].get("replicas", s["num_replicas"]),
              f"{name} replicas {s['num_replicas']} == {section}.replicas")
    raw = streams[cfg["input"]["stream"]]
    out = streams[cfg["output"]["stream"]]
    check(raw["max_msg_size"] >= cfg["limits"]["max_story_bytes"],
          "STORIES_RAW max_msg_size >= limits.max_story_bytes (oversized stories reach the worker and are dead-lettered)")
    dead = streams[cfg["dead_letter"]["stream"]]
    check(dead["max_msg_size"] > raw["max_msg_size"], "dead-letter max_msg_size leaves room for error headers")
    horizon = seconds(cfg["input"]["ack_wait"]) * cfg["input"]["max_deliver"]
    window = out["duplicate_window"] / 1e9
    check(window == seconds(cfg["output"]["duplicate_window"]),
          "STORIES_ENRICHED duplicate_window == output.duplicate_window")
    check(window >= 4 * horizon,
          f"output duplicate window {window:.0f}s >= 4 x redelivery horizon ({horizon:.0f}s)")

    consumers = sorted((DEPLOY / "nats/consumers").glob("*.json"))
    inputs = [p for p in consumers if p.stem.split(".", 1)[0] == cfg["input"]["stream"]]
    check(len(inputs) == 1, "one durable definition on the input stream")
    c = json.loads(inputs[0].read_text())
    stream, durable = inputs[0].stem.split(".", 1)
    check(stream == cfg["input"]["stream"] and durable == c["durable_name"] == cfg["input"]["durable"],
          f"durable {stream}/{durable} matches input.stream/input.durable")
    check(c["filter_subject"] in cfg["input"]["subjects"], "durable filter is an input subject")
    check(c["ack_policy"] == "explicit", "durable acks explicitly")
    check(c["ack_wait"] / 1e9 == seconds(cfg["input"]["ack_wait"]), "durable ack_wait == input.ack_wait")
    check(c["max_deliver"] == cfg["input"]["max_deliver"], "durable max_deliver == input.max_deliver")
    check(c["max_ack_pending"] == cfg["input"]["max_ack_pending"],
          "durable max_ack_pending == input.max_ack_pending")
    # The rescue (src/bus/rescue.rs): <input stream>_MAX_DELIVERIES keeps the durable's
    # max-deliveries advisories; the workers share <durable>-rescue on it.
    advisories = f"{stream}_MAX_DELIVERIES"
    advisory_subject = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"
    a = streams.get(advisories)
    check(a is not None and a["subjects"] == [advisory_subject] and a["retention"] == "workqueue",
          f"{advisories} keeps {advisory_subject} as a work queue")
    check(a is not None and a["num_replicas"] == cfg["input"].get("replicas", a["num_replicas"]),
          f"{advisories} replicas == input.replicas")
    check([p.stem for p in consumers if p.stem.split(".", 1)[0] == advisories] == [f"{advisories}.{durable}-rescue"],
          f"one rescue durable {durable}-rescue on {advisories}")

    conf = (DEPLOY / "nats/server/cluster.conf").read_text()
    m = re.search(r"max_file_store\s*=\s*(\d+)", conf)
    reserved = sum(s["max_bytes"] for s in streams.values())
    check(m is not None and int(m.group(1)) >= reserved,
          f"cluster max_file_store covers the streams' reserved max_bytes ({reserved} bytes)")
    perms = (DEPLOY / "nats/server/permissions.conf").read_text()
    for subject in (f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}", f"$JS.ACK.{stream}.{durable}.>",
                    cfg["output"]["subject"], cfg["dead_letter"]["subject"],
                    f"$JS.API.STREAM.MSG.GET.{stream}",
                    f"$JS.API.CONSUMER.MSG.NEXT.{advisories}.{durable}-rescue",
                    f"$JS.ACK.{advisories}.{durable}-rescue.>"):
        check(f'"{subject}"' in perms, f"worker permissions allow {subject}")


def check_timeouts(cfg: dict) -> None:
    print("graceful shutdown budgets vs shutdown.timeout:")
    timeout = seconds(cfg["shutdown"]["timeout"])
    dep = load_yaml_docs(DEPLOY / "k8s/base/deployment.yaml")[0]
    grace = dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    check(grace >= timeout + 10, f"k8s terminationGracePeriodSeconds {grace} >= shutdown.timeout + 10s")
    compose = load_yaml_docs(DEPLOY / "compose.yaml")[0]
    stop = seconds(compose["services"]["worker"]["stop_grace_period"])
    check(stop >= timeout + 10, f"compose stop_grace_period {stop:.0f}s >= shutdown.timeout + 10s")
    unit = (DEPLOY / "systemd/wire-enricher.service").read_text()
    m = re.search(r"^TimeoutStopSec=(\S+)$", unit, re.M)
    check(m is not None and seconds(m.group(1)) >= timeout + 10, "systemd TimeoutStopSec >= shutdown.timeout + 10s")
    check("ExecReload" not in re.sub(r"#.*", "", unit), "systemd unit has no ExecReload (no reload support)")


def check_scaling(cfg: dict) -> None:
    print("autoscaling vs the durable:")
    so = load_yaml_docs(DEPLOY / "k8s/overlays/keda/scaledobject.yaml")[0]
    trig = next(t for t in so["spec"]["triggers"] if t["type"] == "nats-jetstream")["metadata"]
    check(trig["stream"] == cfg["input"]["stream"] and trig["consumer"] == cfg["input"]["durable"],
          "KEDA trigger watches the worker's stream and durable")
    accounts = (DEPLOY / "nats/server/accounts-demo.conf").read_text()
    check(re.search(rf"^\s*{re.escape(trig['account'])}\s*=\s*{{", accounts, re.M) is not None,
          f"KEDA account {trig['account']} is the account of the worker user")
    useful = cfg["input"]["max_ack_pending"] // cfg["input"]["batch"]
    check(so["spec"]["maxReplicaCount"] <= useful,
          f"KEDA maxReplicaCount {so['spec']['maxReplicaCount']} <= max_ack_pending / batch ({useful})")
    check(any(t["type"] == "cpu" for t in so["spec"]["triggers"]), "KEDA has a CPU trigger as fallback")


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (crude but sufficient: identifiers
    followed by { or [ or standing alone that look like metric names)."""
    names = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{|\[)", expr))
    names |= set(re.findall(r"\b(wire_enricher[a-z_:0-9]*|jetstream_[a-z_]+)\b", expr))
    return {n for n in names if n not in {"by", "on", "without", "ignoring"}}


def check_promql(records: set[str]) -> None:
    print("Prometheus rules and Grafana dashboard:")
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())
    exprs: list[tuple[str, str]] = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            kind = "alert" if "alert" in rule else "record"
            check(kind in rule and "expr" in rule and set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations", "keep_firing_for"},
                  f"rule {rule.get(kind)} has a valid shape")
            if kind == "alert":
                check("summary" in rule.get("annotations", {}) and "severity" in rule.get("labels", {}),
                      f"alert {rule['alert']} has a summary and a severity")
            else:
                records.add(rule["record"])
            exprs.append((rule[kind], rule["expr"]))
    dash = json.loads((DEPLOY / "grafana/dashboards/wire-enricher.json").read_text())
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            exprs.append((f"panel {panel['title']}", t["expr"].replace("$__rate_interval", "1m")))
    titles = {p["title"].lower() for p in dash["panels"]}
    for needed in ("stories per second", "stage latency p50 / p99", "dead letters by reason",
                   "consumer lag (stories_raw)"):
        check(needed in titles, f"dashboard has a '{needed}' panel")
    known = WORKER_METRICS | OTHER_METRICS | records
    for name, expr in exprs:
        try:
            promql_parser.parse(expr)
            parsed = True
        except Exception as exc:  # promql_parser raises ValueError-like errors
            parsed = False
            name = f"{name}: {exc}"
        unknown = metric_names(expr) - known - {"histogram_quantile", "rate", "sum", "max", "increase",
                                                 "count", "absent", "deriv", "clamp_min"}
        check(parsed and not unknown, f"PromQL of {name} parses and uses known metrics {sorted(unknown) or ''}")


def check_compose_paths() -> None:
    print("compose bind mounts and secrets:")
    compose = load_yaml_docs(DEPLOY / "compose.yaml")[0]
    for svc, spec in compose["services"].items():
        for vol in spec.get("volumes", []):
            src = vol.split(":", 1)[0]
            if not src.startswith("."):
                continue
            path = (DEPLOY / src).resolve()
            if src == "../tests/fixtures/stories" and not path.exists():
                print(f"  note {svc}: {src} is not in this tree yet (shipped by the fixtures work)")
                continue
            check(path.exists(), f"{svc}: {src} exists")
    for name, spec in compose.get("secrets", {}).items():
        check((DEPLOY / spec["file"]).is_file(), f"secret {name}: {spec['file']} exists")


def main() -> int:
    cfg = check_worker_config()
    check_nats(cfg)
    check_timeouts(cfg)
    check_scaling(cfg)
    check_promql(set())
    check_compose_paths()
    failed = [w for ok, w in RESULTS if not ok]
    print(f"consistency: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
