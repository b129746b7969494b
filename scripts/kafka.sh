#!/usr/bin/env bash
# scripts/kafka.sh: a real Apache Kafka (KRaft, no ZooKeeper) for the tests.
#
# The jars come from Maven Central through integration/kafka/pom.xml into a
# cache; the brokers run from there with `java -cp`. Nothing is installed
# system-wide, and only processes this script started (by their PID files)
# are ever stopped. See integration/kafka/README.md for the layout.
#
# Subcommands:
#   fetch                        resolve the Kafka jars into the cache (a no-op once done)
#   up | down                    start / stop the single node (broker+controller)
#                                on 127.0.0.1:$KAFKA_PORT, controller on port+1
#   cluster-up | cluster-down    start / stop the 3-node cluster (brokers
#                                127.0.0.1:19092,19094,19096; controllers 19093,19095,19097)
#   node-stop N | node-kill N    SIGTERM / SIGKILL node N (1-3) of the cluster
#   node-start N                 restart node N with its data; waits until it serves
#   secure-up | secure-down      start / stop the secured node (TLS, mTLS, SASL, ACLs) on
#                                127.0.0.1:9300-9309; secure-up returns once its ACLs apply
#   secure-status                its listeners, and whether it runs (exit 3 if not)
#   status                       list the known nodes and whether they run
#   stop-all                     stop every node this script started
#   clean                        delete all broker state (refused while a node runs)
#   answers HOST:PORT            exit 0 if something accepts TCP connections there
#   topic-create NAME PARTITIONS [RF] [--config k=v ...]
#   topic-describe NAME
#   produce TOPIC [args...]      Kafka's console producer (records from stdin)
#   consume TOPIC [args...]      Kafka's console consumer (records only on stdout)
#                                (both accept the deprecated 3.x option names)
#   run-class CLASS [args...]    any class on Kafka's classpath (tool JVM, quiet logging)
#   classpath                    print the classpath string
#
# Environment:
#   KAFKA_VERSION       Kafka release to fetch and run (4.4.0). Another release's
#                       single node has its own state directory (single-VERSION[-PORT]);
#                       3.x (tested: 3.9.1) runs the single node and the tool wrappers
#                       only, with no KAFKA_TXN_VERSION (3.9 has no transaction.version 1 or 2)
#   ACTIX_KAFKA_CACHE   jar cache root (~/.cache/actix-kafka)
#   ACTIX_KAFKA_STATE   broker state root (<repo>/.kafka)
#   KAFKA_PORT          single node's broker port (9092; controller = port+1)
#   KAFKA_TXN_VERSION   1 or 2 for the single node's transaction.version
#                       (unset: the release default, 2 in 4.4)
#   KAFKA_HEAP_OPTS     broker heap flags (single: -Xms256m -Xmx768m, cluster and a single
#                       node of another release than 4.4.0: -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT seconds to wait for brokers to serve (90)
#   KAFKA_REQUEST_LOG   1: brokers started now also log every request's header
#                       (API key, version, client id) to <node>/logs/requests.log
#   BOOTSTRAP           bootstrap servers for the tool wrappers (127.0.0.1:$KAFKA_PORT)
set -euo pipefail
shopt -s extglob # format_node redacts passwords with *(...)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF_DIR=$REPO/integration/kafka
DEFAULT_KAFKA_VERSION=4.4.0
KAFKA_VERSION=${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}
KAFKA_MAJOR=${KAFKA_VERSION%%.*}
CACHE=${ACTIX_KAFKA_CACHE:-$HOME/.cache/actix-kafka}/kafka-$KAFKA_VERSION
LIBS=$CACHE/libs
STATE=${ACTIX_KAFKA_STATE:-$REPO/.kafka}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_TXN_VERSION=${KAFKA_TXN_VERSION:-}
KAFKA_REQUEST_LOG=${KAFKA_REQUEST_LOG:-}
BOOTSTRAP=${BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=30
JAVA=${JAVA:-java}

CLUSTER_DIR=$STATE/cluster
CLUSTER_NODES=(1 2 3)
CLUSTER_BOOTSTRAP=127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096
CLUSTER_VOTERS=1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097

TOOL_JVM_OPTS=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xmx256m
    "-Dlog4j2.configurationFile=$CONF_DIR/log4j2-tools.xml")

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# The version names a cache and a state directory: nothing but a release number.
[[ $KAFKA_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    die "KAFKA_VERSION must look like 4.4.0, not '$KAFKA_VERSION'"

# Tools that moved between releases: 4.0 moved these two from the Scala core
# (kafka_2.13) into kafka-tools.
if [ "$KAFKA_MAJOR" -ge 4 ]; then
    API_VERSIONS_TOOL=org.apache.kafka.tools.BrokerApiVersionsCommand
    CONSOLE_PRODUCER=org.apache.kafka.tools.ConsoleProducer
else
    API_VERSIONS_TOOL=kafka.admin.BrokerApiVersionsCommand
    CONSOLE_PRODUCER=kafka.tools.ConsoleProducer
fi

# The cluster and the secured node share one state directory per kind, so
# they run the 4.x releases only; 3.x gets the single node.
require_4x() { # WHAT
    [ "$KAFKA_MAJOR" -ge 4 ] ||
        die "$1 runs Kafka 4.x only, not KAFKA_VERSION=$KAFKA_VERSION (3.x has the single node: up)"
}

# ---------------------------------------------------------------- jars

# The marker holds the pom's checksum, so editing the pom re-resolves.
fetch_stamp() { echo "$KAFKA_VERSION $(sha256sum <"$CONF_DIR/pom.xml" | cut -d' ' -f1)"; }
fetched() { [ -f "$CACHE/complete" ] && [ "$(cat "$CACHE/complete")" = "$(fetch_stamp)" ]; }

cmd_fetch() {
    fetched && return 0
    mkdir -p "$CACHE"
    (
        flock 9 # concurrent callers wait for one resolution
        fetched && exit 0
        log "resolving Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS"
        rm -rf "$CACHE/libs.tmp"
        mvn -B -q -f "$CONF_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
            dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$CACHE/libs.tmp" 2>&1 |
            sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2 # Maven 3.8 -q still emits colour resets
        [ -f "$CACHE/libs.tmp/kafka_2.13-$KAFKA_VERSION.jar" ] ||
            die "maven did not deliver kafka_2.13-$KAFKA_VERSION.jar"
        rm -rf "$LIBS"
        mv "$CACHE/libs.tmp" "$LIBS"
        fetch_stamp >"$CACHE/complete"
    ) 9>"$CACHE/.lock"
}

cmd_classpath() { cmd_fetch; echo "$LIBS/*"; }

# Runs a class of Kafka's classpath in a small, quickly starting JVM.
cmd_run_class() {
    [ $# -ge 1 ] || die "usage: run-class CLASS [args...]"
    cmd_fetch
    exec "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" "$@"
}

# Same, but returns (for use inside this script).
tool() { cmd_fetch; "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" "$@"; }

# ---------------------------------------------------------------- probes

answers() { # HOST:PORT
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${1%:*}" "${1##*:}" 2>/dev/null
}

# Number of brokers that serve requests, as seen through BOOTSTRAP.
broker_count() { # BOOTSTRAP
    timeout 30 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" \
        "$API_VERSIONS_TOOL" --bootstrap-server "$1" 2>/dev/null |
        grep '(id: ' | grep -vc 'isFenced: true' || true
}

# ---------------------------------------------------------------- nodes
# A node is a directory: server.properties, data/, logs/, kafka.pid.

prop() { sed -n "s/^$1=//p" "$2/server.properties" 2>/dev/null; }
node_port() { local l; l=$(prop advertised.listeners "$1"); echo "${l##*:}"; }

# Prints the PID of the node's broker if it runs (the PID file's process
# must still be kafka.Kafka on this node's server.properties).
node_pid() { # DIR
    local pid
    pid=$(cat "$1/kafka.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
        grep -qF "kafka.Kafka $1/server.properties" || return 1
    echo "$pid"
}

new_cluster_id() { # 16 random bytes, base64url without padding, like Kafka's Uuid
    local id
    while :; do
        id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
        [[ $id != -* ]] && break
    done
    echo "$id"
}

tuning_props() { # RF MIN_ISR: the test-friendly settings every node shares
    cat <<EOF
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
num.partitions=1
# Tests write records with old explicit timestamps (1970, 2017, ...); time-based
# retention (first check 30 s after start) would delete them before the read-back.
log.retention.ms=-1
default.replication.factor=$1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=3
offsets.topic.replication.factor=$1
transaction.state.log.num.partitions=3
transaction.state.log.replication.factor=$1
transaction.state.log.min.isr=$2
share.coordinator.state.topic.num.partitions=3
share.coordinator.state.topic.replication.factor=$1
share.coordinator.state.topic.min.isr=$2
EOF
}

write_props() { # DIR NODE_ID PORT CONTROLLER_PORT VOTERS RF MIN_ISR
    local dir=$1 rf=$6 isr=$7
    cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$2
controller.quorum.voters=$5
listeners=PLAINTEXT://127.0.0.1:$3,CONTROLLER://127.0.0.1:$4
advertised.listeners=PLAINTEXT://127.0.0.1:$3
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
$(tuning_props "$rf" "$isr")
EOF
}

format_node() { # DIR CLUSTER_ID [StorageTool args...]
    local dir=$1 id=$2
    shift 2
    [ -f "$dir/data/meta.properties" ] && return 0
    local shown=${*//password=\"*([^\"])\"/password=<redacted>}
    log "formatting ${dir#"$STATE"/} (cluster id $id${shown:+, $shown})"
    mkdir -p "$dir/logs"
    tool kafka.tools.StorageTool format --config "$dir/server.properties" \
        --cluster-id "$id" "$@" >"$dir/logs/format.log" 2>&1 ||
        { cat "$dir/logs/format.log" >&2; die "formatting $dir failed"; }
}

# Starts the broker in its own session so it outlives this script; the
# child writes its own PID (exec keeps it) before becoming the JVM.
launch_node() { # DIR HEAP_OPTS
    local dir=$1 heap logging=$CONF_DIR/log4j2-broker.xml
    read -ra heap <<<"${KAFKA_HEAP_OPTS:-$2}"
    [ "$KAFKA_REQUEST_LOG" != 1 ] || logging=$CONF_DIR/log4j2-broker-requests.xml
    mkdir -p "$dir/logs"
    rm -f "$dir/kafka.pid" "$dir/logs/requests.log"
    local f # keep one earlier run's logs; the current ones start empty
    for f in server.log stdout.log; do
        [ ! -f "$dir/logs/$f" ] || mv -f "$dir/logs/$f" "$dir/logs/$f.prev"
    done
    # shellcheck disable=SC2016 # expanded by the inner bash
    nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$dir/kafka.pid" \
        "$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        "-Dkafka.logs.dir=$dir/logs" "-Dlog4j2.configurationFile=$logging" \
        -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
        >"$dir/logs/stdout.log" 2>&1 </dev/null &
    for _ in $(seq 50); do
        node_pid "$dir" >/dev/null && return 0
        sleep 0.1
    done
    die "the broker of $dir did not start; see $dir/logs/stdout.log"
}

# Stops nodes: SIGTERM to all at once, SIGKILL to those left after
# STOP_TIMEOUT seconds (or right away with SIG=KILL).
stop_nodes() { # SIG DIR...
    local sig=$1 dir pid pids=() waited=0
    shift
    for dir in "$@"; do
        if pid=$(node_pid "$dir"); then
            log "stopping $(basename "$dir") (pid $pid, SIG$sig)"
            kill "-$sig" "$pid" 2>/dev/null || true
            pids+=("$dir")
        else
            rm -f "$dir/kafka.pid"
        fi
    done
    while :; do
        local left=()
        for dir in "${pids[@]}"; do node_pid "$dir" >/dev/null && left+=("$dir"); done
        [ ${#left[@]} -eq 0 ] && break
        if [ "$waited" -ge $((STOP_TIMEOUT * 5)) ]; then
            for dir in "${left[@]}"; do
                pid=$(node_pid "$dir") || continue
                log "$(basename "$dir") (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
            done
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    for dir in "${pids[@]}"; do rm -f "$dir/kafka.pid"; done
}

fail_start() { # REASON DIR...
    local reason=$1 dir
    shift
    log "$reason"
    for dir in "$@"; do
        grep -m1 -h ' ERROR ' "$dir/logs/server.log" 2>/dev/null | sed "s|^|first error: |" >&2 || true
        echo "---- last 50 lines of $dir/logs/server.log ----" >&2
        tail -n 50 "$dir/logs/server.log" >&2 2>/dev/null || true
        if [ -s "$dir/logs/stdout.log" ]; then
            echo "---- last 20 lines of $dir/logs/stdout.log ----" >&2
            tail -n 20 "$dir/logs/stdout.log" >&2
        fi
    done
    stop_nodes KILL "$@"
    exit 1
}

# Waits until every node's port accepts connections and BOOTSTRAP sees
# BROKERS serving brokers; on failure shows the logs and stops the nodes.
wait_serving() { # BOOTSTRAP BROKERS DIR...
    local bootstrap=$1 want=$2 deadline=$((SECONDS + START_TIMEOUT)) dir n
    shift 2
    while :; do
        local up=1
        for dir in "$@"; do
            node_pid "$dir" >/dev/null || fail_start "$(basename "$dir") exited during startup" "$@"
            answers "127.0.0.1:$(node_port "$dir")" || up=0
        done
        if [ "$up" = 1 ]; then
            n=$(broker_count "$bootstrap")
            [ "$n" -ge "$want" ] && return 0
        fi
        [ "$SECONDS" -ge "$deadline" ] &&
            fail_start "no $want serving broker(s) on $bootstrap within ${START_TIMEOUT}s" "$@"
        sleep 1
    done
}

# ---------------------------------------------------------------- single node

# single[-tv1][-VERSION][-PORT]: VERSION only for a release other than the
# default, PORT only for a port other than 9092.
single_dir() {
    local name=single
    case "$KAFKA_TXN_VERSION" in
        "" | 2) ;; # 2 is the 4.4 default: same storage as unset
        1) name=single-tv1 ;;
        *) die "KAFKA_TXN_VERSION must be 1 or 2, not '$KAFKA_TXN_VERSION'" ;;
    esac
    # 3.9's StorageTool knows transaction.version 0 only ("No feature:
    # transaction.version with feature level 1"): say so before formatting.
    [ "$KAFKA_MAJOR" -ge 4 ] || [ -z "$KAFKA_TXN_VERSION" ] ||
        die "Kafka $KAFKA_VERSION has no transaction.version $KAFKA_TXN_VERSION; leave KAFKA_TXN_VERSION unset"
    [ "$KAFKA_VERSION" = "$DEFAULT_KAFKA_VERSION" ] || name+=-$KAFKA_VERSION
    [ "$KAFKA_PORT" = 9092 ] || name+=-$KAFKA_PORT
    echo "$STATE/$name"
}

# The release a single node's DIR runs (from its name, see single_dir).
dir_version() { # DIR
    local name
    name=$(basename "$1")
    if [[ $name =~ -([0-9]+\.[0-9]+\.[0-9]+)(-|$) ]]; then
        echo "${BASH_REMATCH[1]}"
    else
        echo "$DEFAULT_KAFKA_VERSION"
    fi
}

# A running node of ours (other than DIR) that listens on PORT, if any.
other_single_on_port() { # DIR PORT
    local d
    for d in "$STATE"/single*; do
        [ "$d" != "$1" ] && [ "$(node_port "$d")" = "$2" ] && node_pid "$d" >/dev/null &&
            echo "$d" && return 0
    done
    return 1
}

# The environment that selects a single node's DIR, as a command prefix.
down_hint() { # DIR
    local name port
    name=$(basename "$1")
    port=$(node_port "$1")
    [[ $name == single-tv1* ]] && printf 'KAFKA_TXN_VERSION=1 '
    [ "$(dir_version "$1")" = "$DEFAULT_KAFKA_VERSION" ] || printf 'KAFKA_VERSION=%s ' "$(dir_version "$1")"
    [ "$port" = 9092 ] || printf 'KAFKA_PORT=%s ' "$port"
}

finalized_txn_version() { # BOOTSTRAP
    timeout 30 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" org.apache.kafka.tools.FeatureCommand \
        --bootstrap-server "$1" describe 2>/dev/null |
        sed -n 's/^Feature: transaction.version.*FinalizedVersionLevel: \([0-9]*\).*/\1/p'
}

# Something answers on the port: fine if it is this node (or a foreign
# broker of the wanted transaction.version), an error otherwise.
check_existing() { # DIR
    local dir=$1 other tv what
    if node_pid "$dir" >/dev/null; then
        log "$(basename "$dir") already runs on 127.0.0.1:$KAFKA_PORT"
        wait_serving "127.0.0.1:$KAFKA_PORT" 1 "$dir"
        return 0
    fi
    if other=$(other_single_on_port "$dir" "$KAFKA_PORT"); then
        what="another transaction.version"
        [ "$(dir_version "$other")" = "$KAFKA_VERSION" ] || what="Kafka $(dir_version "$other")"
        die "${other#"$STATE"/} ($what) already runs on" \
            "127.0.0.1:$KAFKA_PORT; stop it first: $(down_hint "$other")scripts/kafka.sh down"
    fi
    if [ -n "$KAFKA_TXN_VERSION" ]; then
        cmd_fetch
        tv=$(finalized_txn_version "127.0.0.1:$KAFKA_PORT")
        [ "$tv" = "$KAFKA_TXN_VERSION" ] ||
            die "the broker on 127.0.0.1:$KAFKA_PORT (not started here) has transaction.version" \
                "'${tv:-?}', not $KAFKA_TXN_VERSION"
    fi
    log "a broker already answers on 127.0.0.1:$KAFKA_PORT (not started by this script); using it"
}

cmd_up() {
    local dir features=()
    dir=$(single_dir)
    if answers "127.0.0.1:$KAFKA_PORT"; then
        check_existing "$dir"
        return 0
    fi
    cmd_fetch
    mkdir -p "$dir"
    write_props "$dir" 1 "$KAFKA_PORT" $((KAFKA_PORT + 1)) "1@127.0.0.1:$((KAFKA_PORT + 1))" 1 1
    [ -z "$KAFKA_TXN_VERSION" ] || features=(--feature "transaction.version=$KAFKA_TXN_VERSION")
    format_node "$dir" "$(new_cluster_id)" "${features[@]}"
    if [ "$KAFKA_VERSION" = "$DEFAULT_KAFKA_VERSION" ]; then
        launch_node "$dir" "-Xms256m -Xmx768m"
    else # a node beside the default release's ones: the cluster nodes' heap
        launch_node "$dir" "-Xms256m -Xmx512m"
    fi
    wait_serving "127.0.0.1:$KAFKA_PORT" 1 "$dir"
    log "broker up on 127.0.0.1:$KAFKA_PORT (pid $(node_pid "$dir"), state $dir)"
}

cmd_down() {
    local dir
    dir=$(single_dir)
    if ! node_pid "$dir" >/dev/null; then
        log "$(basename "$dir") is not running"
        rm -f "$dir/kafka.pid"
        return 0
    fi
    stop_nodes TERM "$dir"
}

# ---------------------------------------------------------------- cluster

node_dir() { # N
    [[ ${1:-} =~ ^[1-3]$ ]] || die "cluster node must be 1, 2 or 3, not '${1:-}'"
    echo "$CLUSTER_DIR/node$1"
}
node_dirs() { local n; for n in "${CLUSTER_NODES[@]}"; do node_dir "$n"; done; }
running_nodes() { local d c=0; for d in $(node_dirs); do node_pid "$d" >/dev/null && c=$((c + 1)); done; echo "$c"; }

# (Re)writes node N's configuration and formats it on first use.
prepare_node() { # N
    local n=$1 dir port
    dir=$(node_dir "$n")
    port=$((19090 + 2 * n))
    mkdir -p "$dir"
    [ -f "$CLUSTER_DIR/cluster.id" ] || new_cluster_id >"$CLUSTER_DIR/cluster.id"
    write_props "$dir" "$n" "$port" $((port + 1)) "$CLUSTER_VOTERS" 3 2
    format_node "$dir" "$(cat "$CLUSTER_DIR/cluster.id")"
}

cmd_cluster_up() {
    local n dir pid started=() preparing=()
    require_4x "the 3-node cluster"
    cmd_fetch
    mkdir -p "$CLUSTER_DIR"
    [ -f "$CLUSTER_DIR/cluster.id" ] || new_cluster_id >"$CLUSTER_DIR/cluster.id"
    for n in "${CLUSTER_NODES[@]}"; do
        dir=$(node_dir "$n")
        node_pid "$dir" >/dev/null && continue
        answers "127.0.0.1:$((19090 + 2 * n))" &&
            die "port $((19090 + 2 * n)) is taken by a process this script did not start"
        prepare_node "$n" & # formatting is a JVM each: do the nodes at once
        preparing+=($!)
        started+=("$dir")
    done
    for pid in "${preparing[@]}"; do wait "$pid" || die "preparing a cluster node failed"; done
    for dir in "${started[@]}"; do launch_node "$dir" "-Xms256m -Xmx512m"; done
    # shellcheck disable=SC2046
    wait_serving "$CLUSTER_BOOTSTRAP" 3 $(node_dirs)
    log "cluster up: $CLUSTER_BOOTSTRAP"
}

cmd_cluster_down() {
    # shellcheck disable=SC2046
    stop_nodes TERM $(node_dirs)
}

cmd_node_stop() { stop_nodes TERM "$(node_dir "${1:-}")"; }
# Fails when the node is not running from this state: a fault test must not
# believe it killed a node it did not.
cmd_node_kill() {
    local dir
    dir=$(node_dir "${1:-}")
    node_pid "$dir" >/dev/null || die "node ${1:-} is not running from $STATE (set ACTIX_KAFKA_STATE?)"
    stop_nodes KILL "$dir"
}

cmd_node_start() {
    local dir
    require_4x "the 3-node cluster"
    dir=$(node_dir "${1:-}")
    [ -f "$dir/data/meta.properties" ] || die "node $1 was never formatted: run cluster-up"
    if ! node_pid "$dir" >/dev/null; then
        cmd_fetch
        prepare_node "$1"
        launch_node "$dir" "-Xms256m -Xmx512m"
    fi
    wait_serving "127.0.0.1:$(node_port "$dir")" "$(running_nodes)" "$dir"
    log "node $1 serves on 127.0.0.1:$(node_port "$dir")"
}

# ---------------------------------------------------------------- secured node
# One combined KRaft node where every client listener authenticates (TLS,
# mTLS, SASL), with StandardAuthorizer ACLs. The controller and the
# inter-broker listener are SASL_PLAINTEXT/PLAIN as `admin`, the only super
# user, so no unauthenticated principal is ever super. Ports and users are
# listed in integration/kafka/README.md ("The secured node") and mirrored in
# integration/src/secure.rs.

SECURE_DIR=$STATE/secure
SECURE_CERTS=$SECURE_DIR/certs
SECURE_CLIENTS=$SECURE_DIR/clients
SECURE_STORE_PASS=test-store-pass # certs.sh's PKCS12 password
SECURE_REAUTH_MS=3000
# NAME PORT PROTOCOL, in the order of `listeners`.
SECURE_LISTENERS=(
    "CONTROLLER 9300 SASL_PLAINTEXT"
    "INTERNAL 9301 SASL_PLAINTEXT"
    "SSL 9302 SSL"
    "MTLS 9303 SSL"
    "SSL_WRONG_NAME 9304 SSL"
    "SSL_EXPIRED 9305 SSL"
    "SASL_PLAINTEXT 9306 SASL_PLAINTEXT"
    "SASL_PLAINTEXT_REAUTH 9308 SASL_PLAINTEXT"
    "SASL_SSL_REAUTH 9309 SASL_SSL"
    "SASL_SSL 9307 SASL_SSL" # last: `status` shows the last advertised port
)
SECURE_INTERNAL=127.0.0.1:9301
SECURE_USERS=(admin alice carol dave 'we,ird=user') # password: <name>-secret
SECURE_MECHANISMS=(PLAIN SCRAM-SHA-256 SCRAM-SHA-512 OAUTHBEARER)
# Users and mechanisms are parts of client file names; `we,ird=user` would make an awkward one.
user_slug() { if [ "$1" = 'we,ird=user' ]; then echo weird; else echo "$1"; fi; }
mech_slug() {
    case "$1" in
        PLAIN) echo plain ;;
        SCRAM-SHA-256) echo scram256 ;;
        SCRAM-SHA-512) echo scram512 ;;
        OAUTHBEARER) echo oauthbearer ;;
    esac
}

# Prints TEMPLATE once per listener, with {name}, {port} and {proto}
# replaced, joined by SEPARATOR, leaving out the listener named SKIP.
secure_listener_list() { # SEPARATOR TEMPLATE [SKIP]
    local entry name port proto line out=() skip=${3:-}
    for entry in "${SECURE_LISTENERS[@]}"; do
        read -r name port proto <<<"$entry"
        [ "$name" = "$skip" ] && continue
        line=${2//\{name\}/$name}
        line=${line//\{port\}/$port}
        out+=("${line//\{proto\}/$proto}")
    done
    local IFS=$1
    echo "${out[*]}"
}
secure_ports() { secure_listener_list ' ' '{port}'; }

# A PlainLoginModule entry that accepts every test user (user_<name> options,
# quoted because of `we,ird=user`: Kafka's JAAS parser takes quoted names).
plain_jaas() {
    local u users=""
    for u in "${SECURE_USERS[@]}"; do users+=" \"user_$u\"=\"$u-secret\""; done
    echo "org.apache.kafka.common.security.plain.PlainLoginModule required$users;"
}
# The controller's and inter-broker listener's: the node logs in as admin,
# and admin is the only user accepted there.
ADMIN_JAAS='org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";'

keystore_props() { # LISTENER KEYSTORE
    echo "listener.name.$1.ssl.keystore.type=PKCS12"
    echo "listener.name.$1.ssl.keystore.location=$SECURE_CERTS/$2"
    echo "listener.name.$1.ssl.keystore.password=$SECURE_STORE_PASS"
}

sasl_props() { # LISTENER
    local l=$1 mechs
    mechs=$(
        IFS=,
        echo "${SECURE_MECHANISMS[*]}"
    )
    echo "listener.name.$l.sasl.enabled.mechanisms=$mechs"
    echo "listener.name.$l.plain.sasl.jaas.config=$(plain_jaas)"
    echo "listener.name.$l.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    echo "listener.name.$l.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    # The server side logs in too (the unsecured login handler needs a subject).
    echo "listener.name.$l.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"admin\";"
}

write_secure_props() {
    local dir=$SECURE_DIR
    cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh secure-up on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9300
listeners=$(secure_listener_list , '{name}://127.0.0.1:{port}')
advertised.listeners=$(secure_listener_list , '{name}://127.0.0.1:{port}' CONTROLLER)
listener.security.protocol.map=$(secure_listener_list , '{name}:{proto}')
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
sasl.mechanism.controller.protocol=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
log.dirs=$dir/data

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# Only the broker itself (controller + inter-broker listeners) is super.
super.users=User:admin
# mTLS: User:CN=alice-client,O=... becomes User:alice-client.
ssl.principal.mapping.rules=RULE:^CN=([^,]+)(,.*)?\$/\$1/,DEFAULT

# Controller and inter-broker: SASL PLAIN, admin only (client and server side).
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$ADMIN_JAAS
listener.name.internal.sasl.enabled.mechanisms=PLAIN
listener.name.internal.plain.sasl.jaas.config=$ADMIN_JAAS

# TLS, server authentication only: the client is User:ANONYMOUS.
$(keystore_props ssl broker.p12)
listener.name.ssl.ssl.client.auth=none
# mTLS: a client certificate signed by the test CA is required.
$(keystore_props mtls broker.p12)
listener.name.mtls.ssl.client.auth=required
listener.name.mtls.ssl.truststore.type=PKCS12
listener.name.mtls.ssl.truststore.location=$SECURE_CERTS/truststore.p12
listener.name.mtls.ssl.truststore.password=$SECURE_STORE_PASS
# Presents a certificate for wrong.example.com only.
$(keystore_props ssl_wrong_name wrong-name.p12)
listener.name.ssl_wrong_name.ssl.client.auth=none
# Presents a certificate that expired in 2020.
$(keystore_props ssl_expired expired.p12)
listener.name.ssl_expired.ssl.client.auth=none

# SASL (PLAIN, SCRAM-SHA-256/512, and OAUTHBEARER with Kafka's default
# server callback, the unsecured JWT validator) over TCP and over TLS.
$(sasl_props sasl_plaintext)
$(sasl_props sasl_ssl)
$(keystore_props sasl_ssl broker.p12)
# The same, with sessions that must be re-authenticated (KIP-368).
$(sasl_props sasl_plaintext_reauth)
listener.name.sasl_plaintext_reauth.connections.max.reauth.ms=$SECURE_REAUTH_MS
$(sasl_props sasl_ssl_reauth)
$(keystore_props sasl_ssl_reauth broker.p12)
listener.name.sasl_ssl_reauth.connections.max.reauth.ms=$SECURE_REAUTH_MS

$(tuning_props 1 1)
EOF
}

# Kafka client configs for the console tools, one per listener, mechanism
# and user: clients/client-<listener>[-<mechanism>][-<user>].properties
# (alice's have no user part), and clients/admin.properties.
write_secure_clients() {
    local d=$SECURE_CLIENTS entry l port proto m u file
    local trust="ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_CERTS/ca.pem"
    mkdir -p "$d"
    {
        echo "# INTERNAL listener ($SECURE_INTERNAL): PLAIN as the super user admin"
        echo "security.protocol=SASL_PLAINTEXT"
        echo "sasl.mechanism=PLAIN"
        echo "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"admin-secret\";"
    } >"$d/admin.properties"
    {
        echo "# SSL listener (127.0.0.1:9302): TLS without a client certificate (User:ANONYMOUS)"
        echo "security.protocol=SSL"
        echo "$trust"
    } >"$d/client-ssl.properties"
    {
        echo "# SSL_WRONG_NAME listener (127.0.0.1:9304) with hostname verification turned off"
        echo "security.protocol=SSL"
        echo "$trust"
        echo "ssl.endpoint.identification.algorithm="
    } >"$d/client-ssl-wrong-name-noverify.properties"
    {
        echo "# MTLS listener (127.0.0.1:9303): the client certificate CN=alice-client (User:alice-client)"
        echo "security.protocol=SSL"
        echo "$trust"
        echo "ssl.keystore.type=PKCS12"
        echo "ssl.keystore.location=$SECURE_CERTS/client.p12"
        echo "ssl.keystore.password=$SECURE_STORE_PASS"
    } >"$d/client-mtls.properties"
    for entry in "SASL_PLAINTEXT 9306" "SASL_SSL 9307" "SASL_PLAINTEXT_REAUTH 9308" "SASL_SSL_REAUTH 9309"; do
        read -r l port <<<"$entry"
        proto=${l%_REAUTH}
        for m in "${SECURE_MECHANISMS[@]}"; do
            for u in "${SECURE_USERS[@]}"; do
                file="$d/client-$(echo "$l" | tr 'A-Z_' 'a-z-')-$(mech_slug "$m")"
                [ "$u" = alice ] || file+="-$(user_slug "$u")"
                {
                    echo "# $l listener (127.0.0.1:$port): $m as $u"
                    echo "security.protocol=$proto"
                    echo "sasl.mechanism=$m"
                    case "$m" in
                        PLAIN) echo "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$u\" password=\"$u-secret\";" ;;
                        SCRAM-*) echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$u\" password=\"$u-secret\";" ;;
                        OAUTHBEARER) echo "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"$u\";" ;;
                    esac
                    if [ "$proto" = SASL_SSL ]; then echo "$trust"; fi
                } >"$file.properties"
            done
        done
    done
}

