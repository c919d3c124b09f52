"""A connect worker (inside `tidemark up`, or `tidemark connect` with a registry), over plain HTTP (urllib): a
datagen source of 20,000 records at 4,000 records/s and a `file` sink reading its topic. Records are Avro by default
when the worker has a schema registry: confluent-kafka's AvroDeserializer reads them through it.

`create` makes both connectors, sees them RUNNING and returns once some records have reached the file, noting in
STATE_FILE the sink's committed offsets just before it returns (the caller then kills the process mid-stream).
`check`, after the restart, waits until the file holds every record and checks that none is missing and that
no record below the offsets committed before the crash was written twice (duplicates come only from after them).
The file gets up to 120 s: a worker restarted alone rejoins its sink's consumer group only once the broker has
expired the killed member's session (librdkafka's `session.timeout.ms`, 45 s by default).

Usage: connect_datagen.py create|check CONNECT_URL BOOTSTRAP REGISTRY_URL SINK_FILE STATE_FILE.
Prints `records=N duplicates=D`.
"""
import json
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

phase, url, bootstrap, registry_url, sink_file, state_file = sys.argv[1:7]
TOTAL = 20000


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_running(name):
    deadline = time.time() + 30
    while time.time() < deadline:
        status, body = call("GET", "/connectors/%s/status" % name)
        if status == 200 and body["tasks"] and body["tasks"][0]["state"] == "RUNNING":
            return
        time.sleep(0.1)
    raise AssertionError("%s did not run: %s" % (name, call("GET", "/connectors/%s/status" % name)))


def avro_order_ids(minimum):
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check-%s-%f" % (phase, time.time()),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["orders"])
    ids = []
    deadline = time.time() + 60
    while len(set(ids)) < minimum and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        order = deserialize(message.value(), SerializationContext("orders", MessageField.VALUE))
        ids.append(order["order_id"])
    consumer.close()
    return ids


def sink_lines():
    try:
        with open(sink_file) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def committed():
    status, body = call("GET", "/connectors/sink/offsets")
    assert status == 200, (status, body)
    return {(o["partition"]["kafka_topic"], o["partition"]["kafka_partition"]): o["offset"]["kafka_offset"]
            for o in body["offsets"]}


if phase == "create":
    source = {"connector.class": "datagen", "kafka.topic": "orders", "rate": "4000", "iterations": str(TOTAL),
              "batch.size": "100", "database.password": "hunter2"}
    status, body = call("POST", "/connectors", {"name": "gen", "config": source})
    assert status == 201, (status, body)
    assert body["config"]["database.password"] == "[hidden]", body
    sink = {"connector.class": "file", "topics": "orders", "file": sink_file, "offset.flush.interval.ms": "200"}
    status, body = call("POST", "/connectors", {"name": "sink", "config": sink})
    assert status == 201, (status, body)
    wait_running("gen")
    wait_running("sink")
    ids = avro_order_ids(1000)
    deadline = time.time() + 30
    while (len(sink_lines()) < 1000 or not committed()) and time.time() < deadline:
        time.sleep(0.1)
    before = committed()
    assert before, "the sink committed nothing"
    with open(state_file, "w") as f:
        json.dump([[t, p, o] for (t, p), o in before.items()], f)
    lines = sink_lines()
    assert len(set(l["value"]["order_id"] for l in lines)) < TOTAL, "the stream finished before the crash"
    print("records=%d duplicates=%d" % (len(set(ids)), len(ids) - len(set(ids))))
else:
    wait_running("gen")
    wait_running("sink")
    ids = avro_order_ids(TOTAL)
    assert sorted(set(ids)) == list(range(TOTAL)), "missing in the log: %s" % sorted(set(range(TOTAL)) - set(ids))[:10]
    deadline = time.time() + 120
    while len(set(l["value"]["order_id"] for l in sink_lines())) < TOTAL and time.time() < deadline:
        time.sleep(0.2)
    lines = sink_lines()
    written = [l["value"]["order_id"] for l in lines]
    assert sorted(set(written)) == list(range(TOTAL)), "missing in the file: %s" % sorted(set(range(TOTAL)) - set(written))[:10]
    with open(state_file) as f:
        before = {(t, p): o for t, p, o in json.load(f)}
    seen = {}
    for line in lines:
        position = (line["topic"], line["partition"], line["offset"])
        seen[position] = seen.get(position, 0) + 1
    early_duplicates = [p for p, n in seen.items() if n > 1 and p[2] < before.get((p[0], p[1]), 0)]
    assert not early_duplicates, "records below the committed offsets were written twice: %s" % early_duplicates[:10]
    print("records=%d duplicates=%d" % (len(set(written)), len(written) - len(set(written))))
