"""confluent-kafka's SchemaRegistryClient, AvroSerializer and AvroDeserializer against Tidemark's registry and
broker: register, evolve (compatible and incompatible), serialise records into a topic, read them back with the
deserializer, and decode one with fastavro straight from the Confluent wire format.

Usage: confluent_registry.py BOOTSTRAP REGISTRY_URL. Prints `ok`; raises on any mismatch.
"""
import io
import struct
import sys

import fastavro
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

bootstrap, url = sys.argv[1], sys.argv[2]
topic = "registry-orders"
subject = topic + "-value"

V1 = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "long"},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}}]}"""
# Adds a field with a default: BACKWARD compatible.
V2 = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "long"},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
  {"name": "note", "type": ["null", "string"], "default": null}]}"""
# Adds a field without a default: not BACKWARD compatible.
BAD = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "long"}, {"name": "customer", "type": "string"}]}"""

client = SchemaRegistryClient({"url": url})
id1 = client.register_schema(subject, Schema(V1, "AVRO"))
assert client.register_schema(subject, Schema(V1, "AVRO")) == id1, "the same schema keeps its id"
assert client.register_schema("other-value", Schema(V1, "AVRO")) == id1, "ids are global"
assert client.test_compatibility(subject, Schema(V2, "AVRO"))
assert not client.test_compatibility(subject, Schema(BAD, "AVRO"))
try:
    client.register_schema(subject, Schema(BAD, "AVRO"))
    raise AssertionError("an incompatible schema was registered")
except SchemaRegistryError as e:
    assert e.http_status_code == 409 and e.error_code == 40901, (e.http_status_code, e.error_code, e)
latest = client.get_latest_version(subject)
assert latest.version == 1 and latest.schema_id == id1
assert client.get_schema(id1).schema_str is not None
client.set_compatibility(subject_name=subject, level="FULL")
assert client.get_compatibility(subject) == "FULL"

serializer = AvroSerializer(client, V2, conf={"auto.register.schemas": True})
producer = Producer({"bootstrap.servers": bootstrap})
from decimal import Decimal

orders = [{"id": i, "amount": Decimal("%d.%02d" % (i, i % 100)), "status": "PAID" if i % 2 else "NEW",
           "note": None if i % 3 else "note %d" % i} for i in range(20)]
for order in orders:
    value = serializer(order, SerializationContext(topic, MessageField.VALUE))
    producer.produce(topic, value=value)
producer.flush(10)
# (get_latest_version is cached by the client; lookup_schema asks the registry.)
registered = client.lookup_schema(subject, Schema(V2, "AVRO"))
id2 = registered.schema_id
assert id2 != id1 and registered.version == 2, (id1, id2, registered.version)

deserializer = AvroDeserializer(client)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "registry-test", "auto.offset.reset": "earliest"})
consumer.subscribe([topic])
seen = []
raw = None
while len(seen) < len(orders):
    message = consumer.poll(10)
    assert message is not None, "timed out after %d records" % len(seen)
    assert message.error() is None, message.error()
    raw = raw or message.value()
    seen.append(deserializer(message.value(), SerializationContext(topic, MessageField.VALUE)))
consumer.close()
assert seen == orders, (seen[:2], orders[:2])

magic, schema_id = struct.unpack(">bI", raw[:5])
assert magic == 0 and schema_id == id2, (magic, schema_id, id2)
writer = fastavro.parse_schema(__import__("json").loads(client.get_schema(schema_id).schema_str))
decoded = fastavro.schemaless_reader(io.BytesIO(raw[5:]), writer)
assert decoded["id"] == orders[0]["id"] and decoded["amount"] == orders[0]["amount"], decoded
print("ok")