# Creates the topics, the SCRAM credentials StorageTool cannot write and the
# ACLs (the scheme is in the README), and waits until the ACLs take effect.
# One JVM does it all (integration/kafka/SecureSetup.java, through Java's
# source launcher): Kafka's tools would be about fifteen. Topics and ACLs
# live in the cluster metadata, so this runs once per formatted data
# directory: a stamp with the cluster id and the program's checksum records it.
secure_setup() {
    local dir=$SECURE_DIR stamp program=$CONF_DIR/SecureSetup.java
    stamp="$(sed -n 's/^cluster.id=//p' "$dir/data/meta.properties") $(sha256sum <"$program" | cut -d' ' -f1)"
    [ -f "$dir/setup.stamp" ] && [ "$(cat "$dir/setup.stamp")" = "$stamp" ] && return 0
    log "creating the secured node's topics and ACLs"
    timeout 120 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" "$program" \
        "$SECURE_CLIENTS/admin.properties" "$SECURE_INTERNAL" \
        "$SECURE_CLIENTS/client-sasl-plaintext-plain-dave.properties" 127.0.0.1:9306 ||
        die "creating the secured node's topics and ACLs failed (the node still runs; run secure-up again to retry)"
    echo "$stamp" >"$dir/setup.stamp"
}

# Waits until every listener accepts connections and the node serves admin
# requests on INTERNAL; on failure shows the logs and stops the node.
secure_wait_serving() {
    local dir=$SECURE_DIR deadline=$((SECONDS + START_TIMEOUT)) port up
    while :; do
        node_pid "$dir" >/dev/null || fail_start "the secured node exited during startup" "$dir"
        up=1
        for port in $(secure_ports); do answers "127.0.0.1:$port" || { up=0; break; }; done
        if [ "$up" = 1 ] && timeout 30 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" \
            "$API_VERSIONS_TOOL" --bootstrap-server "$SECURE_INTERNAL" \
            --command-config "$SECURE_CLIENTS/admin.properties" 2>/dev/null | grep -q '(id: 1 '; then
            return 0
        fi
        [ "$SECONDS" -ge "$deadline" ] &&
            fail_start "the secured node did not serve on $SECURE_INTERNAL within ${START_TIMEOUT}s" "$dir"
        sleep 1
    done
}

