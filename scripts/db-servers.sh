#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers for the lexigram-sql test suite.
#
# Usage: scripts/db-servers.sh COMMAND [DIR]
#
#   install           install postgresql / mariadb-server / openssl and the client
#                     tools (pg_dump, mariadb-dump, sqlite3) from Debian
#                     packages if their binaries are missing (needs root)
#   init DIR          create both servers in the (existing, empty) DIR on free
#                     ports of 127.0.0.1, start them, create the user
#                     `lexigram` (password `lexigram_test_pw`) and the database
#                     `lexigram_test`; state is kept in DIR/state.env. Both
#                     servers also accept TLS, with a certificate for the name
#                     `localhost` only (not 127.0.0.1) signed by a throwaway CA
#                     made with openssl in DIR/tls (ca.pem; wrong-ca.pem is a
#                     second CA that signed nothing); plain connections work too.
#                     The user `lexigram_cert` logs in only with the client
#                     certificate tls/client.pem (key tls/client.key), over TLS
#   start-pg DIR      start PostgreSQL again (same port, same data); returns
#                     once it accepts connections
#   stop-pg DIR       stop PostgreSQL; returns once it is down
#   start-mysql DIR   same for MariaDB
#   stop-mysql DIR
#   start-all DIR / stop-all DIR
#   env DIR           print `export LEX_TEST_...=...` lines for these servers
#                     (URLs, start/stop commands, LEX_TEST_TLS_CA,
#                     LEX_TEST_TLS_WRONG_CA and LEX_TEST_TLS_CLIENT_USER / _CERT
#                     / _KEY)
#
# scripts/test.sh drives all this; tests get the start/stop commands through
# LEX_TEST_POSTGRES_START / _STOP and LEX_TEST_MYSQL_START / _STOP.
#
# LEX_TEST_SERVER_TIMEOUT (seconds, default 60) bounds every wait.
set -euo pipefail

readonly DB_USER=lexigram
readonly DB_PASS=lexigram_test_pw
readonly CERT_USER=lexigram_cert
readonly DB_NAME=lexigram_test
TIMEOUT="${LEX_TEST_SERVER_TIMEOUT:-60}"
# runuser, useradd and the servers live in sbin, which a user's PATH may lack
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

