#!/usr/bin/env bash
# Admission answers per second and latency on one core: the agent's admission server (derpmgr_admission_bench,
# 1,000 allocations × 10 keys) against nginx returning a fixed 200 JSON, both pinned to CPU 0, each loaded by wrk
# pinned to CPU 1, in the same run. Needs no services; needs wrk and nginx (apt-get install -y wrk nginx-light;
# the package's own service is never started here: nginx runs with a config of its own on 127.0.0.1).
#
#   bench/run_admission.sh                                 build/ (Debug + ASan/UBSan)
#   DERPMGR_BENCH_BUILD_DIR=build-release DERPMGR_BENCH_BUILD_TYPE=Release bench/run_admission.sh
#
# Two loads: DERPMGR_BENCH_CONNECTIONS (50 keep-alive connections: the server's core saturated, for throughput) and
# DERPMGR_BENCH_LIGHT_CONNECTIONS (4: a few derpers asking at once, for latency without a queue).
# DERPMGR_BENCH_DURATION (20 s per measurement), DERPMGR_BENCH_ROUNDS (2: each server measured that often per load,
# alternating), DERPMGR_BENCH_SERVER_CPU (0), DERPMGR_BENCH_CLIENT_CPU (1).
set -euo pipefail
source "$(dirname "$0")/common.sh"
duration=${DERPMGR_BENCH_DURATION:-20}
connections=${DERPMGR_BENCH_CONNECTIONS:-50}
light_connections=${DERPMGR_BENCH_LIGHT_CONNECTIONS:-4}
rounds=${DERPMGR_BENCH_ROUNDS:-2}
server_cpu=${DERPMGR_BENCH_SERVER_CPU:-0}
client_cpu=${DERPMGR_BENCH_CLIENT_CPU:-1}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
for tool in wrk "$nginx" taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y wrk nginx-light)" >&2; exit 1; }
done

bench_build derpmgr_admission_bench

work=$(mktemp -d)
admission_pid=""
nginx_pid=""
cleanup() {
  if [ -n "$admission_pid" ]; then kill "$admission_pid" 2>/dev/null || true; wait "$admission_pid" 2>/dev/null || true; fi
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The admission server, as the agent runs it: one io_context thread.
export ASAN_OPTIONS=detect_leaks=0
taskset -c "$server_cpu" "$build/bench/derpmgr_admission_bench" --allocations 1000 --keys 10 \
  --wrk-script "$work/admit.lua" >"$work/admission.out" 2>&1 &
admission_pid=$!
for _ in $(seq 100); do grep -q '^port ' "$work/admission.out" && break; sleep 0.1; done
admission_port=$(awk '/^port /{print $2}' "$work/admission.out")
[ -n "$admission_port" ] || { cat "$work/admission.out" >&2; exit 1; }

# nginx: one process, no logs, the same JSON answer to the same POST, keep-alive without a request cap.
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$nginx_port;
    location /admit/ {
      default_type application/json;
      add_header Cache-Control no-store;
      return 200 '{"Allow":true}';
    }
  }
}
CONF
taskset -c "$server_cpu" "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/admit/x" -d '{}' && break; sleep 0.1; done

# Both must say yes to the request wrk will send.
path=$(awk -F'"' '/wrk.path/{print $2}' "$work/admit.lua")
body=$(awk -F"'" '/wrk.body/{print $2}' "$work/admit.lua")
for port in "$admission_port" "$nginx_port"; do
  answer=$(curl -s "http://127.0.0.1:$port$path" -H 'Content-Type: application/json' -d "$body")
  [ "$answer" = '{"Allow":true}' ] || { echo "bench: 127.0.0.1:$port answered $answer" >&2; exit 1; }
done

echo "bench: servers on CPU $server_cpu, wrk (1 thread, ${duration} s per measurement) on CPU $client_cpu"
run_wrk() {  # name port connections
  local out="$work/wrk-$1-$3-$round.txt"
  taskset -c "$client_cpu" wrk -t1 -c"$3" -d"${duration}s" --latency -s "$work/admit.lua" \
    "http://127.0.0.1:$2" >"$out"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/{print $2}' "$out")
  p50=$(awk '$1=="50%"{print $2}' "$out")
  p99=$(awk '$1=="99%"{print $2}' "$out")
  errors=$(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ' || true)
  printf '%-9s %3d connections, round %d: %10s req/s   p50 %8s   p99 %8s   %s\n' "$1" "$3" "$round" "$rps" "$p50" \
    "$p99" "$errors"
  echo "$rps" >>"$work/rps-$1-$3"
}
sum() { awk '{ s += $1 } END { print s }' "$1"; }
# A short warm-up of each, then alternate so that both see the same machine.
taskset -c "$client_cpu" wrk -t1 -c"$connections" -d2s -s "$work/admit.lua" "http://127.0.0.1:$admission_port" >/dev/null
taskset -c "$client_cpu" wrk -t1 -c"$connections" -d2s -s "$work/admit.lua" "http://127.0.0.1:$nginx_port" >/dev/null
for c in "$connections" "$light_connections"; do
  for round in $(seq "$rounds"); do
    run_wrk admission "$admission_port" "$c"
    run_wrk nginx "$nginx_port" "$c"
  done
  awk -v a="$(sum "$work/rps-admission-$c")" -v n="$(sum "$work/rps-nginx-$c")" -v c="$c" \
    'BEGIN { printf "admission / nginx throughput at %d connections: %.2f\n", c, a / n }'
done

# The admission server's own count: every answer wrk got was a real decision.
kill "$admission_pid"
wait "$admission_pid" || true
admission_pid=""
grep '^decisions' "$work/admission.out"