cmd_secure_up() {
    local dir=$SECURE_DIR port scram=() u m started=$SECONDS
    require_4x "the secured node"
    if node_pid "$dir" >/dev/null; then
        log "the secured node already runs (pid $(node_pid "$dir"))"
        cmd_fetch
        secure_wait_serving
        secure_setup
        return 0
    fi
    for port in $(secure_ports); do
        answers "127.0.0.1:$port" && die "port $port is taken by a process this script did not start"
    done
    cmd_fetch
    mkdir -p "$dir"
    "$REPO/scripts/certs.sh" "$SECURE_CERTS"
    write_secure_props
    write_secure_clients
    if [ ! -f "$dir/data/meta.properties" ]; then
        rm -f "$dir/setup.stamp"
        # SCRAM credentials are metadata records, written at format time,
        # except for `we,ird=user`: StorageTool splits --add-scram at every
        # comma, so secure_setup adds that one through the Admin API.
        for u in "${SECURE_USERS[@]}"; do
            [ "$u" = 'we,ird=user' ] && continue
            for m in SCRAM-SHA-256 SCRAM-SHA-512; do
                scram+=(--add-scram "$m=[name=\"$u\",password=\"$u-secret\"]")
            done
        done
    fi
    format_node "$dir" "$(new_cluster_id)" "${scram[@]}"
    launch_node "$dir" "-Xms256m -Xmx512m"
    secure_wait_serving
    secure_setup
    log "secured node up in $((SECONDS - started)) s (pid $(node_pid "$dir"), state $dir):" \
        "$(secure_listener_list , ' {name} 127.0.0.1:{port}' CONTROLLER)"
}

