-- wrk script: POST /subjects/{s} with the schema registered by scripts/bench registry (a lookup).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/vnd.schemaregistry.v1+json"
wrk.body = os.getenv("LOOKUP_BODY")
