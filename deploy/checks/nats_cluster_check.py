#!/usr/bin/env python3
"""Live check of the NATS side of the deployment on a private loopback cluster.

Starts three nats-server processes (127.0.0.1, free ports, a temporary store) with the
shipped accounts and permission sets (deploy/nats/server/), creates the streams and the
durable from deploy/nats/streams/*.json and deploy/nats/consumers/*.json exactly as
written (R3), and then proves, message by message, that:

* a feeder can publish a raw story and nothing else;
* the worker can pull it from its durable, publish a record (deduplicated by
  Nats-Msg-Id), publish a dead letter, and ack, and cannot publish raw stories,
  create streams or read other subjects;
* acking removes the story from the work-queue stream.

It touches nothing but its own servers: never the machine's NATS on port 4222.
Needs nats-server on PATH and the nats-py package. Exit status 0 = all checks passed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nats
from nats.errors import TimeoutError as NatsTimeout

DEPLOY = Path(__file__).resolve().parent.parent
NATS_DIR = DEPLOY / "nats"
FAILURES: list[str] = []
CLIENT_ERRORS: list[str] = []


def check(ok: bool, what: str) -> None:
    """Record one named check."""
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAILURES.append(what)


def free_ports(n: int) -> list[int]:
    """Ask the kernel for n free loopback ports."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def write_configs(tmp: Path) -> list[tuple[Path, int]]:
    """Write one loopback config per node that includes the shipped accounts file."""
    for name in ("accounts-demo.conf", "permissions.conf"):
        shutil.copy(NATS_DIR / "server" / name, tmp / name)
    ports = free_ports(9)
    client, http, route = ports[0:3], ports[3:6], ports[6:9]
    routes = "\n".join(f'    "nats-route://127.0.0.1:{p}"' for p in route)
    out = []
    for i in range(3):
        conf = tmp / f"node-{i + 1}.conf"
        conf.write_text(
            f"""server_name = "check-{i + 1}"
host = "127.0.0.1"
port = {client[i]}
http = "127.0.0.1:{http[i]}"
jetstream = {{ store_dir = "{tmp / f'store-{i + 1}'}", max_memory_store = 67108864, max_file_store = 85899345920 }}
cluster = {{
  name = "check"
  host = "127.0.0.1"
  port = {route[i]}
  routes = [
{routes}
  ]
}}
max_payload = 8388608
include ./accounts-demo.conf
"""
        )
        out.append((conf, client[i]))
    return out


def wait_for_ports(ports: list[int], deadline: float) -> bool:
    """Wait until every node accepts client connections."""
    pending = list(ports)
    while pending and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.2)
    return not pending


def stream_files() -> list[Path]:
    return sorted((NATS_DIR / "streams").glob("*.json"))


async def connect(urls: list[str], user: str, password: str, errors: list[str]):
    async def on_error(e: Exception) -> None:
        errors.append(str(e))
        CLIENT_ERRORS.append(f"{user}: {e}")

    return await nats.connect(
        servers=urls, user=user, password=password, error_cb=on_error,
        connect_timeout=3, max_reconnect_attempts=3, allow_reconnect=True,
    )


async def api(nc, subject: str, payload: dict | bytes | None = None, timeout: float = 5.0) -> dict:
    """A JetStream API request; returns the decoded JSON reply."""
    if isinstance(payload, dict):
        body = json.dumps(payload).encode()
    else:
        body = payload or b""
    msg = await nc.request(subject, body, timeout=timeout)
    return json.loads(msg.data)


async def pull_one(nc, stream: str, durable: str):
    """One message pulled from a durable. A pull delivery carries the stream's reply
    subject ($JS.ACK...), which nats-py's request() does not route back: a plain inbox
    subscription instead."""
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    await nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
                     json.dumps({"batch": 1, "expires": 3_000_000_000}).encode(), reply=inbox)
    msg = await sub.next_msg(timeout=5)
    await sub.unsubscribe()
    return msg