cmd_secure_down() {
    if ! node_pid "$SECURE_DIR" >/dev/null; then
        log "the secured node is not running"
        rm -f "$SECURE_DIR/kafka.pid"
        return 0
    fi
    stop_nodes TERM "$SECURE_DIR"
}

cmd_secure_status() {
    local pid
    if pid=$(node_pid "$SECURE_DIR"); then
        echo "secure: running, pid $pid, state $SECURE_DIR"
        secure_listener_list $'\n' '  {name} 127.0.0.1:{port} ({proto})'
        if [ -f "$SECURE_DIR/setup.stamp" ]; then
            echo "  topics and ACLs: applied"
        else
            echo "  topics and ACLs: not applied"
        fi
    else
        echo "secure: stopped (state $SECURE_DIR)"
        return 3
    fi
}

# ---------------------------------------------------------------- overview

all_node_dirs() {
    local d
    for d in "$STATE"/single* "$CLUSTER_DIR"/node* "$SECURE_DIR"; do [ -f "$d/server.properties" ] && echo "$d"; done
    return 0
}

cmd_status() {
    local d pid any=0
    for d in $(all_node_dirs); do
        any=1
        if pid=$(node_pid "$d"); then
            echo "${d#"$STATE"/}: running, pid $pid, 127.0.0.1:$(node_port "$d")"
        else
            echo "${d#"$STATE"/}: stopped"
        fi
    done
    [ "$any" = 1 ] || echo "no nodes under $STATE"
}

