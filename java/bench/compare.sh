#!/bin/bash
# Runs the JMS benchmark (JmsBench, 1 KiB messages) against Herald, ActiveMQ Artemis and
# ActiveMQ Classic 5.17 on this machine, side by side, and prints one table:
#
#   embedded in the benchmark's JVM:  Herald vm://   Artemis EmbeddedActiveMQ (vm://0)   Classic vm://
#   over TCP on 127.0.0.1:            herald serve   artemis run                        Classic broker
#
# Every broker persists to a fresh temporary directory with its default durability
# settings, listens on 127.0.0.1 only, runs under a time limit and is stopped afterwards.
#
# usage: java/bench/compare.sh [--messages N] [--np-messages N] [--backlog N] [--only herald,artemis,classic] [--no-tcp] [--no-embedded]
#   --messages N     messages per persistent throughput scenario (default 20000)
#   --np-messages N  messages per non-persistent scenario (1P/1C, topic fan-out; default
#                    500000): enough for several seconds of the fastest broker, since a
#                    run of a fraction of a second mostly measures the JIT warming up
#   --backlog N      messages in the backlog-then-drain scenario (default 100000)
#
# Needs: JDK 17, gradle, cargo; ActiveMQ Classic from Debian (apt-get install -y activemq);
# Maven to fetch the Artemis distribution (org.apache.activemq:apache-artemis:VERSION:bin,
# cached in target/bench-brokers). A provider that is missing is reported and left out.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
messages=20000
np_messages=500000
backlog=100000
only="herald,artemis,classic"
tcp=1
embedded=1
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) messages=$2; shift 2 ;;
        --np-messages) np_messages=$2; shift 2 ;;
        --backlog) backlog=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --no-tcp) tcp=0; shift ;;
        --no-embedded) embedded=0; shift ;;
        *) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//; $d' >&2; exit 2 ;;
    esac
done

ARTEMIS_VERSION=${ARTEMIS_VERSION:-2.40.0}
CLASSIC_HOME=${CLASSIC_HOME:-/usr/share/activemq}
BROKER_LIMIT=${BROKER_LIMIT:-3600}   # seconds a broker may live
BENCH_LIMIT=${BENCH_LIMIT:-1800}     # seconds one provider's benchmark run may take
cache="$root/target/bench-brokers"
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-compare.XXXXXX")
results="$work/results.txt"
: > "$results"
pids=()

say() { printf '== %s\n' "$*" >&2; }

