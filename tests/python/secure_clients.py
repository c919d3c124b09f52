"""Kafka clients with TLS and SASL against Tidemark: confluent-kafka (librdkafka) and kafka-python.

Usage: secure_clients.py COMMAND [--bootstrap B] [--protocol P] [--mechanism M] [--user U] [--password PW]
                         [--ca CA.pem] [--cert CLIENT.pem --key CLIENT.key] [--client confluent|kafka-python]
                         [--topic T] [--count N] [ARGS...]

Commands (each prints `key=value` lines; exits non-zero when what it was asked to do failed):
  roundtrip              produce --count records to --topic, consume them back in a consumer group: `consumed=N`.
  connect                fetch the cluster's metadata with confluent-kafka, short timeouts: `outcome=connected` and
                         `brokers=host:port,...`, or `outcome=refused`; every error the client reported as
                         `error=NAME: text` (exits 0 either way: the caller judges).
  describe-users         confluent-kafka's describe_user_scram_credentials(): `user NAME MECHANISM:ITERATIONS,...`.
  upsert-user NAME PW    confluent-kafka's alter_user_scram_credentials(): SCRAM-SHA-256 and -512 for NAME.

Single attempts for authorization tests (each exits 0 however the attempt went: the caller judges):
  produce VALUE...       produce the values to --topic with confluent-kafka (idempotent with --idempotent), waiting
                         for every delivery report: `delivered=N`, and `failed=ERROR_NAME` for each distinct
                         delivery error.
  consume                consume --topic in --group from the earliest offset until --count records arrived, an
                         authorization error came or --timeout passed: `record=VALUE` each, `consumed=N`, and
                         `failed=ERROR_NAME` for each distinct consumer error.
  create-topics NAME...  AdminClient.create_topics: `created=NAME` or `failed=NAME:ERROR_NAME` for each.
  create-acls ACL...     AdminClient.create_acls: `created=LINE` or `failed=LINE:ERROR_NAME` for each.
  describe-acls FILTER   AdminClient.describe_acls: `acl=LINE` for each, or `failed=ERROR_NAME`.
  delete-acls FILTER...  AdminClient.delete_acls: `deleted=LINE` for each ACL deleted, `failed=ERROR_NAME`.
An ACL is PRINCIPAL/RESOURCE_TYPE/PATTERN_TYPE/NAME/OPERATION/PERMISSION/HOST (resource type TOPIC, GROUP, CLUSTER
or TRANSACTIONAL_ID); in a filter, ANY matches any value of its field (there is no principal, resource or host named
ANY here). A LINE is an ACL as `tidemark acl list` prints it:
PRINCIPAL<TAB>TYPE:PATTERN:NAME<TAB>OPERATION<TAB>PERMISSION<TAB>HOST.
"""
import argparse
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AdminClient,
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

parser = argparse.ArgumentParser()
parser.add_argument("command")
parser.add_argument("args", nargs="*")
parser.add_argument("--bootstrap", required=True)
parser.add_argument("--protocol", default="PLAINTEXT")
parser.add_argument("--mechanism")
parser.add_argument("--user")
parser.add_argument("--password")
parser.add_argument("--ca")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--client", default="confluent", choices=["confluent", "kafka-python"])
parser.add_argument("--topic", default="secure")
parser.add_argument("--count", type=int, default=100)
parser.add_argument("--group")
parser.add_argument("--idempotent", action="store_true")
parser.add_argument("--timeout", type=float, default=20)
options = parser.parse_args()

errors = []


def on_error(error):
    # librdkafka repeats an error with a different "(after Nms in state ...)": one of each is enough.
    text = "%s: %s" % (error.name(), error.str().split(" (after ")[0])
    if text not in errors:
        errors.append(text)


def confluent_config(**extra):
    config = {
        "bootstrap.servers": options.bootstrap,
        "security.protocol": options.protocol,
        "socket.timeout.ms": 5000,
        "error_cb": on_error,
    }
    if options.mechanism:
        config["sasl.mechanism"] = options.mechanism
        config["sasl.username"] = options.user
        config["sasl.password"] = options.password
    if options.ca:
        config["ssl.ca.location"] = options.ca
    if options.cert:
        config["ssl.certificate.location"] = options.cert
        config["ssl.key.location"] = options.key
    config.update(extra)
    return config


