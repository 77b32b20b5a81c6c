#!/usr/bin/env bash
# Replication topology for the lexigram-sql replica / failover / PgBouncer tests.
#
# Usage: scripts/topology.sh COMMAND DIR
#
#   init DIR      start on free ports of 127.0.0.1, in the (existing, empty) DIR:
#                   - a PostgreSQL primary and 2 streaming replicas (pg_basebackup -R)
#                   - PgBouncer in transaction pooling mode in front of that primary
#                   - a MariaDB primary (binary log, GTID) and 1 GTID replica
#                 with the user `lexigram` (password `lexigram_test_pw`) and the
#                 database `lexigram_test` everywhere. Installs the Debian packages
#                 postgresql, mariadb-server and pgbouncer first if missing (root).
#   env DIR       print `export LEX_TEST_...=...` lines:
#                   LEX_TEST_PG_PRIMARY_URL, LEX_TEST_PG_REPLICA_URLS (comma-separated),
#                   LEX_TEST_PGBOUNCER_URL, LEX_TEST_MYSQL_PRIMARY_URL,
#                   LEX_TEST_MYSQL_REPLICA_URL, LEX_TEST_TOPOLOGY_CTL (this script and
#                   DIR, for `sh -c "$LEX_TEST_TOPOLOGY_CTL stop-pg-primary"` and the like)
#   stop-all DIR  stop every server of DIR by pid
#   stop-pg-primary DIR    stop the PostgreSQL primary (fast shutdown)
#   promote-pg-replica DIR promote replica 1 (`pg_ctl promote`); returns once it accepts writes
#
# scripts/test.sh runs `init` and `stop-all` (LEX_TEST_TOPOLOGY=0 skips it).
set -euo pipefail

TOPO_SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/db-servers.sh
source "$(dirname "$TOPO_SELF")/db-servers.sh"

topo_state() { printf '%s/topology.env' "$DIR"; }

topo_write_state() {
    {
        local v
        for v in PG_BIN PG_RUN_AS MY_SERVER MY_ADMIN MY_CLIENT MY_RUN_AS BOUNCER \
            PGP_PORT PGR1_PORT PGR2_PORT BOUNCER_PORT MYP_PORT MYR_PORT; do
            printf '%s=%q\n' "$v" "${!v:-}"
        done
    } >"$(topo_state).tmp"
    mv "$(topo_state).tmp" "$(topo_state)"
}

topo_load() {
    [[ -f $(topo_state) ]] || die "no topology in $DIR (was 'init' run?)"
    # shellcheck disable=SC1090
    source "$(topo_state)"
}

# ---------------------------------------------------------------- PostgreSQL

pg_dir() { printf '%s/pg-%s' "$DIR" "$1"; }

pg_node_port() {
    case $1 in
    primary) printf '%s' "$PGP_PORT" ;;
    r1) printf '%s' "$PGR1_PORT" ;;
    r2) printf '%s' "$PGR2_PORT" ;;
    esac
}

pg_node_start() {
    local node=$1 home port i
    home=$(pg_dir "$node")
    port=$(pg_node_port "$node")
    if ! as_pg "$PG_BIN/pg_ctl" -D "$home/data" -l "$home/server.log" \
        -o "-p $port -k $home" -w -t "$TIMEOUT" start >/dev/null 9>&-; then
        show_log "$home/server.log"
        die "PostgreSQL $node failed to start on 127.0.0.1:$port"
    fi
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 && return 0
        sleep 0.2
    done
    die "PostgreSQL $node not ready on 127.0.0.1:$port"
}

pg_node_stop() {
    local home
    home=$(pg_dir "$1")
    [[ -f $home/data/postmaster.pid ]] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$home/data" -m fast -w -t "$TIMEOUT" stop >/dev/null 9>&- ||
        as_pg "$PG_BIN/pg_ctl" -D "$home/data" -m immediate -w -t 10 stop >/dev/null 9>&- || true
}

pg_psql() {
    local port=$1
    shift
    PGPASSWORD=$DB_PASS "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
        -U "$DB_USER" "$@"
}

