#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft: broker + controller in one JVM) on 127.0.0.1
# for Sluice's tests, from the Maven Central jars (no Docker, no tarball download).
#
# Usage: scripts/kafka.sh start|stop|restart [--purge]
#        scripts/kafka.sh status|topic NAME [PARTITIONS [TopicCommand args...]]|fetch
#
#   start     fetch the jars if needed, start the broker in the background (detached) and wait
#             until it answers. The run dir of an earlier start is kept: its data (every topic,
#             committed offset and transaction) is there again; without one, a fresh run dir is
#             formatted. A broker of this script already running on the port is left alone (exit 0).
#   stop      SIGTERM (SIGKILL after 30 s). The run dir and its data stay for the next start.
#   restart   stop, then start again on the same run dir and data, and wait until ready.
#   --purge   deletes the run dir (data, logs, configs): after `stop`; before `start` (stopping a
#             broker of it first) and `restart`, which then start on a freshly formatted one. Tests
#             and benchmarks that want a broker of their own start and stop with --purge.
#   status    print running/stopped; exit 0 when running, 1 when stopped.
#   topic     create topic NAME with PARTITIONS (default 1), replication 1, if it does not exist.
#             Any further arguments go to TopicCommand (e.g. --config cleanup.policy=compact).
#   fetch     only resolve the jars into the cache and print the libs dir.
#
# Environment:
#   KAFKA_PORT=9092             client port (PLAINTEXT://127.0.0.1:PORT, advertised as 127.0.0.1)
#   KAFKA_CONTROLLER_PORT       controller port (default KAFKA_PORT+1)
#   KAFKA_VERSION=4.4.0         org.apache.kafka:kafka_2.13 version (CI also runs 4.1.1, the oldest
#                               line supported, for the transport conformance suite)
#   SLUICE_KAFKA_HOME           jar cache (default $HOME/.cache/sluice-kafka; libs in <home>/<version>/libs)
#   SLUICE_KAFKA_RUN            run dir (default /tmp/sluice-kafka-$KAFKA_PORT): data/ logs/ pid configs
#   KAFKA_HEAP="-Xmx512m -Xms256m"
#   KAFKA_OPTS                  extra JVM options for the broker
#   KAFKA_START_TIMEOUT=90      seconds to wait for the broker to be ready
#   KAFKA_KEEP_LOGS=1           stop --purge keeps <run dir>/logs
#   KAFKA_SASL_SSL_PORT         also listen on SASL_SSL://127.0.0.1:PORT (unset: no such listener),
#                               with a self-signed certificate made at start and SASL PLAIN,
#                               SCRAM-SHA-256 and SCRAM-SHA-512 for one user:
#   KAFKA_SASL_USER=sluice      that user (letters, digits, '-', '_', '.')
#   KAFKA_SASL_PASSWORD=sluice-secret
#                               its password (letters, digits, '-', '_', '.')
#   KAFKA_AUTHORIZER=1          ACLs on (StandardAuthorizer), everything allowed where a resource
#                               has none (allow.everyone.if.no.acl.found): tests add and remove
#                               ACLs to make requests fail while the broker stays up
#   The SASL_SSL listener's files are in <run dir>/tls/: ca.crt is the CA clients must trust (PEM);
#   broker.pem the broker's key and certificate (for 127.0.0.1 and localhost). `start` prints
#   the CA's path. The PLAINTEXT listener stays as it is (tools and inter-broker traffic use it).
#
# Needs: java (17+), mvn (3.8+, first run only / when the ~/.m2 cache is cold), flock; openssl
# with KAFKA_SASL_SSL_PORT.
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
# Kafka 4.1 to 4.4 are built against SLF4J 1.7.36, so the log4j2 backend is the SLF4J 1.x binding
# (log4j-slf4j-impl); log4j-slf4j2-impl would be silently ignored (SLF4J 1.7 => NOP logger).
LOG4J_VERSION=${LOG4J_VERSION:-2.24.3}
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