def kafka_python_config():
    config = {"bootstrap_servers": options.bootstrap, "security_protocol": options.protocol}
    if options.mechanism:
        config.update(
            sasl_mechanism=options.mechanism,
            sasl_plain_username=options.user,
            sasl_plain_password=options.password,
        )
    if options.ca:
        config["ssl_cafile"] = options.ca
    if options.cert:
        config.update(ssl_certfile=options.cert, ssl_keyfile=options.key)
    return config


def expected_records():
    return {b"k%d" % i: b"value-%d" % i for i in range(options.count)}


def roundtrip_confluent():
    producer = Producer(confluent_config(**{"acks": "all", "message.timeout.ms": 15000}))
    failures = []

    def delivered(error, message):
        if error is not None:
            failures.append(str(error))

    for key, value in expected_records().items():
        producer.produce(options.topic, key=key, value=value, on_delivery=delivered)
    left = producer.flush(20)
    if left or failures:
        raise SystemExit("produce failed: %d undelivered, errors %s, client errors %s" % (left, failures[:3], errors))
    consumer = Consumer(
        confluent_config(
            **{
                "group.id": "secure-%s-%s" % (options.topic, options.user),
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
    )
    consumer.subscribe([options.topic])
    seen = {}
    deadline = time.time() + 30
    while len(seen) < options.count and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            if message.error().code() != KafkaError._PARTITION_EOF:
                errors.append(str(message.error()))
            continue
        seen[message.key()] = message.value()
    consumer.close()
    return seen


def roundtrip_kafka_python():
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(acks="all", **kafka_python_config())
    futures = [producer.send(options.topic, key=k, value=v) for k, v in expected_records().items()]
    producer.flush()
    for future in futures:
        future.get(timeout=15)
    producer.close()
    consumer = KafkaConsumer(
        options.topic,
        group_id="secure-%s-%s" % (options.topic, options.user),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15000,
        **kafka_python_config(),
    )
    seen = {}
    for message in consumer:
        seen[message.key] = message.value
        if len(seen) == options.count:
            break
    consumer.close()
    return seen


def roundtrip():
    seen = roundtrip_confluent() if options.client == "confluent" else roundtrip_kafka_python()
    for error in errors:
        print("error=%s" % error)
    print("consumed=%d" % len(seen))
    if seen != expected_records():
        raise SystemExit("got %d of %d records back" % (len(seen), options.count))


def connect():
    admin = AdminClient(confluent_config(**{"reconnect.backoff.max.ms": 1000}))
    deadline = time.time() + 8
    first_error_at = None
    last = ""
    metadata = None
    while time.time() < deadline:
        try:
            metadata = admin.list_topics(timeout=1)
            break
        except Exception as e:  # a KafkaException: the errors themselves arrive at error_cb, served by poll()
            last = str(e)
        admin.poll(0.2)
        if errors:
            first_error_at = first_error_at or time.time()
            if time.time() - first_error_at > 1:
                break
    if metadata is not None:
        print("outcome=connected")
        brokers = sorted("%s:%d" % (b.host, b.port) for b in metadata.brokers.values())
        print("brokers=%s" % ",".join(brokers))
    else:
        print("outcome=refused")
        if not errors:
            errors.append("list_topics: %s" % last)
    for error in errors:
        print("error=%s" % error)


def mechanism_name(mechanism):
    return mechanism.name.replace("_", "-")


def describe_users():
    admin = AdminClient(confluent_config())
    described = admin.describe_user_scram_credentials().result(timeout=15)
    for user, description in sorted(described.items()):
        infos = ",".join(
            "%s:%d" % (mechanism_name(i.mechanism), i.iterations) for i in description.scram_credential_infos
        )
        print("user %s %s" % (user, infos))


def upsert_user(name, password):
    admin = AdminClient(confluent_config())
    alterations = [
        UserScramCredentialUpsertion(name, ScramCredentialInfo(mechanism, 8192), password.encode())
        for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)
    ]
    for user, future in admin.alter_user_scram_credentials(alterations).items():
        future.result(timeout=15)
        print("altered=%s" % user)


def produce(values):
    producer = Producer(
        confluent_config(
            **{
                "acks": "all",
                "enable.idempotence": options.idempotent,
                "message.timeout.ms": int(options.timeout * 1000),
            }
        )
    )
    delivered = []
    failures = []

    def on_delivery(error, message):
        if error is None:
            delivered.append(message.value())
        elif error.name() not in failures:
            failures.append(error.name())

    for value in values:
        producer.produce(options.topic, value=value.encode(), on_delivery=on_delivery)
    left = producer.flush(options.timeout + 5)
    print("delivered=%d" % len(delivered))
    for failure in failures:
        print("failed=%s" % failure)
    if left:
        print("undelivered=%d" % left)
    for error in errors:
        print("error=%s" % error)


def consume():
    consumer = Consumer(
        confluent_config(
            **{
                "group.id": options.group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )
    )
    consumer.subscribe([options.topic])
    records = []
    failures = []
    deadline = time.time() + options.timeout
    while len(records) < options.count and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            name = message.error().name()
            if name not in failures:
                failures.append(name)
            if name.endswith("AUTHORIZATION_FAILED"):
                break
            continue
        records.append(message.value())
    consumer.close()
    for record in records:
        print("record=%s" % record.decode())
    print("consumed=%d" % len(records))
    for failure in failures:
        print("failed=%s" % failure)
    for error in errors:
        print("error=%s" % error)


def exception_name(exception):
    if isinstance(exception, KafkaException) and exception.args and isinstance(exception.args[0], KafkaError):
        return exception.args[0].name()
    return "%s(%s)" % (type(exception).__name__, exception)


def create_topics(names):
    admin = AdminClient(confluent_config())
    futures = admin.create_topics([NewTopic(name, 1, 1) for name in names], operation_timeout=10)
    for name in names:
        try:
            futures[name].result(timeout=15)
            print("created=%s" % name)
        except Exception as e:
            print("failed=%s:%s" % (name, exception_name(e)))


def acl_spec(spec, is_filter):
    principal, restype, pattern, name, operation, permission, host = spec.split("/")
    any_text = (lambda text: None if text == "ANY" else text) if is_filter else (lambda text: text)
    restype = "BROKER" if restype == "CLUSTER" else restype
    make = AclBindingFilter if is_filter else AclBinding
    return make(restype, any_text(name), pattern, any_text(principal), any_text(host), operation, permission)


def acl_line(acl):
    restype = "CLUSTER" if acl.restype.name == "BROKER" else acl.restype.name
    return "%s\t%s:%s:%s\t%s\t%s\t%s" % (
        acl.principal,
        restype,
        acl.resource_pattern_type.name,
        acl.name,
        acl.operation.name,
        acl.permission_type.name,
        acl.host,
    )


def create_acls(specs):
    admin = AdminClient(confluent_config())
    bindings = [acl_spec(spec, False) for spec in specs]
    futures = admin.create_acls(bindings, request_timeout=15)
    for binding in bindings:
        try:
            futures[binding].result(timeout=15)
            print("created=%s" % acl_line(binding))
        except Exception as e:
            print("failed=%s:%s" % (acl_line(binding), exception_name(e)))


def describe_acls(spec):
    admin = AdminClient(confluent_config())
    try:
        acls = admin.describe_acls(acl_spec(spec, True), request_timeout=15).result(timeout=15)
    except Exception as e:
        print("failed=%s" % exception_name(e))
        return
    for acl in acls:
        print("acl=%s" % acl_line(acl))


def delete_acls(specs):
    admin = AdminClient(confluent_config())
    filters = [acl_spec(spec, True) for spec in specs]
    futures = admin.delete_acls(filters, request_timeout=15)
    for acl_filter in filters:
        try:
            for acl in futures[acl_filter].result(timeout=15):
                print("deleted=%s" % acl_line(acl))
        except Exception as e:
            print("failed=%s" % exception_name(e))


if options.command == "roundtrip":
    roundtrip()
elif options.command == "connect":
    connect()
elif options.command == "describe-users":
    describe_users()
elif options.command == "upsert-user":
    upsert_user(*options.args)
elif options.command == "produce":
    produce(options.args)
elif options.command == "consume":
    consume()
elif options.command == "create-topics":
    create_topics(options.args)
elif options.command == "create-acls":
    create_acls(options.args)
elif options.command == "describe-acls":
    describe_acls(*options.args)
elif options.command == "delete-acls":
    delete_acls(options.args)
else:
    raise SystemExit("unknown command %s" % options.command)
