#!/usr/bin/env bash
# `make demo`: builds and starts the whole system locally — private MariaDB, dockerd, SMTP sink, the controller
# (HTTPS) and an agent on this machine — and prints where to look. Ctrl-C stops everything it started.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

bash scripts/build.sh

started_here=0
if ! bash scripts/services.sh status >/dev/null 2>&1; then
  started_here=1
fi
bash scripts/services.sh start
eval "$(bash scripts/services.sh env)"

demo="$DERPMGR_RUN_DIR/demo"
mkdir -p "$demo/controller" "$demo/agent"
schema=derpmgr_demo
sql() {
  mariadb --no-defaults -h "$DERPMGR_TEST_MYSQL_HOST" -P "$DERPMGR_TEST_MYSQL_PORT" -u "$DERPMGR_TEST_MYSQL_USER" \
    -p"$DERPMGR_TEST_MYSQL_PASSWORD" -e "$1"
}
# The demo's state lives in its folder and its schema together: without the folder, start both afresh.
if [ ! -f "$demo/admin-password" ]; then
  sql "DROP DATABASE IF EXISTS $schema"
  rm -rf "$demo/controller" "$demo/agent"
  mkdir -p "$demo/controller" "$demo/agent"
fi
sql "CREATE DATABASE IF NOT EXISTS $schema CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"

http_port=${DERPMGR_DEMO_HTTP_PORT:-8443}
cat > "$demo/controller.toml" <<TOML
[database]
url = "mysql://$DERPMGR_TEST_MYSQL_USER:$DERPMGR_TEST_MYSQL_PASSWORD@$DERPMGR_TEST_MYSQL_HOST:$DERPMGR_TEST_MYSQL_PORT/$schema"

[http]
listen = "127.0.0.1:$http_port"
public_url = "https://127.0.0.1:$http_port"

[agents]
listen = "127.0.0.1:8444"

[metrics]
listen = "127.0.0.1:9464"

[derper]
# No registry is reachable here: the demo runs the derper stand-in image the tests use (same flags, same
# admission JSON). A real deployment points this at the image packaging/derper builds.
image = "$DERPMGR_TEST_DERPER_IMAGE"

[state]
dir = "$demo/controller"

[smtp]
url = "smtp://$DERPMGR_TEST_SMTP_HOST:$DERPMGR_TEST_SMTP_PORT"
from = "derpmgr demo <noreply@derpmgr.invalid>"
TOML
chmod 600 "$demo/controller.toml"
cat > "$demo/agent.toml" <<TOML
[controller]
url = "https://127.0.0.1:8444"

[state]
dir = "$demo/agent"

[docker]
socket = "$DERPMGR_TEST_DOCKER_SOCKET"

[admission]
listen = "127.0.0.1:7946"
TOML

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$started_here" = 1 ]; then
    bash scripts/services.sh stop || true
  fi
}
trap cleanup INT TERM EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
bash scripts/derper_image.sh --if-built >/dev/null
build/controller/derpmgr-controller ca init --config "$demo/controller.toml" >/dev/null
build/controller/derpmgr-controller serve --config "$demo/controller.toml" >"$demo/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if curl -skf "https://127.0.0.1:$http_port/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the controller did not start:" >&2
    tail -n 20 "$demo/controller.log" >&2
    exit 1
  fi
  sleep 0.2
done
# The demo node: this machine on 127.0.0.2, enrolled once with a token exactly as the console would hand out.
if [ ! -f "$demo/agent/identity.json" ]; then
  token=$(build/controller/derpmgr-controller node create --config "$demo/controller.toml" --name demo-1 \
    --region local --public-ip 127.0.0.2 --ports 41000-41099 | sed -n 's/^enrollment token[^:]*: //p')
  build/agent/derpmgr-agent enroll --config "$demo/agent.toml" --controller https://127.0.0.1:8444 \
    --token "$token" >/dev/null
fi
build/agent/derpmgr-agent run --config "$demo/agent.toml" >"$demo/agent.log" 2>&1 &
pids+=($!)

# A seeded owner admin; the password is made once and kept (0600) in the demo folder.
admin_email=admin@derpmgr.demo
if [ ! -f "$demo/admin-password" ]; then
  (umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$demo/admin-password")
  build/controller/derpmgr-controller admin create --config "$demo/controller.toml" --email "$admin_email" \
    --role owner --password-stdin < "$demo/admin-password" >/dev/null
fi

cat <<MSG

derpmgr demo is running.
  API (HTTPS, self-signed):  https://127.0.0.1:$http_port   (readiness: https://127.0.0.1:$http_port/readyz)
  Metrics:                    http://127.0.0.1:9464/metrics
  Mail sent by the system:    $DERPMGR_TEST_MAIL_DIR
  Logs:                       $demo/controller.log, $demo/agent.log
  Owner admin:                $admin_email / password in $demo/admin-password
                              (sign in: POST /api/v1/admin/auth/login, then enrol TOTP at /api/v1/admin/auth/mfa/setup)
  DERP node:                  demo-1 on 127.0.0.2 (agent enrolled and connected; GET /api/v1/admin/nodes)
The web console arrives with the console work (see README).
Press Ctrl-C to stop everything the demo started.
MSG
wait "${pids[0]}"
