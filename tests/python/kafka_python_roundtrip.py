"""kafka-python against Tidemark: produce 300 records with gzip to a 3-partition topic, consume them back.

Usage: kafka_python_roundtrip.py BOOTSTRAP. Prints `consumed=N`; exits non-zero on any mismatch.
"""
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap = sys.argv[1]
topic = "kafka-python"

admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="gzip", enable_idempotence=True)
futures = [producer.send(topic, key=b"k%d" % i, value=b"value-%d" % i) for i in range(300)]
producer.flush()
for f in futures:
    f.get(timeout=10)
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10000)
partitions = [TopicPartition(topic, p) for p in range(3)]
consumer.assign(partitions)
consumer.seek_to_beginning(*partitions)
seen = {}
for message in consumer:
    seen[message.key] = message.value
    if len(seen) == 300:
        break
consumer.close()

expected = {b"k%d" % i: b"value-%d" % i for i in range(300)}
if seen != expected:
    missing = sorted(set(expected) - set(seen))[:5]
    print("mismatch: got %d records, missing e.g. %s" % (len(seen), missing))
    sys.exit(1)
print("consumed=%d" % len(seen))
