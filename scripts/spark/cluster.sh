#!/usr/bin/env bash
# A Spark standalone cluster on this machine, for segql's Spark agreement
# tests: one master, two workers (separate processes, one core each) and a
# Spark Connect server whose application runs on that master's workers.
#
#   scripts/spark/cluster.sh prepare  install what is missing (what start does first, and protoc)
#   scripts/spark/cluster.sh start    install what is missing, start, wait for executors
#   scripts/spark/cluster.sh status   the master's view: workers, executors, applications
#   scripts/spark/cluster.sh stop     stop everything this script started
#
# What `start` installs when missing: Java 17 (Debian's openjdk-17-jre-headless,
# as root) and a project-local virtual environment .venv-spark with
# pyspark[connect] (Spark 4 and its jars come in the pyspark wheel). `prepare`
# also installs protoc (Debian's protobuf-compiler, as root), which building
# segql with `--features spark` (its Spark Connect client) needs.
#
# Every process is bound to 127.0.0.1 (SPARK_LOCAL_IP, --host,
# spark.connect.grpc.binding.address): left alone, a worker binds the
# machine's other interface, and the tests talk to loopback only.
#
# Ports (override with the environment): master 7077
# (SEGQL_SPARK_MASTER_PORT), its web UI and JSON 8080 (SEGQL_SPARK_UI_PORT;
# the workers' UIs take the two ports after it), Spark Connect 15002
# (SEGQL_SPARK_CONNECT_PORT). Logs, pids and the workers' directories are in
# target/spark-cluster (SEGQL_SPARK_STATE).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${SEGQL_SPARK_VENV:-$ROOT/.venv-spark}
STATE=${SEGQL_SPARK_STATE:-$ROOT/target/spark-cluster}
MASTER_PORT=${SEGQL_SPARK_MASTER_PORT:-7077}
UI_PORT=${SEGQL_SPARK_UI_PORT:-8080}
CONNECT_PORT=${SEGQL_SPARK_CONNECT_PORT:-15002}
WORKERS=2
# How long each stage may take before start gives up (seconds).
WAIT=${SEGQL_SPARK_WAIT:-180}
# pyspark 4's client says it does not fully support pandas 3 yet.
PYSPARK_REQUIREMENT=('pyspark[connect]>=4.0,<5' 'pandas<3')

export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOG_DIR=$STATE/logs
export SPARK_PID_DIR=$STATE/pids
export SPARK_WORKER_DIR=$STATE/work

say() { echo "cluster: $*" >&2; }
die() { echo "cluster: error: $*" >&2; exit 1; }

ensure_java() {
    if command -v java >/dev/null 2>&1; then
        return
    fi
    say "no java: installing Debian's openjdk-17-jre-headless"
    [ "$(id -u)" = 0 ] || die "Java 17 is missing and installing it needs root: run 'apt-get install -y openjdk-17-jre-headless' as root"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    command -v java >/dev/null 2>&1 || die "openjdk-17-jre-headless installed no java command"
}

# protoc and the well-known types it imports (google/protobuf/any.proto,
# timestamp.proto: Debian's libprotobuf-dev, only recommended by
# protobuf-compiler, so missing where recommends are not installed).
ensure_protoc() {
    if [ -n "${PROTOC:-}" ]; then
        return
    fi
    if command -v protoc >/dev/null 2>&1 && [ -f /usr/include/google/protobuf/any.proto ]; then
        return
    fi
    say "no protoc or its well-known types: installing Debian's protobuf-compiler and libprotobuf-dev"
    [ "$(id -u)" = 0 ] || die "protoc is missing and installing it needs root: run 'apt-get install -y protobuf-compiler libprotobuf-dev' as root"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
    command -v protoc >/dev/null 2>&1 || die "protobuf-compiler installed no protoc command"
    [ -f /usr/include/google/protobuf/any.proto ] || die "libprotobuf-dev installed no google/protobuf/any.proto"
}

ensure_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c \
        'import pyspark, pandas, pyarrow, grpc, google.protobuf
assert int(pandas.__version__.split(".")[0]) < 3' >/dev/null 2>&1; then
        return
    fi
    say "installing ${PYSPARK_REQUIREMENT[*]} into $VENV"
    if [ ! -x "$VENV/bin/python" ] && ! python3 -m venv "$VENV" 2>/dev/null; then
        # A fresh Debian image may lack the venv module; root can add it.
        [ "$(id -u)" = 0 ] || die "cannot create the virtual environment $VENV (Debian: apt-get install -y python3-venv)"
        rm -rf "$VENV"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$VENV" || die "cannot create the virtual environment $VENV"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PYSPARK_REQUIREMENT[@]}" ||
        die "pip could not install ${PYSPARK_REQUIREMENT[*]} into $VENV"
}

spark_home() {
    "$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
}

# The master's JSON (http://127.0.0.1:UI_PORT/json), or nothing when it
# does not answer.
master_json() {
    "$VENV/bin/python" - "$UI_PORT" <<'EOF' 2>/dev/null || true
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/json", timeout=5) as r:
    print(r.read().decode())
EOF
}

