"""The connect worker inside `tidemark up`, over plain HTTP (urllib): create a datagen connector of 20,000 records
at 4,000 records/s, see it RUNNING, and read records with confluent-kafka. `create` returns once some records are
there (the caller then kills the process mid-stream); `check`, after the restart, waits until every record is.

Usage: connect_datagen.py create|check CONNECT_URL BOOTSTRAP. Prints `records=N duplicates=D`.
"""
import json
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer

phase, url, bootstrap = sys.argv[1], sys.argv[2], sys.argv[3]
TOTAL = 20000


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_running():
    deadline = time.time() + 30
    while time.time() < deadline:
        status, body = call("GET", "/connectors/gen/status")
        if status == 200 and body["tasks"] and body["tasks"][0]["state"] == "RUNNING":
            return
        time.sleep(0.1)
    raise AssertionError("the connector did not run: %s" % (call("GET", "/connectors/gen/status"),))


def order_ids(minimum):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check-%s-%f" % (phase, time.time()),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["orders"])
    ids = []
    deadline = time.time() + 60
    while len(set(ids)) < minimum and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        ids.append(json.loads(message.value())["payload"]["order_id"])
    consumer.close()
    return ids


if phase == "create":
    config = {"connector.class": "datagen", "kafka.topic": "orders", "rate": "4000", "iterations": str(TOTAL),
              "batch.size": "100", "database.password": "hunter2"}
    status, body = call("POST", "/connectors", {"name": "gen", "config": config})
    assert status == 201, (status, body)
    assert body["config"]["database.password"] == "[hidden]", body
    wait_running()
    ids = order_ids(1000)
    assert len(set(ids)) < TOTAL, "the stream finished before the crash; the test needs it mid-stream"
else:
    wait_running()
    ids = order_ids(TOTAL)
    assert sorted(set(ids)) == list(range(TOTAL)), "missing: %s" % sorted(set(range(TOTAL)) - set(ids))[:10]
print("records=%d duplicates=%d" % (len(set(ids)), len(ids) - len(set(ids))))
