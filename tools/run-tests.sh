#!/usr/bin/env bash
# Install everything the tests need and run them all: ruff, then unit, functional and e2e tests.
#
#  * .venv gets `pip install -e '.[test]' -e drivers` (skipped when already done for the
#    current pyproject files).
#  * PostgreSQL, MariaDB, Redis and RabbitMQ must listen on 127.0.0.1 (5432, 3306, 6379, 5672).
#    As root on Debian/Ubuntu, a missing server is installed with apt-get and a stopped one
#    is started; nothing else is created. Otherwise they are only checked.
#  * Tests that need a service skip when it is missing, except with CI=true, where they fail.
#
#  * Tests run in DELFIN_TEST_WORKERS parallel pytest-xdist workers (default: cores + 2;
#    DELFIN_TEST_WORKERS=0 runs them in this one process).
#
# Extra arguments go to pytest (e.g. -k diff, -x). Exits non-zero if ruff or any test failed,
# or if pytest collected no test.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_venv -e "$ROOT[test]" -e "$ROOT/drivers" || exit 1
export PATH="$VENV/bin:$PATH"  # e2e tests start the console scripts

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_port() {  # wait_port NAME PORT SECONDS
    local i
    for ((i = 0; i < $3; i++)); do
        port_open "$2" && return 0
        sleep 1
    done
    log "$1 did not come up on 127.0.0.1:$2 within $3 s"
    return 1
}

start_postgresql() {
    local version
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$version" ] || { log "no PostgreSQL cluster under /etc/postgresql"; return 1; }
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
}

start_mariadb() {
    # /run is a tmpfs: the socket directory is gone after a reboot without systemd
    [ -d /run/mysqld ] || install -d -o mysql -g mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}

start_redis() {
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_rabbitmq() { rabbitmq-server -detached; }

have_postgresql() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null; }
have_mariadb() { [ -x /usr/sbin/mariadbd ]; }
have_redis() { command -v redis-server >/dev/null; }
have_rabbitmq() { command -v rabbitmq-server >/dev/null; }

# name  port  Debian package  seconds to wait after a start
SERVICES=(
    "postgresql 5432 postgresql 30"
    "mariadb 3306 mariadb-server 30"
    "redis 6379 redis-server 15"
    "rabbitmq 5672 rabbitmq-server 90"
)

ensure_services() {
    local entry name port package wait missing=()
    for entry in "${SERVICES[@]}"; do
        read -r name port package wait <<<"$entry"
        port_open "$port" || "have_$name" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" || log "continuing without: ${missing[*]}"
    fi
    for entry in "${SERVICES[@]}"; do
        read -r name port package wait <<<"$entry"
        port_open "$port" && continue
        if ! is_root || ! "have_$name"; then
            log "$name is not running on 127.0.0.1:$port (start it as root, or run this script as root)"
            continue
        fi
        log "starting $name"
        "start_$name" </dev/null || log "starting $name failed"
        wait_port "$name" "$port" "$wait" || true
    done
}

# On a fresh install PostgreSQL and MariaDB refuse a password-less TCP login for their
# admin accounts, which the tests' default URLs use. Then (as root, with the local admin
# reachable over the server's socket) make a test account that may create only
# delfin_test* databases, and point the tests at it. Nothing happens where the defaults work
# or where DELFIN_TEST_*_URL is already set.
TEST_ACCOUNT=delfin_test

ensure_postgresql_account() {
    [ -z "${DELFIN_TEST_POSTGRES_URL:-}" ] || return 0
    command -v psql >/dev/null || return 0
    psql -h 127.0.0.1 -U postgres -d test -w -Atqc 'SELECT 1' >/dev/null 2>&1 && return 0
    local url="postgresql+psycopg://$TEST_ACCOUNT:$TEST_ACCOUNT@127.0.0.1:5432/$TEST_ACCOUNT"
    if ! PGPASSWORD=$TEST_ACCOUNT psql -h 127.0.0.1 -U $TEST_ACCOUNT -d $TEST_ACCOUNT -w -Atqc 'SELECT 1' \
        >/dev/null 2>&1; then
        is_root || return 0
        log "creating the PostgreSQL test account $TEST_ACCOUNT"
        runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q <<SQL || { log "could not create it"; return 0; }
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_ACCOUNT') THEN
    CREATE ROLE $TEST_ACCOUNT LOGIN CREATEDB PASSWORD '$TEST_ACCOUNT';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $TEST_ACCOUNT OWNER $TEST_ACCOUNT'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$TEST_ACCOUNT')\gexec