stop_all() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pids=()
}
cleanup() {
    stop_all
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wants() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID NAME: until something listens on 127.0.0.1:PORT (60 s at most).
wait_port() {
    local i
    for i in $(seq 1 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        if ! kill -0 "$2" 2>/dev/null; then say "$3 exited before listening"; return 1; fi
        sleep 0.1
    done
    say "$3 did not listen on port $1 within 60 s"
    return 1
}

# bench LABEL CLASSPATH MAIN-AND-ARGS...: one provider's run, appended to the results.
bench() {
    local label=$1 cp=$2
    shift 2
    say "benchmark: $label"
    if timeout "$BENCH_LIMIT" java -Xms1g -Xmx2g -cp "$cp" "$@" --label "$label" --messages "$messages" --np-messages "$np_messages" --backlog "$backlog" \
        > "$work/$label.out" 2> "$work/$label.err"; then
        cat "$work/$label.out" >&2
        cat "$work/$label.out" >> "$results"
    else
        say "$label failed (exit $?); last lines of its output:"
        tail -n 20 "$work/$label.err" >&2 || true
    fi
}

# ---- build the benchmark (and Herald) ----
say "building Herald's jar and the benchmark"
export GRADLE_USER_HOME="${GRADLE_USER_HOME:-$root/target/gradle-home}"
(cd "$root/java" && gradle --no-daemon -q --console=plain benchClasspath) >&2
herald_cp=$(cat "$root/java/build/bench-classpath")
api_cp=$(cat "$root/java/build/bench-classpath-api")
bench_main=io.herald.jms.bench.JmsBench

# ---- fetch Artemis ----
artemis_home="$cache/apache-artemis-$ARTEMIS_VERSION"
if wants artemis && [ ! -x "$artemis_home/bin/artemis" ]; then
    say "fetching apache-artemis $ARTEMIS_VERSION (bin) with Maven"
    mkdir -p "$cache"
    if mvn -B -q dependency:copy -Dartifact="org.apache.activemq:apache-artemis:$ARTEMIS_VERSION:tar.gz:bin" \
        -DoutputDirectory="$cache" >&2; then
        tar -xzf "$cache/apache-artemis-$ARTEMIS_VERSION-bin.tar.gz" -C "$cache"
    fi
fi
if wants artemis && [ ! -x "$artemis_home/bin/artemis" ]; then
    say "Artemis is not available: left out"
    only=${only//artemis/}
fi
if wants classic && [ ! -f "$CLASSIC_HOME/bin/activemq.jar" ]; then
    say "ActiveMQ Classic is not installed (apt-get install -y activemq): left out"
    only=${only//classic/}
fi
artemis_cp="$api_cp:$artemis_home/lib/*"
classic_cp="$api_cp:$CLASSIC_HOME/lib/*"

# ---- embedded ----
if [ "$embedded" = 1 ]; then
    if wants herald; then
        bench herald-vm "$herald_cp" $bench_main --url "vm://bench?dataDir=$work/herald-vm"
    fi
    if wants artemis; then
        d="$work/artemis-vm"
        mkdir -p "$d"
        cat > "$d/broker.xml" <<EOF
<configuration xmlns="urn:activemq">
  <core xmlns="urn:activemq:core">
    <persistence-enabled>true</persistence-enabled>
    <security-enabled>false</security-enabled>
    <journal-directory>$d/journal</journal-directory>
    <bindings-directory>$d/bindings</bindings-directory>
    <paging-directory>$d/paging</paging-directory>
    <large-messages-directory>$d/large</large-messages-directory>
    <acceptors><acceptor name="in-vm">vm://0</acceptor></acceptors>
    <address-settings>
      <address-setting match="#">
        <auto-create-queues>true</auto-create-queues>
        <auto-create-addresses>true</auto-create-addresses>
      </address-setting>
    </address-settings>
  </core>
</configuration>
EOF
        bench artemis-vm "$artemis_cp" io.herald.jms.bench.EmbeddedArtemis "$d/broker.xml" \
            --factory org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory --url vm://0
    fi
    if wants classic; then
        bench classic-vm "$classic_cp" $bench_main --factory org.apache.activemq.ActiveMQConnectionFactory \
            --url "vm://bench?broker.persistent=true&broker.useJmx=false&broker.dataDirectory=$work/classic-vm"
    fi
fi

# ---- over TCP ----
if [ "$tcp" = 1 ]; then
    if wants herald; then
        if [ -f "$root/server/Cargo.toml" ]; then
            say "building herald serve"
            (cd "$root" && cargo build --release -q -p herald-server) >&2
            port=$(free_port)
            timeout "$BROKER_LIMIT" "$root/target/release/herald" serve --listen "127.0.0.1:$port" \
                --data "$work/herald-tcp" > "$work/herald-serve.log" 2>&1 &
            pids+=($!)
            if wait_port "$port" "$!" "herald serve"; then
                bench herald-tcp "$herald_cp" $bench_main --url "tcp://127.0.0.1:$port"
            fi
            stop_all
        else
            say "herald serve is not part of this checkout yet: herald-tcp left out"
        fi
    fi
    if wants artemis; then
        port=$(free_port)
        say "creating an Artemis broker instance on 127.0.0.1:$port"
        "$artemis_home/bin/artemis" create --silent --force --user bench --password bench --allow-anonymous \
            --host 127.0.0.1 --default-port "$port" --no-web --no-amqp-acceptor --no-mqtt-acceptor \
            --no-stomp-acceptor --no-hornetq-acceptor "$work/artemis-tcp" > "$work/artemis-create.log" 2>&1
        timeout "$BROKER_LIMIT" "$work/artemis-tcp/bin/artemis" run > "$work/artemis-run.log" 2>&1 &
        pids+=($!)
        if wait_port "$port" "$!" "artemis run"; then
            bench artemis-tcp "$artemis_cp" $bench_main \
                --factory org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory --url "tcp://127.0.0.1:$port"
        fi
        "$work/artemis-tcp/bin/artemis" stop > /dev/null 2>&1 || true
        stop_all
    fi
    if wants classic; then
        port=$(free_port)
        d="$work/classic-tcp"
        mkdir -p "$d/conf" "$d/data" "$d/tmp"
        say "starting ActiveMQ Classic on 127.0.0.1:$port"
        timeout "$BROKER_LIMIT" java -Xms1g -Xmx2g -Dactivemq.home="$CLASSIC_HOME" -Dactivemq.base="$d" \
            -Dactivemq.conf="$d/conf" -Dactivemq.data="$d/data" -Djava.io.tmpdir="$d/tmp" \
            -jar "$CLASSIC_HOME/bin/activemq.jar" start \
            "broker:(tcp://127.0.0.1:$port)?useJmx=false&persistent=true&dataDirectory=$d/data" \
            > "$work/classic-run.log" 2>&1 &
        pids+=($!)
        if wait_port "$port" "$!" "ActiveMQ Classic"; then
            bench classic-tcp "$classic_cp" $bench_main --factory org.apache.activemq.ActiveMQConnectionFactory \
                --url "tcp://127.0.0.1:$port"
        fi
        stop_all
    fi
fi

# ---- the table: one row per scenario, one column per provider run ----
echo
echo "JmsBench, 1 KiB messages, $messages per persistent throughput scenario, $np_messages per non-persistent one; msg/s unless marked us (higher is better, except latency)"
awk '
    {
        label = $1; unit = $NF; value = $(NF - 1)
        scenario = $2; for (i = 3; i <= NF - 2; i++) scenario = scenario " " $i
        if (unit == "us") scenario = scenario " (us)"
        if (!(label in seenLabel)) { seenLabel[label] = 1; labels[++nl] = label }
        if (!(scenario in seenScenario)) { seenScenario[scenario] = 1; scenarios[++ns] = scenario }
        cell[scenario, label] = value
    }
    END {
        order = "herald-vm artemis-vm classic-vm herald-tcp artemis-tcp classic-tcp"
        n = split(order, wanted, " "); nc = 0
        for (i = 1; i <= n; i++) if (wanted[i] in seenLabel) cols[++nc] = wanted[i]
        printf "%-32s", "scenario"; for (c = 1; c <= nc; c++) printf " %12s", cols[c]; printf "\n"
        for (s = 1; s <= ns; s++) {
            printf "%-32s", scenarios[s]
            for (c = 1; c <= nc; c++) {
                v = cell[scenarios[s], cols[c]]
                if (v == "") printf " %12s", "-"; else printf " %12.0f", v
            }
            printf "\n"
        }
    }' "$results"