async def wait_for_jetstream(nc, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            reply = await api(nc, "$JS.API.INFO", timeout=2)
            if "error" not in reply:
                return True
        except (NatsTimeout, nats.errors.NoRespondersError):
            pass
        await asyncio.sleep(0.5)
    return False


async def denied(nc, errors: list[str], action, what: str) -> None:
    """Run action and expect the server to report a permissions violation."""
    before = len(errors)
    try:
        await action()
        await nc.flush(timeout=2)
    except Exception as exc:  # a denied request may also time out
        errors.append(str(exc))
    await asyncio.sleep(0.3)
    news = " ".join(errors[before:]).lower()
    check("permission" in news, f"denied: {what}")


async def scenario(urls: list[str]) -> None:
    ops_err: list[str] = []
    ops = await connect(urls, "ops", "ops-demo-only", ops_err)
    check(await wait_for_jetstream(ops, time.monotonic() + 40), "JetStream cluster elected a meta leader")

    print("streams and durable from the shipped JSON files:")
    for path in stream_files():
        cfg = json.loads(path.read_text())
        reply = await api(ops, f"$JS.API.STREAM.CREATE.{cfg['name']}", path.read_bytes(), timeout=15)
        ok = "error" not in reply and reply.get("config", {}).get("num_replicas") == cfg["num_replicas"]
        check(ok, f"stream {cfg['name']} created as written (R{cfg['num_replicas']}, {cfg['retention']}) "
              + ("" if ok else json.dumps(reply.get("error"))))
    for path in sorted((NATS_DIR / "consumers").glob("*.json")):
        stream, durable = path.stem.split(".", 1)
        cfg = json.loads(path.read_text())
        reply = await api(ops, f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
                          {"stream_name": stream, "config": cfg}, timeout=15)
        check("error" not in reply, f"durable {stream}/{durable} created "
              + json.dumps(reply.get("error", "")))

    print("feeder:")
    feed_err: list[str] = []
    feeder = await connect(urls, "feeder", "feeder-demo-only", feed_err)
    story = b"WASHINGTON (Reuters) - A check story for the deployment test."
    ack = json.loads((await feeder.request("stories.raw", story, timeout=5,
                                           headers={"Nats-Msg-Id": "check-story-1"})).data)
    check(ack.get("stream") == "STORIES_RAW", f"feeder publishes to stories.raw (ack {ack})")
    await denied(feeder, feed_err, lambda: feeder.publish("stories.enriched", b"x"),
                 "feeder publishing to stories.enriched")

    print("worker:")
    w_err: list[str] = []
    worker = await connect(urls, "wire-enricher", "worker-demo-only", w_err)
    info = await api(worker, "$JS.API.STREAM.INFO.STORIES_RAW")
    check("error" not in info, "worker reads STORIES_RAW info")
    cinfo = await api(worker, "$JS.API.CONSUMER.INFO.STORIES_RAW.wire-enricher")
    check(cinfo.get("num_pending") == 1, f"durable shows 1 pending story (lag) ({cinfo.get('num_pending')})")
    msg = await pull_one(worker, "STORIES_RAW", "wire-enricher")
    check(msg.data == story and msg.reply.startswith("$JS.ACK.STORIES_RAW.wire-enricher."),
          f"worker pulls the story (ack subject {msg.reply})")
    record = json.dumps({"schema_version": 1, "id": "check-story-1"}).encode()
    headers = {"Nats-Msg-Id": "check-story-1"}
    first = json.loads((await worker.request("stories.enriched", record, timeout=5, headers=headers)).data)
    again = json.loads((await worker.request("stories.enriched", record, timeout=5, headers=headers)).data)
    check(first.get("stream") == "STORIES_ENRICHED" and not first.get("duplicate"),
          "worker publishes the record to STORIES_ENRICHED")
    check(again.get("duplicate") is True and again.get("seq") == first.get("seq"),
          "a redelivered record with the same Nats-Msg-Id is dropped as a duplicate")
    dead = json.loads((await worker.request(
        "stories.dead", story, timeout=5,
        headers={"Wire-Enricher-Error": "parse", "Wire-Enricher-Original-Id": "check-story-2"})).data)
    check(dead.get("stream") == "STORIES_DEAD", "worker publishes a dead letter to STORIES_DEAD")
    # The rescue (src/bus/rescue.rs): the stored story read back by its sequence, and
    # the durable's max-deliveries advisories pulled from the stream that keeps them.
    seq = info.get("state", {}).get("first_seq")
    got = await api(worker, "$JS.API.STREAM.MSG.GET.STORIES_RAW", {"seq": seq})
    check(base64.b64decode(got.get("message", {}).get("data", "")) == story,
          f"worker reads a stored story by its sequence ({seq}) for the rescue")
    # An advisory as the server writes it, published by the operator (the server's own
    # comes only after max_deliver): the advisory stream keeps it, and the worker pulls
    # it from the rescue durable and acks it.
    advisory = {"type": "io.nats.jetstream.advisory.v1.max_deliver", "stream": "STORIES_RAW",
                "consumer": "wire-enricher", "stream_seq": seq, "deliveries": 5}
    await ops.publish("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.STORIES_RAW.wire-enricher",
                      json.dumps(advisory).encode())
    await ops.flush()
    kept = await pull_one(worker, "STORIES_RAW_MAX_DELIVERIES", "wire-enricher-rescue")
    check(json.loads(kept.data).get("stream_seq") == seq
          and kept.reply.startswith("$JS.ACK.STORIES_RAW_MAX_DELIVERIES.wire-enricher-rescue."),
          "worker pulls a kept max-deliveries advisory from the rescue durable")
    await worker.publish(kept.reply, b"+ACK")
    await worker.flush()
    await asyncio.sleep(0.3)
    kept_info = await api(ops, "$JS.API.STREAM.INFO.STORIES_RAW_MAX_DELIVERIES")
    check(kept_info.get("state", {}).get("messages") == 0, "the ack removes the advisory from its work queue")
    await worker.publish(msg.reply, b"+ACK")
    await worker.flush()
    await asyncio.sleep(0.5)
    raw = await api(ops, "$JS.API.STREAM.INFO.STORIES_RAW")
    check(raw.get("state", {}).get("messages") == 0, "the ack removes the story from the work queue")
    durable_file = NATS_DIR / "consumers" / "STORIES_RAW.wire-enricher.json"
    redeclare = await api(worker, "$JS.API.CONSUMER.DURABLE.CREATE.STORIES_RAW.wire-enricher",
                          {"stream_name": "STORIES_RAW", "config": json.loads(durable_file.read_text())})
    check("error" not in redeclare, "worker may re-declare its own durable with the same config")
    await denied(worker, w_err, lambda: worker.publish("$JS.API.CONSUMER.DURABLE.CREATE.STORIES_RAW.other", b"{}"),
                 "worker creating another durable")
    await denied(worker, w_err, lambda: worker.publish("stories.raw", b"x"), "worker publishing raw stories")
    await denied(worker, w_err, lambda: worker.publish("$JS.API.STREAM.CREATE.OTHER", b"{}"),
                 "worker creating streams")
    await denied(worker, w_err, lambda: worker.publish("$JS.API.STREAM.PURGE.STORIES_ENRICHED", b""),
                 "worker purging streams")
    await denied(worker, w_err, lambda: worker.subscribe("stories.enriched"),
                 "worker subscribing to stories.enriched")

    print("worker in core mode:")
    c_err: list[str] = []
    core = await connect(urls, "wire-enricher-core", "core-demo-only", c_err)
    qsub = await core.subscribe("stories.raw", queue="wire-enricher")
    await core.flush()
    # The subscription's interest reaches the feeder's server over a route a moment
    # later: publish until it arrives (bounded).
    got = None
    for _ in range(20):
        await feeder.publish("stories.raw", b"core story")
        try:
            got = await qsub.next_msg(timeout=0.5)
            break
        except NatsTimeout:
            continue
    check(got is not None and got.data == b"core story", "core-mode worker receives raw stories on its queue group")
    await denied(core, c_err, lambda: core.publish("$JS.API.CONSUMER.MSG.NEXT.STORIES_RAW.wire-enricher", b"1"),
                 "core-mode worker using the JetStream durable")

    for nc in (ops, feeder, worker, core):
        await nc.close()


def main() -> int:
    if shutil.which("nats-server") is None:
        print("nats-server is not on PATH (Debian package nats-server)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="wire-enricher-nats-check-"))
    procs = []
    try:
        nodes = write_configs(tmp)
        for conf, _ in nodes:
            log = open(tmp / f"{conf.stem}.log", "w")
            procs.append(subprocess.Popen(["nats-server", "-c", str(conf)], stdout=log, stderr=log))
        urls = [f"nats://127.0.0.1:{port}" for _, port in nodes]
        print(f"loopback cluster: {', '.join(urls)}")
        check(wait_for_ports([port for _, port in nodes], time.monotonic() + 20), "three nodes listening")
        asyncio.run(asyncio.wait_for(scenario(urls), timeout=90))
    except Exception as exc:  # report, then fail
        FAILURES.append(f"scenario aborted: {exc!r}")
        print("  client errors:", CLIENT_ERRORS)
        print(f"  FAIL scenario aborted: {exc!r}")
        for log in sorted(tmp.glob("*.log")):
            print(f"--- {log.name} (tail)\n" + "\n".join(log.read_text().splitlines()[-15:]))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print(f"NATS check: {len(FAILURES)} failure(s)")
        return 1
    print("NATS check: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