init_pg_topology() {
    local home
    home=$(pg_dir primary)
    mkdir -p "$home"
    [[ -n $PG_RUN_AS ]] && chown "$PG_RUN_AS:" "$home" "$DIR"
    local pwfile=$home/pwfile
    printf '%s\n' "$DB_PASS" >"$pwfile"
    [[ -n $PG_RUN_AS ]] && chown "$PG_RUN_AS:" "$pwfile"
    if ! as_pg "$PG_BIN/initdb" -D "$home/data" -U "$DB_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --no-locale --no-sync >"$home/initdb.log" 2>&1; then
        show_log "$home/initdb.log"
        die "initdb failed"
    fi
    rm -f "$pwfile"
    cat >>"$home/data/postgresql.conf" <<EOF

# ---- lexigram-sql topology test server ----
listen_addresses = '127.0.0.1'
max_connections = 200
fsync = off
# on (the default): WAL leaves for the replicas at commit. With off, walwriter sends it up
# to wal_writer_delay later, and reads right after a write find the replicas behind.
synchronous_commit = on
full_page_writes = off
wal_level = replica
max_wal_senders = 10
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
# replicas report their replay position often (read-your-writes waits on it)
wal_receiver_status_interval = 1s
EOF
    pg_node_start primary
    pg_psql "$PGP_PORT" -d postgres -c "CREATE DATABASE $DB_NAME" >&2 ||
        die "could not create database $DB_NAME on the PostgreSQL primary"

    local node
    for node in r1 r2; do
        home=$(pg_dir "$node")
        mkdir -p "$home"
        [[ -n $PG_RUN_AS ]] && chown "$PG_RUN_AS:" "$home"
        chmod 755 "$home"
        if ! (cd / && PGPASSWORD=$DB_PASS as_pg env PGPASSWORD="$DB_PASS" \
            "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PGP_PORT" -U "$DB_USER" \
            -D "$home/data" -R -X stream -c fast --no-sync >"$home/basebackup.log" 2>&1); then
            show_log "$home/basebackup.log"
            die "pg_basebackup for replica $node failed"
        fi
        pg_node_start "$node"
    done
}

# ---------------------------------------------------------------- PgBouncer

init_bouncer() {
    local home=$DIR/pgbouncer
    mkdir -p "$home"
    printf '"%s" "%s"\n' "$DB_USER" "$DB_PASS" >"$home/userlist.txt"
    cat >"$home/pgbouncer.ini" <<EOF
[databases]
$DB_NAME = host=127.0.0.1 port=$PGP_PORT dbname=$DB_NAME
postgres = host=127.0.0.1 port=$PGP_PORT dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $home/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = $home/pgbouncer.log
pidfile = $home/pgbouncer.pid
EOF
    [[ -n $PG_RUN_AS ]] && chown -R "$PG_RUN_AS:" "$home"
    chmod 600 "$home/userlist.txt"
    if ! as_pg "$BOUNCER" -d "$home/pgbouncer.ini" >"$home/console.log" 2>&1 9>&-; then
        show_log "$home/console.log" "$home/pgbouncer.log"
        die "PgBouncer failed to start on 127.0.0.1:$BOUNCER_PORT"
    fi
    local i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        port_open "$BOUNCER_PORT" && return 0
        sleep 0.2
    done
    show_log "$home/pgbouncer.log"
    die "PgBouncer not listening on 127.0.0.1:$BOUNCER_PORT"
}