KAFKA_PORT=${KAFKA_PORT:-9092}
[[ $KAFKA_PORT =~ ^[0-9]+$ ]] || { echo "kafka.sh: KAFKA_PORT must be a number" >&2; exit 2; }
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
[[ $KAFKA_CONTROLLER_PORT =~ ^[0-9]+$ ]] || { echo "kafka.sh: KAFKA_CONTROLLER_PORT must be a number" >&2; exit 2; }
KAFKA_HOME_DIR=${SLUICE_KAFKA_HOME:-${HOME:-/root}/.cache/sluice-kafka}
LIBS=$KAFKA_HOME_DIR/$KAFKA_VERSION/libs
MARKER=$LIBS/.complete
RUN=${SLUICE_KAFKA_RUN:-/tmp/sluice-kafka-$KAFKA_PORT}
KAFKA_HEAP=${KAFKA_HEAP:--Xmx512m -Xms256m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
PIDFILE=$RUN/pid
BOOTSTRAP=127.0.0.1:$KAFKA_PORT
KAFKA_SASL_SSL_PORT=${KAFKA_SASL_SSL_PORT:-}
[[ -z $KAFKA_SASL_SSL_PORT || $KAFKA_SASL_SSL_PORT =~ ^[0-9]+$ ]] || { echo "kafka.sh: KAFKA_SASL_SSL_PORT must be a number" >&2; exit 2; }
KAFKA_SASL_USER=${KAFKA_SASL_USER:-sluice}
KAFKA_SASL_PASSWORD=${KAFKA_SASL_PASSWORD:-sluice-secret}
# they go unquoted into a JAAS line and a StorageTool argument
for credential in "$KAFKA_SASL_USER" "$KAFKA_SASL_PASSWORD"; do
  [[ $credential =~ ^[A-Za-z0-9._-]+$ ]] || { echo "kafka.sh: KAFKA_SASL_USER and KAFKA_SASL_PASSWORD are letters, digits, '.', '_' and '-'" >&2; exit 2; }
done
TLS_DIR=$RUN/tls

case $RUN in
  /?*) ;;
  *) echo "kafka.sh: SLUICE_KAFKA_RUN must be an absolute path other than /" >&2; exit 2 ;;
esac

log() { echo "kafka.sh[$KAFKA_PORT]: $*"; }
die() { echo "kafka.sh[$KAFKA_PORT]: $*" >&2; exit 1; }

