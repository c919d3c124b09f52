"""kafka-python as a consumer group member: consume every record of TOPIC from the group's committed offsets
(earliest for a new group), commit, and leave.

Usage: kafka_python_group.py BOOTSTRAP TOPIC GROUP EXPECTED. Prints `consumed=N`; exits non-zero unless exactly
EXPECTED distinct records arrived.
"""
import sys

from kafka import KafkaConsumer

bootstrap, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id=group,
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=8000,
)
seen = set()
for message in consumer:
    seen.add((message.partition, message.offset))
    if len(seen) == expected:
        break
consumer.commit()
consumer.close()
print("consumed=%d" % len(seen))
sys.exit(0 if len(seen) == expected else 1)
