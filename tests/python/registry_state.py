"""Registry state that must survive a restart, over plain HTTP (urllib).

Usage: registry_state.py write|check URL. `write` registers schemas, sets levels and modes and soft-deletes a
version; `check` verifies every id, version, level, mode and soft delete is as `write` left it. Prints `ok`.
"""
import json
import sys
import urllib.error
import urllib.request

phase, url = sys.argv[1], sys.argv[2]
CT = "application/vnd.schemaregistry.v1+json"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": CT})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def record(name, *fields):
    return json.dumps({"type": "record", "name": name, "fields": [dict(f) for f in fields]})


A1 = record("A", {"name": "x", "type": "int"})
A2 = record("A", {"name": "x", "type": "int"}, {"name": "y", "type": "string", "default": ""})
B1 = record("B", {"name": "z", "type": "long"})

if phase == "write":
    assert call("POST", "/subjects/a-value/versions", {"schema": A1}) == (200, {"id": 1})
    assert call("POST", "/subjects/a-value/versions", {"schema": A2}) == (200, {"id": 2})
    assert call("POST", "/subjects/b-value/versions", {"schema": B1}) == (200, {"id": 3})
    assert call("PUT", "/config", {"compatibility": "FULL_TRANSITIVE"}) == (200, {"compatibility": "FULL_TRANSITIVE"})
    assert call("PUT", "/config/b-value", {"compatibility": "NONE"}) == (200, {"compatibility": "NONE"})
    assert call("PUT", "/mode/b-value", {"mode": "READONLY"}) == (200, {"mode": "READONLY"})
    assert call("DELETE", "/subjects/a-value/versions/1") == (200, 1)
else:
    assert call("GET", "/subjects") == (200, ["a-value", "b-value"]), call("GET", "/subjects")
    assert call("GET", "/subjects/a-value/versions") == (200, [2])
    assert call("GET", "/subjects/a-value/versions?deleted=true") == (200, [1, 2])
    status, body = call("GET", "/subjects/a-value/versions/latest")
    assert status == 200 and body["id"] == 2 and body["version"] == 2, body
    assert call("GET", "/schemas/ids/3")[1]["schema"] == B1
    assert call("GET", "/config") == (200, {"compatibilityLevel": "FULL_TRANSITIVE"})
    assert call("GET", "/config/b-value") == (200, {"compatibilityLevel": "NONE"})
    assert call("GET", "/mode/b-value") == (200, {"mode": "READONLY"})
    status, body = call("POST", "/subjects/b-value/versions", {"schema": A1})
    assert status == 422 and body["error_code"] == 42205, (status, body)
    status, body = call("DELETE", "/subjects/a-value/versions/1")
    assert status == 404 and body["error_code"] == 40406, (status, body)
    # Ids are never reused: the next new schema gets 4.
    assert call("POST", "/subjects/c-value/versions", {"schema": record("C", {"name": "q", "type": "int"})}) == (200, {"id": 4})
print("ok")