SQL
    fi
    export DELFIN_TEST_POSTGRES_URL="$url"
}

ensure_mariadb_account() {
    [ -z "${DELFIN_TEST_MYSQL_URL:-}" ] || return 0
    command -v mysql >/dev/null || return 0
    mysql -h 127.0.0.1 -u root -e 'SELECT 1' test >/dev/null 2>&1 && return 0
    local url="mysql+pymysql://$TEST_ACCOUNT:$TEST_ACCOUNT@127.0.0.1:3306/$TEST_ACCOUNT"
    if ! mysql -h 127.0.0.1 -u $TEST_ACCOUNT -p$TEST_ACCOUNT -e 'SELECT 1' $TEST_ACCOUNT >/dev/null 2>&1; then
        is_root || return 0
        log "creating the MariaDB test account $TEST_ACCOUNT"
        mysql -u root <<SQL || { log "could not create it"; return 0; }
CREATE DATABASE IF NOT EXISTS $TEST_ACCOUNT;
CREATE USER IF NOT EXISTS '$TEST_ACCOUNT'@'127.0.0.1' IDENTIFIED BY '$TEST_ACCOUNT';
CREATE USER IF NOT EXISTS '$TEST_ACCOUNT'@'localhost' IDENTIFIED BY '$TEST_ACCOUNT';
GRANT ALL PRIVILEGES ON \`delfin\\_test%\`.* TO '$TEST_ACCOUNT'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`delfin\\_test%\`.* TO '$TEST_ACCOUNT'@'localhost';
SQL
    fi
    export DELFIN_TEST_MYSQL_URL="$url"
}

ensure_services
# a program the tests start themselves (not a service): snmpd serves the SNMP driver tests
command -v snmpd >/dev/null || [ -x /usr/sbin/snmpd ] || apt_install snmpd || log "continuing without snmpd"
# net-snmp's snmptrap (Debian package snmp) sends the traps of the trap receiver tests
command -v snmptrap >/dev/null || apt_install snmp || log "continuing without snmptrap"
# Prometheus Alertmanager (Debian package prometheus-alertmanager) receives the alert exporters' alerts
command -v prometheus-alertmanager >/dev/null || apt_install prometheus-alertmanager \
    || log "continuing without prometheus-alertmanager"
ensure_postgresql_account
ensure_mariadb_account

status=0
log "ruff check ."
if ! "$VENV/bin/ruff" check .; then
    status=1
fi

for tier in unit functional e2e; do
    if [ -z "$(find "tests/$tier" -name 'test_*.py' -print -quit 2>/dev/null)" ]; then
        log "tests/$tier holds no test module"
        status=1
    fi
done

# Tests mostly wait on servers and processes: a few more workers than cores keep the cores busy.
# --dist loadfile keeps a module's tests (and its module-scoped simulators) on one worker.
WORKERS="${DELFIN_TEST_WORKERS:-$(( $(nproc 2>/dev/null || echo 2) + 2 ))}"
log "pytest tests/unit tests/functional tests/e2e (CI=${CI:-}, $WORKERS workers)"
"$PY" -m pytest -ra --durations=15 -n "$WORKERS" --dist loadfile tests/unit tests/functional tests/e2e "$@"
rc=$?
case "$rc" in
    0) ;;
    5) log "pytest collected no test: that is a failure"; status=1 ;;
    *) log "pytest exited with $rc"; status=1 ;;
esac

if [ "$status" = 0 ]; then
    log "run-tests: all passed"
else
    log "run-tests: FAILED"
fi
exit "$status"
