#!/usr/bin/env bash
# The registry benchmark (scripts/bench registry): lookups and registrations under a load generator (wrk), each as
# a ratio to a reference measured on the same server in the same run.
#   - GET /schemas/ids/{id} and POST /subjects/{s} (lookup) against GET / (HTTP itself); goal >= 0.7x.
#   - Registrations with compatibility checks against a subject holding 100 versions under FULL_TRANSITIVE, against
#     the same under NONE (no checks): the cost of the checks.
# Knobs: BENCH_SECS (seconds per wrk run, default 5), BENCH_CONNECTIONS (default 32), BENCH_DIR (default /tmp).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
here=$PWD
tidemark=${TIDEMARK_BIN:-$here/../../target/release/tidemark}
secs=${BENCH_SECS:-5}
connections=${BENCH_CONNECTIONS:-32}
work=$(mktemp -d "${BENCH_DIR:-/tmp}/tidemark-bench-registry.XXXXXX")
log=$work/tidemark.log

"$tidemark" up --data-dir "$work/data" --kafka-listen 127.0.0.1:0 --registry-listen 127.0.0.1:0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
  address=$(sed -n 's/.*schema registry listener ready address=\([^ ]*\).*/\1/p' "$log" | head -1)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "${address:-}" ] || { echo "the registry did not start:"; cat "$log"; exit 1; }
url=http://$address
ct='Content-Type: application/vnd.schemaregistry.v1+json'

post() { curl -sf -X "$1" -H "$ct" --data "$3" "$url$2" >/dev/null; }
schema_with_field() { # $1: field suffix
  printf '{"schema": "{\\"type\\": \\"record\\", \\"name\\": \\"Bench\\", \\"fields\\": [{\\"name\\": \\"id\\", \\"type\\": \\"long\\"}, {\\"name\\": \\"f_setup_%s\\", \\"type\\": [\\"null\\", \\"string\\"], \\"default\\": null}]}"}' "$1"
}
rps() { # wrk output -> requests per second
  awk '/^Requests\/sec:/ {print $2}'
}
run_wrk() { wrk -t2 -c"$connections" -d"${secs}s" --latency "$@"; }

lookup_body=$(schema_with_field lookup)
post POST /subjects/bench-lookup/versions "$lookup_body"
for level_subject in FULL_TRANSITIVE:bench-full NONE:bench-none; do
  level=${level_subject%%:*}
  subject=${level_subject##*:}
  post PUT "/config/$subject" "{\"compatibility\": \"$level\"}"
  for i in $(seq 1 100); do post POST "/subjects/$subject/versions" "$(schema_with_field "$i")"; done
done

echo "== Tidemark registry benchmark =="
echo "machine: $(nproc) CPUs; wrk -t2 -c$connections -d${secs}s per run; server: tidemark up (release)"
root=$(run_wrk "$url/" | rps)
by_id=$(run_wrk "$url/schemas/ids/1" | rps)
lookup=$(LOOKUP_BODY=$lookup_body run_wrk -s lookup.lua "$url/subjects/bench-lookup" | rps)
full=$(SUBJECT=bench-full run_wrk -s register.lua "$url" | rps)
none=$(SUBJECT=bench-none run_wrk -s register.lua "$url" | rps)
full_versions=$(curl -sf "$url/subjects/bench-full/versions" | tr ',' '\n' | wc -l)
errors=$(grep -c -E ' (WARN|ERROR) ' "$log" || true)

verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g) ? "PASS" : "MISS" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "figures (ratios to references measured in this run)"
r=$(ratio "$by_id" "$root"); echo "  [$(verdict "$r" 0.7)] GET /schemas/ids/{id}: $by_id req/s = ${r}x GET / ($root req/s); goal >= 0.7x"
r=$(ratio "$lookup" "$root"); echo "  [$(verdict "$r" 0.7)] POST /subjects/{s} (lookup): $lookup req/s = ${r}x GET / ($root req/s); goal >= 0.7x"
r=$(ratio "$full" "$none"); echo "  [INFO] register under FULL_TRANSITIVE (100 versions at the start, $full_versions at the end): $full registrations/s = ${r}x the same under NONE ($none/s)"
echo
echo "server log: $errors WARN/ERROR lines"
