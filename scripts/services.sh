#!/usr/bin/env bash
# The real services integration tests use: a private MariaDB, a Docker engine and an SMTP sink.
#
#   scripts/services.sh start        start all three (harmless when already running)
#   scripts/services.sh stop         stop exactly what start started
#   scripts/services.sh status       print what is running; exit 3 when something is down
#   scripts/services.sh env          print `export NAME=value` lines for eval "$(scripts/services.sh env)"
#   scripts/services.sh mysql-stop   stop only MariaDB (tests of /readyz use it)
#   scripts/services.sh mysql-start  start only MariaDB
#
# Everything (data, sockets, pid files, logs) lives in ${DERPMGR_RUN_DIR:-<repo>/.run}, except the Docker socket,
# /var/run/docker.sock. A Docker engine that already answers there is used as it is and never stopped.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
run=$(realpath -m "${DERPMGR_RUN_DIR:-$here/.run}")

mysql_port=${DERPMGR_TEST_MYSQL_PORT:-33306}
mysql_user=derpmgr
mysql_password=derpmgr-test
smtp_port=${DERPMGR_TEST_SMTP_PORT:-2525}
image=derpmgr-test-busybox:latest
derper_image=derpmgr-test-derper:latest
docker_sock=/var/run/docker.sock

mysql_dir=$run/mysql
mysql_data=$mysql_dir/data
mysql_pidfile=$mysql_dir/mariadbd.pid
mysql_log=$mysql_dir/mariadbd.log
mysql_socket=$mysql_dir/mysqld.sock

docker_dir=$run/docker
docker_data=$docker_dir/data
docker_exec=$docker_dir/exec

