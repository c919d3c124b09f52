"""HTTP clients of Tidemark's secured HTTP APIs (schema registry, connect worker).

Usage:
  secure_http.py call METHOD URL [--user NAME:PASSWORD | --token TOKEN] [--ca CA.pem] [--body JSON]
      one request with urllib; prints `status=N` and `body=...` (exits 0 whatever the status: the caller judges).
  secure_http.py registry URL SUBJECT [--user NAME:PASSWORD] [--ca CA.pem]
      confluent-kafka's SchemaRegistryClient registers an Avro schema under SUBJECT and reads it back by id;
      prints `id=N` and `outcome=ok`, or `outcome=refused` and `error=...`.
"""
import argparse
import base64
import json
import ssl
import sys
import urllib.error
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("command", choices=["call", "registry"])
parser.add_argument("args", nargs="+")
parser.add_argument("--user")
parser.add_argument("--token")
parser.add_argument("--ca")
parser.add_argument("--body")
options = parser.parse_args()


def call(method, url):
    headers = {"Content-Type": "application/json"}
    if options.user:
        headers["Authorization"] = "Basic " + base64.b64encode(options.user.encode()).decode()
    if options.token:
        headers["Authorization"] = "Bearer " + options.token
    data = options.body.encode() if options.body else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    context = ssl.create_default_context(cafile=options.ca) if options.ca else None
    try:
        with urllib.request.urlopen(request, timeout=20, context=context) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    except Exception as e:  # refused connections, TLS failures, a TLS port answering garbage: the caller judges
        status, body = 0, "%s: %s" % (type(e).__name__, e)
    print("status=%d" % status)
    print("body=%s" % body.replace("\n", " "))


def registry(url, subject):
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    config = {"url": url}
    if options.user:
        config["basic.auth.user.info"] = options.user
    if options.ca:
        config["ssl.ca.location"] = options.ca
    client = SchemaRegistryClient(config)
    schema = Schema(json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]}), "AVRO")
    try:
        schema_id = client.register_schema(subject, schema)
        fetched = client.get_schema(schema_id)
        assert "Order" in fetched.schema_str, fetched.schema_str
    except Exception as e:  # the caller judges what was refused
        print("outcome=refused")
        print("error=%s" % str(e).replace("\n", " "))
        return
    print("id=%d" % schema_id)
    print("outcome=ok")


if options.command == "call":
    call(options.args[0], options.args[1])
else:
    registry(options.args[0], options.args[1])
sys.stdout.flush()