cmd_stop_all() {
    # shellcheck disable=SC2046
    stop_nodes TERM $(all_node_dirs)
}

cmd_clean() {
    local d
    for d in $(all_node_dirs); do
        node_pid "$d" >/dev/null && die "${d#"$STATE"/} still runs; stop it first"
    done
    rm -rf "$STATE"/single* "$CLUSTER_DIR" "$SECURE_DIR"
    log "removed the broker state under $STATE"
}

# ---------------------------------------------------------------- tool wrappers

cmd_topic_create() {
    [ $# -ge 2 ] || die "usage: topic-create NAME PARTITIONS [RF] [--config k=v ...]"
    local name=$1 partitions=$2 rf=1
    shift 2
    if [ $# -gt 0 ] && [[ $1 != -* ]]; then rf=$1; shift; fi
    cmd_run_class org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --create --topic "$name" --partitions "$partitions" --replication-factor "$rf" "$@"
}

cmd_topic_describe() {
    [ $# -ge 1 ] || die "usage: topic-describe NAME"
    cmd_run_class org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --describe --topic "$@"
}

# Prints ARGS NUL-separated with the console tools' deprecated option names
# replaced by their 4.x names: the tools print their deprecation warnings to
# stdout, where they would mix with the records. 3.x knows only the old
# names, so there it is the other way round.
modern_args() { # producer|consumer ARGS...
    local kind=$1 arg
    shift
    if [ "$KAFKA_MAJOR" -lt 4 ]; then
        for arg in "$@"; do
            case "$kind:$arg" in
                producer:--reader-property | consumer:--formatter-property) arg=--property ;;
                *:--command-property) arg=--$kind-property ;;
                *:--command-config) arg=--$kind.config ;;
            esac
            printf '%s\0' "$arg"
        done
        return 0
    fi
    for arg in "$@"; do
        case "$kind:$arg" in
            producer:--property) arg=--reader-property ;;
            consumer:--property) arg=--formatter-property ;;
            *:--producer-property | *:--consumer-property) arg=--command-property ;;
            *:--producer.config | *:--consumer.config) arg=--command-config ;;
        esac
        printf '%s\0' "$arg"
    done
}