log() { printf 'db-servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- binaries

find_pg_bindir() {
    local d best=""
    local -a found=()
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && found+=("$d")
    done
    if ((${#found[@]})); then
        best=$(printf '%s\n' "${found[@]}" | sort -V | tail -n 1)
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        best=$(dirname "$(command -v pg_ctl)")
    fi
    printf '%s' "$best"
}

# first executable among the names, looked up in PATH and the sbin dirs
find_exe() {
    local name dir
    for name in "$@"; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
        for dir in /usr/sbin /usr/local/sbin /sbin /usr/bin; do
            if [[ -x $dir/$name ]]; then
                printf '%s\n' "$dir/$name"
                return 0
            fi
        done
    done
    return 1
}

cmd_install() {
    local -a pkgs=()
    local pg_bin
    pg_bin=$(find_pg_bindir)
    if [[ -z $pg_bin ]] || ! find_exe psql >/dev/null; then
        pkgs+=(postgresql)
    fi
    if [[ ${LEX_TEST_WANT_PGBOUNCER:-0} == 1 ]] && ! find_exe pgbouncer >/dev/null; then
        pkgs+=(pgbouncer)
    fi
    if ! find_exe mariadbd mysqld >/dev/null ||
        ! find_exe mariadb-install-db mysql_install_db >/dev/null ||
        ! find_exe mariadb mysql >/dev/null ||
        ! find_exe mariadb-admin mysqladmin >/dev/null; then
        pkgs+=(mariadb-server)
    fi
    command -v openssl >/dev/null || pkgs+=(openssl)
    # Client tools the `lexigram db backup|restore|shell` tests run.
    if ! find_exe pg_dump >/dev/null || ! find_exe pg_restore >/dev/null; then
        pkgs+=(postgresql-client)
    fi
    find_exe mariadb-dump mysqldump >/dev/null || pkgs+=(mariadb-client)
    find_exe sqlite3 >/dev/null || pkgs+=(sqlite3)
    ((${#pkgs[@]})) || return 0

    if [[ $(id -u) != 0 ]]; then
        die "missing database servers; install them with: sudo apt-get install ${pkgs[*]}"
    fi
    command -v apt-get >/dev/null || die "missing ${pkgs[*]} and no apt-get to install them"
    log "installing ${pkgs[*]} (apt-get) ..."
    # Do not let the packages start the system-wide services: we run our own.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    local ok=1
    local -a apt_opts=(-o DPkg::Lock::Timeout=600 -q)
    if ! apt-get "${apt_opts[@]}" update >&2; then
        ok=0
    elif ! DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
        --no-install-recommends "${pkgs[@]}" >&2; then
        ok=0
    fi
    ((made_policy)) && rm -f "$policy"
    ((ok)) || die "apt-get install ${pkgs[*]} failed"
    [[ -n $(find_pg_bindir) ]] || die "PostgreSQL binaries still not found after install"
    find_exe mariadbd mysqld >/dev/null || die "mariadbd still not found after install"
}

# ---------------------------------------------------------------- helpers

# true if the process exists and is not a zombie (PID 1 here may not reap)
alive() {
    local pid=$1 stat
    [[ -n $pid ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# a random port below the ephemeral range (so outgoing client sockets never
# take it while a server is stopped) that nothing listens on
pick_port() {
    local avoid=${1:-0} p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        ((p == avoid)) && continue
        port_open "$p" && continue
        printf '%s\n' "$p"
        return 0
    done
    die "no free TCP port found"
}

state_file() { printf '%s/state.env' "$DIR"; }

write_state() {
    {
        printf 'PG_BIN=%q\n' "$PG_BIN"
        printf 'PG_PORT=%q\n' "$PG_PORT"
        printf 'PG_RUN_AS=%q\n' "$PG_RUN_AS"
        printf 'MY_SERVER=%q\n' "$MY_SERVER"
        printf 'MY_ADMIN=%q\n' "$MY_ADMIN"
        printf 'MY_CLIENT=%q\n' "$MY_CLIENT"
        printf 'MY_PORT=%q\n' "$MY_PORT"
        printf 'MY_RUN_AS=%q\n' "$MY_RUN_AS"
    } >"$(state_file).tmp"
    mv "$(state_file).tmp" "$(state_file)"
}

load_state() {
    [[ -f $(state_file) ]] || die "no server state in $DIR (was 'init' run?)"
    # shellcheck disable=SC1090
    source "$(state_file)"
    set_paths
}

set_paths() {
    PG_HOME=$DIR/pg
    PG_DATA=$PG_HOME/data
    PG_LOG=$PG_HOME/server.log
    MY_HOME=$DIR/my
    MY_DATA=$MY_HOME/data
    MY_SOCK=$MY_HOME/mysql.sock
    MY_PID=$MY_HOME/mariadbd.pid
    MY_LOG=$MY_HOME/error.log
    MY_CONSOLE=$MY_HOME/console.log
    TLS_DIR=$DIR/tls
}

# ---------------------------------------------------------------- TLS

# a self-signed CA: make_ca NAME COMMON_NAME -> $TLS_DIR/NAME.pem, NAME.key
make_ca() {
    local name=$1 cn=$2
    cat >"$TLS_DIR/$name.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $cn
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
    if ! openssl req -x509 -config "$TLS_DIR/$name.cnf" -extensions v3_ca -newkey rsa:2048 \
        -nodes -sha256 -days 3650 -keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.pem" \
        >>"$TLS_DIR/openssl.log" 2>&1; then
        show_log "$TLS_DIR/openssl.log"
        die "openssl could not make the CA $name"
    fi
}

# a throwaway CA and a server certificate for DNS name `localhost` only (so a
# client connecting to 127.0.0.1 with full verification sees a name mismatch)
init_certs() {
    mkdir -p "$TLS_DIR"
    make_ca ca "lexigram test CA"
    make_ca wrong-ca "lexigram wrong CA"
    cat >"$TLS_DIR/server.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    if ! openssl req -new -config "$TLS_DIR/server.cnf" -newkey rsa:2048 -nodes -sha256 \
        -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" >>"$TLS_DIR/openssl.log" 2>&1 ||
        ! openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" \
            -CAkey "$TLS_DIR/ca.key" -CAcreateserial -sha256 -days 3650 \
            -extfile "$TLS_DIR/server.cnf" -extensions server \
            -out "$TLS_DIR/server.pem" >>"$TLS_DIR/openssl.log" 2>&1; then
        show_log "$TLS_DIR/openssl.log"
        die "openssl could not make the server certificate"
    fi
    # a client certificate for the user CERT_USER, which both servers admit only
    # with it (tests/tls.rs: client certificates)
    cat >"$TLS_DIR/client.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $CERT_USER
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
EOF
    if ! openssl req -new -config "$TLS_DIR/client.cnf" -newkey rsa:2048 -nodes -sha256 \
        -keyout "$TLS_DIR/client.key" -out "$TLS_DIR/client.csr" >>"$TLS_DIR/openssl.log" 2>&1 ||
        ! openssl x509 -req -in "$TLS_DIR/client.csr" -CA "$TLS_DIR/ca.pem" \
            -CAkey "$TLS_DIR/ca.key" -CAcreateserial -sha256 -days 3650 \
            -extfile "$TLS_DIR/client.cnf" -extensions client \
            -out "$TLS_DIR/client.pem" >>"$TLS_DIR/openssl.log" 2>&1; then
        show_log "$TLS_DIR/openssl.log"
        die "openssl could not make the client certificate"
    fi
    chmod 755 "$TLS_DIR"
    chmod 644 "$TLS_DIR"/*.pem
    chmod 600 "$TLS_DIR"/*.key
}

# copy the server certificate and key into HOME for a server running as USER
# (PostgreSQL insists on a key of mode 0600 owned by its user)
install_server_cert() {
    local home=$1 user=$2
    cp "$TLS_DIR/server.pem" "$home/server.crt"
    cp "$TLS_DIR/server.key" "$home/server.key"
    cp "$TLS_DIR/ca.pem" "$home/ca.pem"
    chmod 644 "$home/server.crt" "$home/ca.pem"
    chmod 600 "$home/server.key"
    if [[ -n $user ]]; then
        chown "$user:" "$home/server.crt" "$home/server.key" "$home/ca.pem"
    fi
}

# run a command as the PostgreSQL user (postgres refuses to run as root)
as_pg() {
    if [[ -n $PG_RUN_AS ]]; then
        (cd / && runuser -u "$PG_RUN_AS" -- "$@")
    else
        "$@"
    fi
}

# serialise control commands on one server (tests may run them concurrently);
# fd 9 must not leak into the servers, hence the 9>&- on every launch
lock() {
    exec 9>"$DIR/$1.lock"
    flock -w "$((TIMEOUT * 3))" 9 || die "could not lock $DIR/$1.lock"
}

show_log() {
    local f
    for f in "$@"; do
        [[ -s $f ]] || continue
        log "---- last lines of $f ----"
        tail -n 60 "$f" >&2 || true
        log "---- end of $f ----"
    done
}

# ---------------------------------------------------------------- PostgreSQL

pg_pid() {
    local pid=""
    [[ -f $PG_DATA/postmaster.pid ]] && read -r pid <"$PG_DATA/postmaster.pid" 2>/dev/null
    printf '%s' "$pid"
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

# start the postmaster and wait until it accepts TCP connections
pg_launch() {
    local i
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $PG_PORT" \
        -w -t "$TIMEOUT" start >/dev/null 9>&-; then
        return 1
    fi
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        pg_ready && return 0
        sleep 0.2
    done
    return 1
}

start_pg() {
    lock pg
    local pid
    pid=$(pg_pid)
    if alive "$pid" && pg_ready; then
        return 0
    fi
    # a killed postmaster leaves its lock files behind, and an unreaped
    # (zombie) pid in them would make the new postmaster refuse to start
    if [[ -n $pid ]] && ! alive "$pid"; then
        rm -f "$PG_DATA/postmaster.pid" "$PG_HOME/.s.PGSQL.$PG_PORT" "$PG_HOME/.s.PGSQL.$PG_PORT.lock"
    fi
    if ! pg_launch; then
        show_log "$PG_LOG"
        die "PostgreSQL failed to start on 127.0.0.1:$PG_PORT (it exited, or was not ready within ${TIMEOUT}s; log: $PG_LOG)"
    fi
}

stop_pg() {
    [[ -d $PG_DATA ]] || return 0
    lock pg
    local pid i
    pid=$(pg_pid)
    alive "$pid" || return 0
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null 9>&-; then
        log "PostgreSQL (pid $pid) did not stop in ${TIMEOUT}s; killing it"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 10 stop >/dev/null 9>&- || true
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        if ! alive "$pid" && ! port_open "$PG_PORT"; then
            return 0
        fi
        sleep 0.2
    done
    die "PostgreSQL (pid $pid) is still running"
}

init_pg() {
    mkdir -p "$PG_HOME"
    [[ -n $PG_RUN_AS ]] && chown "$PG_RUN_AS:" "$PG_HOME"
    chmod 755 "$PG_HOME"
    local pwfile=$PG_HOME/pwfile
    printf '%s\n' "$DB_PASS" >"$pwfile"
    [[ -n $PG_RUN_AS ]] && chown "$PG_RUN_AS:" "$pwfile"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$DB_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --no-locale --no-sync >"$PG_HOME/initdb.log" 2>&1; then
        show_log "$PG_HOME/initdb.log"
        die "initdb failed"
    fi
    rm -f "$pwfile"
    install_server_cert "$PG_HOME" "$PG_RUN_AS"
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# ---- lexigram-sql test server ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_HOME'
max_connections = 200
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
# Detect deadlocks fast (default 1 s): the retry tests provoke many on purpose.
deadlock_timeout = 20ms
# TLS on (plain connections stay allowed: pg_hba 'host' lines match both).
ssl = on
ssl_cert_file = '$PG_HOME/server.crt'
ssl_key_file = '$PG_HOME/server.key'
ssl_ca_file = '$PG_HOME/ca.pem'
EOF
    # CERT_USER logs in with a client certificate signed by the test CA, and only so.
    local hba
    hba=$(cat "$PG_DATA/pg_hba.conf")
    printf 'hostssl all %s 127.0.0.1/32 cert\nhost all %s 0.0.0.0/0 reject\n%s\n' \
        "$CERT_USER" "$CERT_USER" "$hba" >"$PG_DATA/pg_hba.conf"

    local attempt
    for attempt in 1 2 3; do
        write_state
        rm -f "$PG_LOG"
        pg_launch 9>&- && break
        if ((attempt < 3)) && grep -q 'Address already in use' "$PG_LOG" 2>/dev/null; then
            log "port $PG_PORT taken, trying another one"
            PG_PORT=$(pick_port "$MY_PORT")
            continue
        fi
        show_log "$PG_LOG"
        die "PostgreSQL failed to start on 127.0.0.1:$PG_PORT (it exited, or was not ready within ${TIMEOUT}s; log: $PG_LOG)"
    done

    if ! as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOME" -p "$PG_PORT" \
        -U "$DB_USER" -d postgres -c "CREATE DATABASE $DB_NAME" >&2; then
        die "could not create database $DB_NAME on PostgreSQL"
    fi
    if ! as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOME" -p "$PG_PORT" \
        -U "$DB_USER" -d "$DB_NAME" -c "CREATE ROLE $CERT_USER LOGIN" >&2; then
        die "could not create role $CERT_USER on PostgreSQL"
    fi
}

# ---------------------------------------------------------------- MariaDB

my_pid() {
    local pid=""
    [[ -f $MY_PID ]] && read -r pid <"$MY_PID" 2>/dev/null
    printf '%s' "$pid"
}

my_ready() {
    "$MY_ADMIN" --no-defaults --socket="$MY_SOCK" -uroot --connect-timeout=2 \
        ping >/dev/null 2>&1 && port_open "$MY_PORT"
}

# start mariadbd and wait until it answers; returns 1 if it died or timed out
my_launch() {
    local -a user_opt=()
    [[ -n $MY_RUN_AS ]] && user_opt=(--user="$MY_RUN_AS")
    rm -f "$MY_SOCK" "$MY_PID"
    setsid "$MY_SERVER" --no-defaults \
        --datadir="$MY_DATA" \
        --socket="$MY_SOCK" \
        --pid-file="$MY_PID" \
        --log-error="$MY_LOG" \
        --tmpdir="$MY_HOME/tmp" \
        --port="$MY_PORT" \
        --bind-address=127.0.0.1 \
        --skip-name-resolve \
        --skip-log-bin \
        --max-connections=300 \
        --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=64M \
        --innodb-flush-log-at-trx-commit=0 \
        --innodb-doublewrite=0 \
        --innodb-use-native-aio=0 \
        --loose-innodb-flush-method=nosync \
        --ssl-ca="$MY_HOME/ca.pem" \
        --ssl-cert="$MY_HOME/server.crt" \
        --ssl-key="$MY_HOME/server.key" \
        "${user_opt[@]}" \
        </dev/null >>"$MY_CONSOLE" 2>&1 9>&- &
    local launched=$! i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        if ! alive "$launched"; then
            wait "$launched" 2>/dev/null || true
            return 1
        fi
        my_ready && return 0
        sleep 0.2
    done
    kill -KILL "$launched" 2>/dev/null || true
    return 1
}

start_mysql() {
    lock my
    if alive "$(my_pid)" && my_ready; then
        return 0
    fi
    if ! my_launch; then
        show_log "$MY_CONSOLE" "$MY_LOG"
        die "MariaDB failed to start on 127.0.0.1:$MY_PORT (it exited, or was not ready within ${TIMEOUT}s; log: $MY_LOG)"
    fi
}

stop_mysql() {
    [[ -d $MY_HOME ]] || return 0
    lock my
    local pid i
    pid=$(my_pid)
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        alive "$pid" || break
        sleep 0.2
    done
    if alive "$pid"; then
        log "MariaDB (pid $pid) did not stop in ${TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < 50; i++)); do
        if ! alive "$pid" && ! port_open "$MY_PORT"; then
            rm -f "$MY_PID"
            return 0
        fi
        sleep 0.2
    done
    die "MariaDB (pid $pid) is still running"
}

init_mysql() {
    mkdir -p "$MY_HOME/tmp"
    install_server_cert "$MY_HOME" ""
    [[ -n $MY_RUN_AS ]] && chown -R "$MY_RUN_AS:" "$MY_HOME"
    chmod 755 "$MY_HOME"
    local installer
    installer=$(find_exe mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
    local -a user_opt=()
    [[ -n $MY_RUN_AS ]] && user_opt=(--user="$MY_RUN_AS")
    if ! "$installer" --no-defaults --datadir="$MY_DATA" "${user_opt[@]}" \
        --auth-root-authentication-method=normal --skip-test-db \
        --skip-name-resolve >"$MY_HOME/install-db.log" 2>&1 9>&-; then
        show_log "$MY_HOME/install-db.log"
        die "mariadb-install-db failed"
    fi

    local attempt
    for attempt in 1 2 3; do
        write_state
        : >"$MY_CONSOLE"
        rm -f "$MY_LOG"
        my_launch && break
        if ((attempt < 3)) && grep -qs 'Address already in use' "$MY_LOG" "$MY_CONSOLE"; then
            log "port $MY_PORT taken, trying another one"
            MY_PORT=$(pick_port "$PG_PORT")
            continue
        fi
        show_log "$MY_CONSOLE" "$MY_LOG"
        die "MariaDB failed to start on 127.0.0.1:$MY_PORT (it exited, or was not ready within ${TIMEOUT}s; log: $MY_LOG)"
    done

    local -a root_client=("$MY_CLIENT" --no-defaults --socket="$MY_SOCK" -uroot)
    local drops
    drops=$("${root_client[@]}" -N -B -e \
        "SELECT CONCAT('DROP USER ''', User, '''@''', Host, ''';') FROM mysql.user WHERE User='' OR (User='root' AND Host NOT IN ('localhost', '127.0.0.1', '::1'))") ||
        die "could not query MariaDB users"
    local host sql="$drops"
    for host in '%' localhost 127.0.0.1; do
        sql+="
CREATE USER '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'$host' WITH GRANT OPTION;"
    done
    sql+="
CREATE USER '$CERT_USER'@'%' REQUIRE SUBJECT '/CN=$CERT_USER';
GRANT SELECT ON *.* TO '$CERT_USER'@'%';
CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
FLUSH PRIVILEGES;"
    printf '%s\n' "$sql" | "${root_client[@]}" || die "could not create MariaDB user/database"
}

# ---------------------------------------------------------------- commands

cmd_init() {
    [[ -d $DIR ]] || die "$DIR does not exist"
    [[ ! -e $(state_file) ]] || die "$DIR already holds servers"
    cmd_install

    PG_BIN=$(find_pg_bindir)
    [[ -n $PG_BIN ]] || die "PostgreSQL binaries not found"
    MY_SERVER=$(find_exe mariadbd mysqld) || die "mariadbd not found"
    MY_ADMIN=$(find_exe mariadb-admin mysqladmin) || die "mariadb-admin not found"
    MY_CLIENT=$(find_exe mariadb mysql) || die "mariadb client not found"

    PG_RUN_AS=""
    MY_RUN_AS=""
    if [[ $(id -u) == 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin postgres || die "could not create user postgres"
        fi
        PG_RUN_AS=postgres
        if id mysql >/dev/null 2>&1; then MY_RUN_AS=mysql; else MY_RUN_AS=root; fi
    fi
    chmod 755 "$DIR"

    PG_PORT=$(pick_port)
    MY_PORT=$(pick_port "$PG_PORT")
    set_paths
    write_state

    init_certs
    init_pg
    init_mysql
    write_state
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT," \
        "MariaDB $("$MY_SERVER" --version | awk '{print $3}') on 127.0.0.1:$MY_PORT (in $DIR)"
}

cmd_env() {
    load_state
    local pg_url="postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
    local my_url="mysql://$DB_USER:$DB_PASS@127.0.0.1:$MY_PORT/$DB_NAME"
    local c
    printf 'export LEX_TEST_POSTGRES_URL=%q\n' "$pg_url"
    printf 'export LEX_TEST_MYSQL_URL=%q\n' "$my_url"
    printf 'export LEX_TEST_TLS_CA=%q\n' "$TLS_DIR/ca.pem"
    printf 'export LEX_TEST_TLS_WRONG_CA=%q\n' "$TLS_DIR/wrong-ca.pem"
    printf 'export LEX_TEST_TLS_CLIENT_USER=%q\n' "$CERT_USER"
    printf 'export LEX_TEST_TLS_CLIENT_CERT=%q\n' "$TLS_DIR/client.pem"
    printf 'export LEX_TEST_TLS_CLIENT_KEY=%q\n' "$TLS_DIR/client.key"
    for c in POSTGRES_STOP:stop-pg POSTGRES_START:start-pg MYSQL_STOP:stop-mysql MYSQL_START:start-mysql; do
        printf 'export LEX_TEST_%s=%q\n' "${c%%:*}" "$(printf '%q %q %q' "$SELF" "${c#*:}" "$DIR")"
    done
}

main() {
    local cmd=${1:-}
    case $cmd in
    install)
        cmd_install
        return
        ;;
    init | start-pg | stop-pg | start-mysql | stop-mysql | start-all | stop-all | env) ;;
    -h | --help | help | "")
        sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'
        [[ -n $cmd ]]
        return
        ;;
    *) die "unknown command '$cmd' (try --help)" ;;
    esac
    [[ $# -eq 2 ]] || die "usage: $0 $cmd DIR"
    DIR=$(cd "$2" 2>/dev/null && pwd) || die "no such directory: $2"
    case $cmd in
    init) cmd_init ;;
    env) cmd_env ;;
    start-pg) load_state && start_pg ;;
    stop-pg) load_state && stop_pg ;;
    start-mysql) load_state && start_mysql ;;
    stop-mysql) load_state && stop_mysql ;;
    start-all)
        load_state
        (start_pg)
        (start_mysql)
        ;;
    stop-all)
        # stop whatever is there, even after a half-finished init
        [[ -f $(state_file) ]] || return 0
        load_state
        local rc=0
        (stop_pg) || rc=1
        (stop_mysql) || rc=1
        return $rc
        ;;
    esac
}

# Sourced (by scripts/topology.sh) for its helpers: no command runs then.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