stop_bouncer() {
    local pidfile=$DIR/pgbouncer/pgbouncer.pid pid i
    [[ -f $pidfile ]] || return 0
    read -r pid <"$pidfile" || return 0
    alive "$pid" || return 0
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- MariaDB

my_node() {
    # sets the MY_* paths of db-servers.sh for one node
    MY_HOME=$DIR/my-$1
    MY_DATA=$MY_HOME/data
    MY_SOCK=$MY_HOME/mysql.sock
    MY_PID=$MY_HOME/mariadbd.pid
    MY_LOG=$MY_HOME/error.log
    MY_CONSOLE=$MY_HOME/console.log
}

my_node_start() {
    local node=$1 port=$2 id=$3
    my_node "$node"
    local -a user_opt=()
    [[ -n $MY_RUN_AS ]] && user_opt=(--user="$MY_RUN_AS")
    setsid "$MY_SERVER" --no-defaults \
        --datadir="$MY_DATA" --socket="$MY_SOCK" --pid-file="$MY_PID" \
        --log-error="$MY_LOG" --tmpdir="$MY_HOME/tmp" --port="$port" \
        --bind-address=127.0.0.1 --skip-name-resolve \
        --server-id="$id" --log-bin="$MY_HOME/binlog" --binlog-format=ROW \
        --gtid-strict-mode=1 --log-slave-updates=1 \
        --max-connections=300 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
        --innodb-flush-log-at-trx-commit=0 --sync-binlog=0 \
        --innodb-doublewrite=0 --innodb-use-native-aio=0 \
        --loose-innodb-flush-method=nosync \
        "${user_opt[@]}" </dev/null >>"$MY_CONSOLE" 2>&1 9>&- &
    local launched=$! i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        if ! alive "$launched"; then
            show_log "$MY_CONSOLE" "$MY_LOG"
            die "MariaDB $node exited while starting"
        fi
        if "$MY_ADMIN" --no-defaults --socket="$MY_SOCK" -uroot --connect-timeout=2 \
            ping >/dev/null 2>&1 && port_open "$port"; then
            return 0
        fi
        sleep 0.2
    done
    show_log "$MY_LOG"
    die "MariaDB $node not ready on 127.0.0.1:$port"
}

my_node_stop() {
    my_node "$1"
    local pid="" i
    [[ -f $MY_PID ]] && read -r pid <"$MY_PID"
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        alive "$pid" || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
}

my_root() {
    my_node "$1"
    shift
    "$MY_CLIENT" --no-defaults --socket="$MY_SOCK" -uroot "$@"
}

init_mysql_topology() {
    local installer
    installer=$(find_exe mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
    my_node primary
    mkdir -p "$MY_HOME/tmp"
    local -a user_opt=()
    [[ -n $MY_RUN_AS ]] && user_opt=(--user="$MY_RUN_AS")
    [[ -n $MY_RUN_AS ]] && chown -R "$MY_RUN_AS:" "$MY_HOME"
    if ! "$installer" --no-defaults --datadir="$MY_DATA" "${user_opt[@]}" \
        --auth-root-authentication-method=normal --skip-test-db \
        --skip-name-resolve >"$MY_HOME/install-db.log" 2>&1 9>&-; then
        show_log "$MY_HOME/install-db.log"
        die "mariadb-install-db failed"
    fi
    # The replica starts from a copy of the freshly installed data directory, so it has
    # the same system tables; everything after (users, databases) reaches it through GTID
    # replication from the primary's first binary log event.
    local replica=$DIR/my-replica
    mkdir -p "$replica/tmp"
    cp -a "$MY_DATA" "$replica/data"
    [[ -n $MY_RUN_AS ]] && chown -R "$MY_RUN_AS:" "$replica"

    my_node_start primary "$MYP_PORT" 1
    my_node_start replica "$MYR_PORT" 2
    local host sql=""
    for host in '%' localhost 127.0.0.1; do
        sql+="
CREATE USER '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'$host' WITH GRANT OPTION;"
    done
    sql+="
CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    printf '%s\n' "$sql" | my_root primary || die "could not create MariaDB user/database"
    my_root replica -e "SET GLOBAL gtid_slave_pos = '';
CHANGE MASTER TO master_host='127.0.0.1', master_port=$MYP_PORT, master_user='$DB_USER',
  master_password='$DB_PASS', master_use_gtid=slave_pos;
START SLAVE;
SET GLOBAL read_only = 1;" || die "could not start MariaDB replication"
    # wait until the replica has the user and database
    local pos i
    pos=$(my_root primary -N -B -e "SELECT @@gtid_binlog_pos")
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        [[ $(my_root replica -N -B -e "SELECT MASTER_GTID_WAIT('$pos', 0.2)") == 0 ]] && return 0
    done
    my_root replica -e "SHOW SLAVE STATUS\G" >&2 || true
    die "the MariaDB replica did not catch up with the primary"
}

# ---------------------------------------------------------------- commands

topo_init() {
    [[ -d $DIR ]] || die "$DIR does not exist"
    [[ ! -e $(topo_state) ]] || die "$DIR already holds a topology"
    LEX_TEST_WANT_PGBOUNCER=1 cmd_install
    PG_BIN=$(find_pg_bindir)
    [[ -n $PG_BIN ]] || die "PostgreSQL binaries not found"
    MY_SERVER=$(find_exe mariadbd mysqld) || die "mariadbd not found"
    MY_ADMIN=$(find_exe mariadb-admin mysqladmin) || die "mariadb-admin not found"
    MY_CLIENT=$(find_exe mariadb mysql) || die "mariadb client not found"
    BOUNCER=$(find_exe pgbouncer) || die "pgbouncer not found"
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
    PGP_PORT=$(pick_port)
    PGR1_PORT=$(pick_port "$PGP_PORT")
    PGR2_PORT=$(pick_port "$PGR1_PORT")
    BOUNCER_PORT=$(pick_port "$PGR2_PORT")
    MYP_PORT=$(pick_port "$BOUNCER_PORT")
    MYR_PORT=$(pick_port "$MYP_PORT")
    topo_write_state
    init_pg_topology
    init_bouncer
    init_mysql_topology
    log "topology: PostgreSQL primary :$PGP_PORT, replicas :$PGR1_PORT :$PGR2_PORT," \
        "PgBouncer :$BOUNCER_PORT; MariaDB primary :$MYP_PORT, replica :$MYR_PORT (in $DIR)"
}

topo_env() {
    topo_load
    local auth="$DB_USER:$DB_PASS@127.0.0.1"
    printf 'export LEX_TEST_PG_PRIMARY_URL=%q\n' "postgresql://$auth:$PGP_PORT/$DB_NAME"
    printf 'export LEX_TEST_PG_REPLICA_URLS=%q\n' \
        "postgresql://$auth:$PGR1_PORT/$DB_NAME,postgresql://$auth:$PGR2_PORT/$DB_NAME"
    printf 'export LEX_TEST_PG_MULTIHOST_URL=%q\n' \
        "postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PGP_PORT,127.0.0.1:$PGR1_PORT/$DB_NAME?target_session_attrs=read-write"
    printf 'export LEX_TEST_PGBOUNCER_URL=%q\n' "postgresql://$auth:$BOUNCER_PORT/$DB_NAME"
    printf 'export LEX_TEST_MYSQL_PRIMARY_URL=%q\n' "mysql://$auth:$MYP_PORT/$DB_NAME"
    printf 'export LEX_TEST_MYSQL_REPLICA_URL=%q\n' "mysql://$auth:$MYR_PORT/$DB_NAME"
    printf 'export LEX_TEST_TOPOLOGY_CTL=%q\n' "$(printf '%q %q' "$TOPO_SELF" "$DIR")"
}

topo_stop_all() {
    [[ -f $(topo_state) ]] || return 0
    topo_load
    local rc=0
    stop_bouncer || rc=1
    (pg_node_stop r2) || rc=1
    (pg_node_stop r1) || rc=1
    (pg_node_stop primary) || rc=1
    (my_node_stop replica) || rc=1
    (my_node_stop primary) || rc=1
    return $rc
}

topo_promote() {
    topo_load
    local home i
    home=$(pg_dir r1)
    as_pg "$PG_BIN/pg_ctl" -D "$home/data" -w -t "$TIMEOUT" promote >/dev/null 9>&- ||
        die "pg_ctl promote failed"
    for ((i = 0; i < TIMEOUT * 20; i++)); do
        [[ $(pg_psql "$PGR1_PORT" -d postgres -At -c "SELECT pg_is_in_recovery()") == f ]] && return 0
        sleep 0.05
    done
    die "replica 1 did not leave recovery"
}

topo_main() {
    local cmd=${1:-}
    case $cmd in
    init | env | stop-all | stop-pg-primary | promote-pg-replica) ;;
    -h | --help | help | "")
        sed -n '2,/^set -euo/p' "$TOPO_SELF" | sed '$d; s/^# \{0,1\}//'
        [[ -n $cmd ]]
        return
        ;;
    *) die "unknown command '$cmd' (try --help)" ;;
    esac
    [[ $# -eq 2 ]] || die "usage: $0 $cmd DIR"
    DIR=$(cd "$2" 2>/dev/null && pwd) || die "no such directory: $2"
    case $cmd in
    init) topo_init ;;
    env) topo_env ;;
    stop-all) topo_stop_all ;;
    stop-pg-primary) topo_load && pg_node_stop primary ;;
    promote-pg-replica) topo_promote ;;
    esac
}

topo_main "$@"