cmd_produce() {
    [ $# -ge 1 ] || die "usage: produce TOPIC [args...]"
    local topic=$1 args=()
    shift
    mapfile -d '' args < <(modern_args producer "$@")
    cmd_run_class "$CONSOLE_PRODUCER" --bootstrap-server "$BOOTSTRAP" \
        --topic "$topic" "${args[@]}"
}

cmd_consume() {
    [ $# -ge 1 ] || die "usage: consume TOPIC [args...]"
    local topic=$1 args=()
    shift
    mapfile -d '' args < <(modern_args consumer "$@")
    cmd_run_class org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" \
        --topic "$topic" "${args[@]}"
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

main() {
    local cmd=${1:-}
    [ $# -gt 0 ] && shift
    case "$cmd" in
        fetch) cmd_fetch ;;
        up) cmd_up ;;
        down) cmd_down ;;
        cluster-up) cmd_cluster_up ;;
        cluster-down) cmd_cluster_down ;;
        node-stop) cmd_node_stop "$@" ;;
        node-kill) cmd_node_kill "$@" ;;
        node-start) cmd_node_start "$@" ;;
        secure-up) cmd_secure_up ;;
        secure-down) cmd_secure_down ;;
        secure-status) cmd_secure_status ;;
        status) cmd_status ;;
        stop-all) cmd_stop_all ;;
        clean) cmd_clean ;;
        answers) [ $# -eq 1 ] || die "usage: answers HOST:PORT"; answers "$1" ;;
        topic-create) cmd_topic_create "$@" ;;
        topic-describe) cmd_topic_describe "$@" ;;
        produce) cmd_produce "$@" ;;
        consume) cmd_consume "$@" ;;
        run-class) cmd_run_class "$@" ;;
        classpath) cmd_classpath ;;
        *) usage ;;
    esac
}

main "$@"