# Unix socket paths are limited to 107 bytes, and containerd nests its sockets deep in dockerd's exec-root, so a long
# run folder gets its sockets in a short folder named after it.
if [ ${#run} -gt 50 ]; then
  sock_dir=/tmp/derpmgr-$(printf '%s' "$run" | cksum | cut -d' ' -f1)
  mysql_socket=$sock_dir/mysqld.sock
  docker_exec=$sock_dir/docker-exec
fi
docker_pidfile=$docker_dir/dockerd.pid
docker_log=$docker_dir/dockerd.log
docker_marker=$docker_dir/started-by-services

smtp_dir=$run/smtp
smtp_pidfile=$smtp_dir/smtp_sink.pid
smtp_log=$smtp_dir/smtp_sink.log
mail_dir=$run/mail

say() { echo "services: $*"; }
die() {
  echo "services: $*" >&2
  exit 1
}

# Prints the last lines of a log to stderr, to explain a failure.
log_tail() {
  if [ -f "$1" ]; then
    echo "--- last lines of $1:" >&2
    tail -n 25 "$1" >&2
  fi
}

# True when PID is a live (not zombie) process.
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Prints the pid in PIDFILE when that process is alive and its command line contains MARK, which names our data
# folder; a pid recycled by an unrelated process therefore does not count.
pid_from() {
  local pidfile=$1 mark=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [ -n "$pid" ] && alive "$pid" || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$mark" || return 1
  echo "$pid"
}

mysql_pid() { pid_from "$mysql_pidfile" "--datadir=$mysql_data"; }
docker_pid() { pid_from "$docker_pidfile" "--data-root=$docker_data"; }
smtp_pid() { pid_from "$smtp_pidfile" "--mail-dir=$mail_dir"; }

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Sends SIGTERM to PID, waits up to SECONDS for it to exit, then SIGKILLs it.
stop_pid() {
  local pid=$1 name=$2 seconds=$3 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  echo "services: $name (pid $pid) ignored SIGTERM for ${seconds}s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  die "$name (pid $pid) survived SIGKILL"
}

# Serialises start/stop so two test runs starting the services at once do not race. The daemons are started with
# fd 9 closed, or they would hold the lock for their lifetime.
take_lock() {
  mkdir -p "$run"
  exec 9>"$run/services.lock"
  flock -w 180 9 || die "another services.sh holds $run/services.lock"
}

root_sql() { mariadb --no-defaults --socket="$mysql_socket" -uroot --batch --skip-column-names "$@"; }

mysql_answers() { mariadb-admin --no-defaults --socket="$mysql_socket" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

mysql_init() {
  [ -d "$mysql_data/mysql" ] && return 0
  local fresh=$mysql_data.new
  rm -rf "$fresh"
  mkdir -p "$fresh"
  say "initialising mariadb data in $mysql_data"
  if ! mariadb-install-db --no-defaults --datadir="$fresh" --user=root --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >>"$mysql_dir/install.log" 2>&1 9>&-; then
    log_tail "$mysql_dir/install.log"
    die "mariadb-install-db failed"
  fi
  rm -rf "$mysql_data"
  mv "$fresh" "$mysql_data"
}

mysql_grant() {
  local host sql=""
  for host in 127.0.0.1 localhost %; do
    sql+="CREATE USER IF NOT EXISTS '$mysql_user'@'$host' IDENTIFIED BY '$mysql_password';"
    sql+="ALTER USER '$mysql_user'@'$host' IDENTIFIED BY '$mysql_password';"
    sql+="GRANT ALL PRIVILEGES ON *.* TO '$mysql_user'@'$host' WITH GRANT OPTION;"
  done
  # Anonymous users would shadow '%' for local logins.
  sql+="DELETE FROM mysql.global_priv WHERE User='';FLUSH PRIVILEGES;"
  root_sql -e "$sql" || die "could not create the $mysql_user user"
  if ! MYSQL_PWD=$mysql_password mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$mysql_port" -u"$mysql_user" \
    --connect-timeout=5 -e 'SELECT 1' >/dev/null; then
    die "TCP login as $mysql_user on 127.0.0.1:$mysql_port fails"
  fi
}

mysql_start() {
  local pid i
  mkdir -p "$mysql_dir" "$(dirname "$mysql_socket")"
  if pid=$(mysql_pid); then
    mysql_answers || die "mariadb (pid $pid) is running but does not answer on $mysql_socket"
    mysql_grant
    say "mariadb already up on 127.0.0.1:$mysql_port (pid $pid)"
    return 0
  fi
  if tcp_open 127.0.0.1 "$mysql_port"; then
    die "port $mysql_port is taken by another process; choose another with DERPMGR_TEST_MYSQL_PORT"
  fi
  mysql_init
  rm -f "$mysql_pidfile" "$mysql_socket"
  : >"$mysql_log"
  # Utf8mb4 as Debian's packaged server is configured (--no-defaults skips /etc/mysql); relaxed flushing because
  # test data need not survive a power cut.
  nohup setsid mariadbd --no-defaults --datadir="$mysql_data" --port="$mysql_port" --socket="$mysql_socket" \
    --bind-address=127.0.0.1 --user=root --pid-file="$mysql_pidfile" --log-error="$mysql_log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --skip-name-resolve \
    --max-connections=500 --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
    </dev/null >>"$mysql_log" 2>&1 9>&- &
  local launched=$!
  for ((i = 0; i < 300; i++)); do
    if mysql_answers; then
      break
    fi
    if ! alive "$launched"; then
      log_tail "$mysql_log"
      die "mariadbd exited during startup"
    fi
    sleep 0.1
  done
  if ! mysql_answers; then
    log_tail "$mysql_log"
    die "mariadbd did not answer on $mysql_socket within 30s"
  fi
  mysql_grant
  say "mariadb up on 127.0.0.1:$mysql_port (pid $(mysql_pid || echo "$launched"))"
}

mysql_stop() {
  local pid
  if pid=$(mysql_pid); then
    stop_pid "$pid" mariadbd 60
    say "mariadb stopped"
  else
    say "mariadb was not running"
  fi
  rm -f "$mysql_pidfile"
}

dock() { env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH docker -H "unix://$docker_sock" "$@"; }

docker_answers() { timeout 10 env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
  docker -H "unix://$docker_sock" info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# Pids of processes running from our dockerd's exec-root: its containerd and the containerd shims.
docker_helpers() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    if tr '\0' ' ' 2>/dev/null <"$dir/cmdline" | grep -qF -- "$docker_exec/"; then
      echo "$pid"
    fi
  done
}

# A killed dockerd leaves its network namespace bind-mounted in the exec-root; unmount anything of ours.
docker_unmount() {
  local target
  awk -v a="$docker_exec/" -v b="$docker_dir/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/self/mounts |
    sort -r | while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done
}

docker_start() {
  local pid i
  if pid=$(docker_pid); then
    for ((i = 0; i < 600; i++)); do
      docker_answers && break
      sleep 0.1
    done
    docker_answers || die "our dockerd (pid $pid) does not answer on $docker_sock; see $docker_log"
    say "dockerd already up on $docker_sock (pid $pid, started by services.sh)"
  elif docker_answers; then
    rm -f "$docker_marker"
    say "docker engine already answering on $docker_sock; using it"
  else
    mkdir -p "$docker_dir" "$docker_exec"
    # A dockerd of ours that died may have left its containerd holding the exec-root; clear it out.
    local helper
    for helper in $(docker_helpers); do
      stop_pid "$helper" "leftover dockerd helper" 10
    done
    rm -f "$docker_marker" "$docker_pidfile"
    docker_unmount
    : >"$docker_log"
    # Containers only ever use host networking, so dockerd gets no bridge and leaves the host's firewall and
    # sysctls alone: the agent's tests own nftables, and Docker's FORWARD DROP policy would get in their way.
    # vfs because overlayfs-on-overlayfs is not reliable in a sandbox and the test image is tiny.
    nohup setsid dockerd --storage-driver=vfs --data-root="$docker_data" --exec-root="$docker_exec" \
      --pidfile="$docker_pidfile" --host="unix://$docker_sock" \
      --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
      --log-level=warn \
      </dev/null >>"$docker_log" 2>&1 9>&- &
    local launched=$!
    echo "$launched" >"$docker_marker"
    for ((i = 0; i < 600; i++)); do
      docker_answers && break
      if ! alive "$launched"; then
        rm -f "$docker_marker"
        log_tail "$docker_log"
        die "dockerd exited during startup"
      fi
      sleep 0.1
    done
    if ! docker_answers; then
      log_tail "$docker_log"
      die "dockerd did not answer on $docker_sock within 60s (pid $launched still running; stop it with: $0 stop)"
    fi
    say "dockerd up on $docker_sock (pid $(docker_pid || echo "$launched"))"
  fi
  env -u DOCKER_CONTEXT DOCKER_HOST="unix://$docker_sock" "$here/scripts/test_image.sh" 9>&- ||
    die "could not build the test image $image"
  # Needs the stand-in binary: scripts/test.sh and demo.sh build before they start the services.
  env -u DOCKER_CONTEXT DOCKER_HOST="unix://$docker_sock" DERPMGR_TEST_DERPER_IMAGE="$derper_image" \
    "$here/scripts/derper_image.sh" --if-built 9>&- >/dev/null ||
    die "could not build the derper image $derper_image"
}

docker_stop() {
  local pid helpers helper
  if [ ! -f "$docker_marker" ]; then
    if docker_answers; then
      say "docker engine was not started by services.sh; leaving it"
    else
      say "dockerd was not running"
    fi
    return 0
  fi
  helpers=$(docker_helpers)
  if pid=$(docker_pid); then
    # dockerd stops its containers (10 s grace each, in parallel) and then its containerd.
    stop_pid "$pid" dockerd 60
    say "dockerd stopped"
  else
    say "dockerd was not running"
  fi
  for helper in $helpers $(docker_helpers); do
    alive "$helper" && stop_pid "$helper" "dockerd helper" 10
  done
  docker_unmount
  rm -f "$docker_marker" "$docker_pidfile"
}

smtp_start() {
  local pid i
  if pid=$(smtp_pid); then
    say "smtp sink already up on 127.0.0.1:$smtp_port (pid $pid)"
    return 0
  fi
  if tcp_open 127.0.0.1 "$smtp_port"; then
    die "port $smtp_port is taken by another process; choose another with DERPMGR_TEST_SMTP_PORT"
  fi
  mkdir -p "$smtp_dir" "$mail_dir"
  rm -f "$smtp_pidfile"
  : >"$smtp_log"
  # Debian's python, not the pyenv one on PATH: only it has aiosmtpd.
  nohup setsid /usr/bin/python3 "$here/scripts/smtp_sink.py" --host=127.0.0.1 --port="$smtp_port" \
    --mail-dir="$mail_dir" --pid-file="$smtp_pidfile" \
    </dev/null >>"$smtp_log" 2>&1 9>&- &
  local launched=$!
  for ((i = 0; i < 100; i++)); do
    if [ -s "$smtp_pidfile" ] && tcp_open 127.0.0.1 "$smtp_port"; then
      say "smtp sink up on 127.0.0.1:$smtp_port, mail in $mail_dir (pid $(smtp_pid || echo "$launched"))"
      return 0
    fi
    if ! alive "$launched"; then
      log_tail "$smtp_log"
      die "smtp sink exited during startup"
    fi
    sleep 0.1
  done
  log_tail "$smtp_log"
  die "smtp sink did not accept connections on 127.0.0.1:$smtp_port within 10s"
}

smtp_stop() {
  local pid
  if pid=$(smtp_pid); then
    stop_pid "$pid" "smtp sink" 10
    say "smtp sink stopped"
  else
    say "smtp sink was not running"
  fi
  rm -f "$smtp_pidfile"
}

status() {
  local pid down=0
  if pid=$(mysql_pid) && mysql_answers; then
    say "mariadb up on 127.0.0.1:$mysql_port (pid $pid)"
  else
    say "mariadb down"
    down=1
  fi
  if pid=$(docker_pid) && docker_answers; then
    say "dockerd up on $docker_sock (pid $pid, started by services.sh)"
  elif docker_answers; then
    say "docker engine up on $docker_sock (not started by services.sh)"
  else
    say "docker down"
    down=1
  fi
  if pid=$(smtp_pid) && tcp_open 127.0.0.1 "$smtp_port"; then
    say "smtp sink up on 127.0.0.1:$smtp_port (pid $pid)"
  else
    say "smtp sink down"
    down=1
  fi
  [ "$down" = 0 ] || exit 3
}

print_env() {
  local name value
  local -a vars=(
    DERPMGR_RUN_DIR "$run"
    DERPMGR_TEST_MYSQL_HOST 127.0.0.1
    DERPMGR_TEST_MYSQL_PORT "$mysql_port"
    DERPMGR_TEST_MYSQL_SOCKET "$mysql_socket"
    DERPMGR_TEST_MYSQL_USER "$mysql_user"
    DERPMGR_TEST_MYSQL_PASSWORD "$mysql_password"
    DERPMGR_TEST_DOCKER_SOCKET "$docker_sock"
    DERPMGR_TEST_IMAGE "$image"
    DERPMGR_TEST_DERPER_IMAGE "$derper_image"
    DERPMGR_TEST_SMTP_HOST 127.0.0.1
    DERPMGR_TEST_SMTP_PORT "$smtp_port"
    DERPMGR_TEST_MAIL_DIR "$mail_dir"
  )
  set -- "${vars[@]}"
  while [ $# -gt 0 ]; do
    name=$1 value=$2
    shift 2
    printf 'export %s=%q\n' "$name" "$value"
  done
}

usage() {
  echo "usage: $0 start|stop|status|env|mysql-start|mysql-stop" >&2
  exit 2
}

[ $# -eq 1 ] || usage
case "$1" in
  start)
    take_lock
    mysql_start
    docker_start
    smtp_start
    ;;
  stop)
    take_lock
    smtp_stop
    mysql_stop
    docker_stop
    ;;
  mysql-start)
    take_lock
    mysql_start
    ;;
  mysql-stop)
    take_lock
    mysql_stop
    ;;
  status) status ;;
  env) print_env ;;
  *) usage ;;
esac