# One line on the cluster from the master's JSON: alive workers, workers
# running an executor, running applications (and whether CONNECT_PORT
# accepts connections). Exit status 0 when the cluster is fully up.
summary() {
    master_json | "$VENV/bin/python" -c '
import json, socket, sys
text = sys.stdin.read()
if not text.strip():
    print("master not answering"); sys.exit(1)
m = json.loads(text)
alive = [w for w in m.get("workers", []) if w.get("state") == "ALIVE"]
busy = [w for w in alive if w.get("coresused", 0) > 0]
apps = [a for a in m.get("activeapps", []) if a.get("state") == "RUNNING"]
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
    connect = "listening"
except OSError:
    connect = "not listening"
names = ", ".join(a["name"] for a in apps)
print(f"{len(alive)} workers alive, {len(busy)} running executors, "
      f"{len(apps)} applications running ({names}), "
      f"Spark Connect on 127.0.0.1:{sys.argv[1]} {connect}")
sys.exit(0 if len(alive) >= int(sys.argv[2]) and len(busy) >= int(sys.argv[2]) and apps and connect == "listening" else 1)
' "$CONNECT_PORT" "$WORKERS"
}

# Starts a command in a session of its own (so that stop can end it with
# its children, the executors of a worker), logging to STATE/logs/NAME.log.
launch() {
    local name=$1
    shift
    setsid nohup "$@" >"$SPARK_LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$STATE/$name.pid"
}

# Waits until `check` succeeds, or dies naming `what` and the log to read.
wait_for() {
    local what=$1 log=$2
    shift 2
    local deadline=$((SECONDS + WAIT))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            tail -n 30 "$log" >&2 || true
            die "$what not ready after ${WAIT}s (log: $log)"
        fi
        sleep 1
    done
}

master_up() { [ -n "$(master_json)" ]; }

workers_alive() {
    master_json | "$VENV/bin/python" -c '
import json, sys
m = json.load(sys.stdin)
sys.exit(0 if sum(w.get("state") == "ALIVE" for w in m["workers"]) >= int(sys.argv[1]) else 1)
' "$WORKERS"
}

running() {
    local pid
    pid=$(cat "$STATE/$1.pid" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null
}

start() {
    ensure_java
    ensure_venv
    mkdir -p "$SPARK_LOG_DIR" "$SPARK_PID_DIR" "$SPARK_WORKER_DIR"
    if running master; then
        die "a cluster started from $STATE is running already; stop it first"
    fi
    local home
    home=$(spark_home)
    export SPARK_HOME=$home
    say "Spark $("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)') from $home"

    launch master "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
        --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$UI_PORT"
    wait_for "the master" "$SPARK_LOG_DIR/master.log" master_up

    local i
    for i in $(seq 1 $WORKERS); do
        mkdir -p "$SPARK_WORKER_DIR/worker-$i"
        launch "worker-$i" "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
            --host 127.0.0.1 --webui-port $((UI_PORT + i)) --cores 1 --memory 2g \
            --work-dir "$SPARK_WORKER_DIR/worker-$i" "spark://127.0.0.1:$MASTER_PORT"
    done
    wait_for "$WORKERS workers" "$SPARK_LOG_DIR/worker-1.log" workers_alive

    launch connect "$home/sbin/start-connect-server.sh" --wait \
        --master "spark://127.0.0.1:$MASTER_PORT" \
        --conf spark.connect.grpc.binding.address=127.0.0.1 \
        --conf "spark.connect.grpc.binding.port=$CONNECT_PORT" \
        --conf spark.driver.host=127.0.0.1 \
        --conf spark.driver.bindAddress=127.0.0.1 \
        --conf spark.ui.enabled=false \
        --conf "spark.sql.warehouse.dir=$STATE/warehouse" \
        --conf spark.sql.session.timeZone=UTC \
        --conf spark.sql.ansi.enabled=true \
        --conf spark.sql.shuffle.partitions=4 \
        --conf spark.executor.cores=1 \
        --conf spark.executor.memory=1g \
        --conf "spark.cores.max=$WORKERS"
    wait_for "Spark Connect with executors on every worker" "$SPARK_LOG_DIR/connect.log" summary
    say "up: $(summary)"
}

stop() {
    local name pid
    for name in connect $(seq -f 'worker-%g' 1 $WORKERS) master; do
        pid=$(cat "$STATE/$name.pid" 2>/dev/null) || continue
        if kill -0 "$pid" 2>/dev/null; then
            # The session's process group: the process and its children.
            kill -TERM -- "-$pid" 2>/dev/null || true
            for _ in $(seq 1 20); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.5
            done
            kill -KILL -- "-$pid" 2>/dev/null || true
            say "stopped $name"
        fi
        rm -f "$STATE/$name.pid"
    done
}

status() {
    [ -x "$VENV/bin/python" ] || die "no virtual environment at $VENV: run start"
    summary
}

case ${1:-} in
prepare)
    ensure_java
    ensure_venv
    ensure_protoc
    ;;
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 prepare|start|stop|status" >&2
    exit 2
    ;;
esac
