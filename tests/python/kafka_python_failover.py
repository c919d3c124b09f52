"""kafka-python through a failover: a producer (acks=all, retries) writes COUNT records to TOPIC, one every few
milliseconds, while a consumer group member reads them and commits as it goes; the test kills a leader meanwhile.

Usage: kafka_python_failover.py BOOTSTRAP TOPIC GROUP COUNT. Prints one JSON object: `acknowledged` and `consumed`,
lists of [partition, offset, value], in the order they happened. Exits non-zero if the consumer did not get every
acknowledged record within the time allowed.
"""
import json
import sys
import threading
import time

from kafka import KafkaConsumer, KafkaProducer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
acknowledged, consumed = [], []
lock = threading.Lock()


def produce():
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", retries=20, retry_backoff_ms=200, request_timeout_ms=10000
    )
    pending = []
    for i in range(count):
        value = "py-%d" % i
        pending.append((value, producer.send(topic, value.encode())))
        time.sleep(0.01)
    for value, future in pending:
        try:
            metadata = future.get(timeout=60)
        except Exception as e:  # a record the producer gave up on is simply not acknowledged
            print("unacknowledged %s: %r" % (value, e), file=sys.stderr)
            continue
        with lock:
            acknowledged.append([metadata.partition, metadata.offset, value])
    producer.close()


writer = threading.Thread(target=produce)
writer.start()
consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id=group,
    auto_offset_reset="earliest",
    enable_auto_commit=True,
    auto_commit_interval_ms=200,
    session_timeout_ms=6000,
    heartbeat_interval_ms=500,
)
deadline = time.time() + 90
while time.time() < deadline:
    for records in consumer.poll(timeout_ms=200).values():
        for message in records:
            consumed.append([message.partition, message.offset, message.value.decode()])
    with lock:
        done = not writer.is_alive() and {tuple(a) for a in acknowledged} <= {tuple(c) for c in consumed}
    if done:
        break
consumer.close()
writer.join()
print(json.dumps({"acknowledged": acknowledged, "consumed": consumed}))
sys.exit(0 if done else 1)
