"""The Postgres source through `tidemark up`, from a client's side (run by tests/tests/postgres.rs): connectors are
created over plain HTTP (urllib) as a Kafka Connect user would, and their topics are read with confluent-kafka, Avro
through the bundled registry with its AvroDeserializer, or as plain JSON / text as the connector was configured.

Usage:
  connect_client.py create CONNECT_URL FILE...
      POSTs each file (Kafka Connect's `{"name": ..., "config": {...}}`) to /connectors, checks the answer (201, the
      password hidden) and waits until every connector's task is RUNNING.
  connect_client.py avro BOOTSTRAP REGISTRY_URL TOPIC COUNT
  connect_client.py json BOOTSTRAP TOPIC COUNT
      Reads TOPIC from its start until COUNT records arrived (60 s at most), then one more second to catch any record
      too many, and prints them as one JSON list. Each record is {"offset", "key", "value", "headers"} and, for
      Avro, "key_schema" and "value_schema": the names of the writer schemas the registry holds for the ids in the
      record's bytes (full names; for a primitive its `connect.name` or type; for an optional union its branch).
      Avro values are printed in a form that keeps their Python type: a Decimal as {"$decimal": "12.34"}, bytes as
      {"$bytes": HEX}; a tombstone's value is null. With `json`, the key is its UTF-8 text and the value its parsed
      JSON.
"""
import decimal
import json
import struct
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def call(url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def create(url, files):
    names = []
    for path in files:
        with open(path) as f:
            definition = json.load(f)
        status, body = call(url, "POST", "/connectors", definition)
        assert status == 201, "creating %s: %s %s" % (definition["name"], status, body)
        password = definition["config"].get("database.password")
        if password is not None:
            # A config-provider reference names where the secret is, and is shown as it is.
            shown = password if password.startswith("${") else "[hidden]"
            assert body["config"]["database.password"] == shown, "the password is shown: %s" % body
        names.append(definition["name"])
    for name in names:
        deadline = time.time() + 30
        while True:
            status, body = call(url, "GET", "/connectors/%s/status" % name)
            tasks = body.get("tasks") if status == 200 else None
            if tasks and tasks[0]["state"] == "RUNNING":
                break
            assert not tasks or tasks[0]["state"] != "FAILED", "%s failed: %s" % (name, body)
            assert time.time() < deadline, "%s did not run within 30 s: %s %s" % (name, status, body)
            time.sleep(0.1)
    print(json.dumps(names))


def plain(value):
    """An Avro-decoded value as JSON that still tells a Decimal or bytes from a string."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    return value


def read(bootstrap, topic, count, decode):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "postgres-check-%f" % time.time(),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    deadline = time.time() + 60
    # Assigned, not subscribed: no group to join, every partition from its start (the topic may not exist yet).
    while True:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is None and metadata.partitions:
            break
        assert time.time() < deadline, "no topic %s: %s" % (topic, metadata.error)
        time.sleep(0.2)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(metadata.partitions)])
    records = []
    settle = None
    while time.time() < deadline and (settle is None or time.time() < settle):
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            records.append(decode(message))
        if settle is None and len(records) >= count:
            settle = time.time() + 1.0
    consumer.close()
    return records


def headers(message):
    return {k: (v.decode() if v is not None else None) for k, v in (message.headers() or [])}


def avro(bootstrap, registry_url, topic, count):
    registry = SchemaRegistryClient({"url": registry_url})
    deserialize = AvroDeserializer(registry)

    def schema_name(data):
        if data is None:
            return None
        assert data[0] == 0, "not Confluent's wire format (magic byte %d)" % data[0]
        schema = json.loads(registry.get_schema(struct.unpack(">I", data[1:5])[0]).schema_str)
        if isinstance(schema, list):
            branches = [branch for branch in schema if branch != "null"]
            schema = branches[0] if len(branches) == 1 else schema
        if not isinstance(schema, dict):
            return schema
        if "name" not in schema:
            return schema.get("connect.name", schema.get("type"))
        if "." in schema["name"] or not schema.get("namespace"):
            return schema["name"]
        return schema["namespace"] + "." + schema["name"]

    def decode(message):
        key = deserialize(message.key(), SerializationContext(topic, MessageField.KEY))
        value = None if message.value() is None else deserialize(message.value(),
                                                                 SerializationContext(topic, MessageField.VALUE))
        return {"offset": message.offset(), "key": plain(key), "value": plain(value), "headers": headers(message),
                "key_schema": schema_name(message.key()), "value_schema": schema_name(message.value())}

    print(json.dumps(read(bootstrap, topic, count, decode)))


def plain_json(bootstrap, topic, count):
    def decode(message):
        key = None if message.key() is None else message.key().decode()
        value = None if message.value() is None else json.loads(message.value())
        return {"offset": message.offset(), "key": key, "value": value, "headers": headers(message)}

    print(json.dumps(read(bootstrap, topic, count, decode)))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create":
        create(args[0], args[1:])
    elif command == "avro":
        avro(args[0], args[1], args[2], int(args[3]))
    elif command == "json":
        plain_json(args[0], args[1], int(args[2]))
    else:
        raise SystemExit("unknown command %s" % command)
