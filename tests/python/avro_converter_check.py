"""confluent-kafka's AvroDeserializer reading what Tidemark's AvroConverter wrote, and its AvroSerializer writing
what the converter must read (run by connect/tests/avro_converter.rs against a registry it serves).

Usage: avro_converter_check.py REGISTRY_URL TOPIC HEX. Prints two lines: the value AvroDeserializer reads from the
hex bytes (written for TOPIC), as JSON with decimals as text, bytes as hex and timestamps in ISO 8601; then the hex
of a record AvroSerializer writes for the topic `py-TOPIC`.
"""
import datetime
import decimal
import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

url, topic, hexed = sys.argv[1], sys.argv[2], sys.argv[3]
client = SchemaRegistryClient({"url": url})


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


read = AvroDeserializer(client)(bytes.fromhex(hexed), SerializationContext(topic, MessageField.VALUE))
print(json.dumps(plain(read), sort_keys=True))

SCHEMA = """{"type": "record", "name": "Payment", "namespace": "py", "fields": [
  {"name": "id", "type": "long"},
  {"name": "payer", "type": ["null", "string"], "default": null},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CARD", "CASH"]}}]}"""
serializer = AvroSerializer(client, SCHEMA)
payment = {"id": 9, "payer": "py", "amount": decimal.Decimal("1.50"), "kind": "CASH"}
print(serializer(payment, SerializationContext("py-" + topic, MessageField.VALUE)).hex())