# ---------------------------------------------------------------- jars
fetch_libs() {
  [[ -f $MARKER ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
  command -v "$JAVA" >/dev/null || die "java not found (apt-get install -y openjdk-17-jre-headless)"
  mkdir -p "$KAFKA_HOME_DIR/$KAFKA_VERSION"
  # Two brokers started at once on a cold cache must not download into the same dir.
  exec 8>"$KAFKA_HOME_DIR/$KAFKA_VERSION/.lock"
  flock 8
  if [[ -f $MARKER ]]; then exec 8>&-; return 0; fi
  log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  local work; work=$(mktemp -d)
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sluice</groupId>
  <artifactId>sluice-kafka-libs</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- TopicCommand, ConsumerGroupCommand, ProducerPerformance...; Connect's runtime is not needed -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
        <exclusion><groupId>com.fasterxml.jackson.jakarta.rs</groupId><artifactId>jackson-jakarta-rs-json-provider</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  # Download next to the libs dir and swap it in afterwards: brokers already running from an
  # incomplete or older copy keep their jars until then.
  rm -rf "$LIBS.tmp"
  local t0=$SECONDS
  if ! mvn -B -q -Dstyle.color=never -f "$work/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
        -DoutputDirectory="$LIBS.tmp" -DincludeScope=runtime </dev/null >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    rm -rf "$work" "$LIBS.tmp"
    die "maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  fi
  rm -rf "$work"
  [[ -f "$LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13 jar missing after copy"
  echo "$KAFKA_VERSION" >"$LIBS.tmp/.complete"
  rm -rf "$LIBS.old"
  [[ -e $LIBS ]] && mv "$LIBS" "$LIBS.old"
  mv "$LIBS.tmp" "$LIBS"
  rm -rf "$LIBS.old"
  log "jars ready ($(find "$LIBS" -name '*.jar' | wc -l) jars, $((SECONDS - t0)) s)"
  exec 8>&-
}

# ---------------------------------------------------------------- process
broker_pid() {
  # Prints the pid of this script's broker for $RUN, if it is alive.
  [[ -f $PIDFILE ]] || return 1
  local pid; pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "kafka.Kafka $RUN/server.properties" >/dev/null || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

terminate() {
  # SIGTERM the broker, SIGKILL after 30 s; returns when it is gone.
  local pid
  pid=$(broker_pid) || return 0
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker did not stop in 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}

write_configs() {
  mkdir -p "$RUN/data" "$RUN/logs"
  # Comments on their own lines only: a .properties value runs to the end of the line.
  cat >"$RUN/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$RUN/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  [[ -z $KAFKA_SASL_SSL_PORT ]] || write_sasl_ssl_configs
  [[ ${KAFKA_AUTHORIZER:-0} != 1 ]] || printf '%s\n' 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer' 'allow.everyone.if.no.acl.found=true' >>"$RUN/server.properties"
  cat >"$RUN/log4j2.properties" <<'EOF'
status = warn
name = sluice-kafka
appender.server.type = File
appender.server.name = server
appender.server.fileName = ${sys:kafka.logs.dir}/server.log
appender.server.append = true
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server
# quieter for the noisy ones
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
logger.logs.name = org.apache.kafka.storage.internals.log
logger.logs.level = WARN
logger.unifiedlog.name = kafka.log
logger.unifiedlog.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.metrics.name = org.apache.kafka.common.metrics
logger.metrics.level = WARN
logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.appinfo.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
  cat >"$RUN/tools-log4j2.properties" <<'EOF'
status = warn
name = sluice-kafka-tools
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = err
EOF
}

# The SASL_SSL listener: a CA and a broker certificate it signs (for 127.0.0.1 and localhost), a
# PEM keystore (an unencrypted PKCS#8 key, then the chain), the PLAIN user in the listener's JAAS
# line; the SCRAM credentials are written at format time (format_storage).
write_sasl_ssl_configs() {
  command -v openssl >/dev/null || die "openssl not found (needed for KAFKA_SASL_SSL_PORT)"
  mkdir -p "$TLS_DIR"
  local days=30
  if ! {
    openssl req -x509 -newkey rsa:2048 -noenc -days "$days" -subj "/CN=sluice-test-ca-$KAFKA_PORT" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt" &&
    openssl req -newkey rsa:2048 -noenc -subj "/CN=127.0.0.1" -keyout "$TLS_DIR/broker.key" -out "$TLS_DIR/broker.csr" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$TLS_DIR/broker.ext" &&
    openssl x509 -req -days "$days" -in "$TLS_DIR/broker.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" \
      -set_serial "0x$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" -extfile "$TLS_DIR/broker.ext" -out "$TLS_DIR/broker.crt"
  } >"$RUN/logs/openssl.log" 2>&1; then
    cat "$RUN/logs/openssl.log" >&2
    die "making the TLS certificates in $TLS_DIR failed"
  fi
  cat "$TLS_DIR/broker.key" "$TLS_DIR/broker.crt" "$TLS_DIR/ca.crt" >"$TLS_DIR/broker.pem"
  rm -f "$TLS_DIR/broker.csr" "$TLS_DIR/broker.ext"
  sed -i \
    -e "s|^listeners=.*|&,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT|" \
    -e "s|^advertised.listeners=.*|&,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT|" \
    "$RUN/server.properties"
  cat >>"$RUN/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$KAFKA_SASL_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/broker.pem
listener.name.sasl_ssl.ssl.client.auth=none
EOF
}

# Short-lived tool JVMs (StorageTool, TopicCommand): small heap, quick start.
tool_java() {
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" -cp "$LIBS/*" "$@"
}

format_storage() {
  # A random cluster id as StorageTool random-uuid makes it (16 random bytes, base64url, no
  # padding, not starting with '-'), without paying for one more JVM.
  local id=-
  while [[ $id == -* ]]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  done
  local scram=() mechanism
  if [[ -n $KAFKA_SASL_SSL_PORT ]]; then
    for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
      scram+=(--add-scram "$mechanism=[name=\"$KAFKA_SASL_USER\",password=\"$KAFKA_SASL_PASSWORD\"]")
    done
  fi
  if ! tool_java kafka.tools.StorageTool format -t "$id" -c "$RUN/server.properties" -g ${scram[@]+"${scram[@]}"} \
         >"$RUN/logs/format.log" 2>&1; then
    cat "$RUN/logs/format.log" >&2
    die "formatting $RUN/data failed"
  fi
}

launch() {
  # Start the JVM detached (own session, no stdin) and wait until the broker answers.
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" ${KAFKA_SASL_SSL_PORT:+"$KAFKA_SASL_SSL_PORT"}; do
    port_open "$port" && die "port $port on 127.0.0.1 is already in use by another process"
  done
  local logf=$RUN/logs/server.log
  local offset=0
  [[ -f $logf ]] && offset=$(stat -c %s "$logf")
  # The inner bash writes its own pid, then execs the JVM (so the pid is the JVM's even if
  # setsid forks). KAFKA_HEAP and KAFKA_OPTS are word-split on purpose.
  # shellcheck disable=SC2086,SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    "$JAVA" $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dkafka.logs.dir="$RUN/logs" -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
    ${KAFKA_OPTS:-} -cp "$LIBS/*" kafka.Kafka "$RUN/server.properties" \
    </dev/null >>"$RUN/logs/stdout.log" 2>&1 &
  disown $! 2>/dev/null || true
  local t0=$SECONDS deadline=$((SECONDS + KAFKA_START_TIMEOUT)) pid=""
  while ((SECONDS < deadline)); do
    sleep 0.2
    if [[ -z $pid ]]; then
      [[ -s $PIDFILE ]] && pid=$(<"$PIDFILE")
      [[ -n $pid ]] || continue
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      startup_failed "the broker JVM exited during startup"
    fi
    if [[ -f $logf ]] && tail -c +$((offset + 1)) "$logf" | grep -F "Kafka Server started" >/dev/null \
        && port_open "$KAFKA_PORT" && { [[ -z $KAFKA_SASL_SSL_PORT ]] || port_open "$KAFKA_SASL_SSL_PORT"; }; then
      log "broker ready on $BOOTSTRAP (pid $pid, $((SECONDS - t0)) s; run dir $RUN)"
      [[ -z $KAFKA_SASL_SSL_PORT ]] ||
        log "SASL_SSL on 127.0.0.1:$KAFKA_SASL_SSL_PORT (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; user $KAFKA_SASL_USER); CA: $TLS_DIR/ca.crt"
      return 0
    fi
  done
  startup_failed "the broker was not ready after ${KAFKA_START_TIMEOUT} s"
}

startup_failed() {
  echo "kafka.sh[$KAFKA_PORT]: $1; last log lines ($RUN/logs):" >&2
  tail -n 50 "$RUN/logs/server.log" 2>/dev/null >&2 || true
  if [[ -s $RUN/logs/stdout.log ]]; then
    echo "--- stdout/stderr:" >&2
    tail -n 20 "$RUN/logs/stdout.log" >&2
  fi
  terminate >/dev/null || true
  exit 1
}

# ---------------------------------------------------------------- commands
# Whether $RUN holds a formatted broker of these listeners, whose data a start keeps; a run dir
# made for other ports is refused rather than reformatted.
formatted_run_dir() {
  [[ -f $RUN/data/meta.properties && -f $RUN/server.properties ]] || return 1
  local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT${KAFKA_SASL_SSL_PORT:+,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT}"
  grep -qxF "listeners=$listeners" "$RUN/server.properties" ||
    die "$RUN holds a broker of other listeners than $listeners: start --purge discards it (and its topics)"
}

purge_run_dir() {
  [[ -d $RUN ]] || return 0
  if [[ ${KAFKA_KEEP_LOGS:-0} == 1 && -d $RUN/logs ]]; then
    find "$RUN" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
    log "run dir purged; logs kept in $RUN/logs"
  else
    rm -rf "$RUN"
    log "run dir $RUN purged"
  fi
}

cmd_start() {
  local purge=$1 pid
  if [[ $purge == 1 ]]; then
    terminate
    purge_run_dir
  elif pid=$(broker_pid); then
    log "already running on $BOOTSTRAP (pid $pid)"
    return 0
  fi
  fetch_libs
  if formatted_run_dir; then
    log "starting on the data in $RUN"
  else
    rm -rf "$RUN"
    mkdir -p "$RUN"
    write_configs
    format_storage
  fi
  launch
}

cmd_stop() {
  local purge=$1
  if broker_pid >/dev/null; then
    terminate
    log "stopped"
  else
    log "not running"
  fi
  if [[ $purge == 1 ]]; then
    purge_run_dir
  elif [[ -d $RUN/data ]]; then
    log "data kept in $RUN for the next start (stop --purge deletes it)"
  fi
}

cmd_restart() {
  terminate
  cmd_start "$1"
}

cmd_status() {
  local pid
  if pid=$(broker_pid); then
    echo "running (pid $pid, $BOOTSTRAP, run dir $RUN)"
    return 0
  fi
  echo "stopped"
  return 1
}

cmd_topic() {
  local name=${1:-} partitions=${2:-1}
  [[ -n $name ]] || die "usage: kafka.sh topic NAME [PARTITIONS [TopicCommand args...]]"
  shift; (($# > 0)) && shift
  broker_pid >/dev/null || die "broker is not running on $BOOTSTRAP"
  fetch_libs
  tool_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor 1 "$@" </dev/null
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}
(($# > 0)) && shift
# start, stop and restart take --purge and nothing else
purge=0
if [[ $cmd == start || $cmd == stop || $cmd == restart ]]; then
  for arg in "$@"; do
    [[ $arg == --purge ]] || usage
    purge=1
  done
fi
case $cmd in
  start) cmd_start "$purge" ;;
  stop) cmd_stop "$purge" ;;
  restart) cmd_restart "$purge" ;;
  status) cmd_status ;;
  topic) cmd_topic "$@" ;;
  fetch) fetch_libs; echo "$LIBS" ;;
  *) usage ;;
esac
