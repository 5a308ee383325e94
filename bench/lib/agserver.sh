# Sourced by bench/soak and bench/slow-consumers: builds what is missing or stale and starts
# agserver on Open Liberty the way bench/run does (the WAR plus the bench application). The
# caller is at the repository's root and defines log().

# The load generator's jar and JVM (bench/run explains the options).
jar=bench/loadgen/target/agserver-loadgen.jar
# shellcheck disable=SC2206
lg_java=(java -XX:+UseSerialGC -Xms256m -Xmx2g -XX:+PerfDisableSharedMem -Dio.netty.leakDetection.level=disabled
  ${LOADGEN_JAVA_OPTS:-})
wlp=target/liberty/wlp

# Builds the load generator, and the WAR with Liberty, when missing or older than their sources.
bench_build() {
  if [ ! -f "$jar" ] || [ -n "$(find bench/loadgen/src bench/loadgen/pom.xml -newer "$jar" -print -quit)" ]; then
    log "building the load generator"
    (cd bench/loadgen && mvn -o -q -B clean package -DskipTests) >&2
  fi
  if [ ! -f target/agserver.war ] || [ -n "$(find src pom.xml -newer target/agserver.war -print -quit)" ] \
    || [ ! -f "$wlp/.installed" ] || [ ! -d target/test-classes/io/agserver/bench ]; then
    log "building: mvn package liberty:install-server"
    mvn -o -B -q -DskipTests package liberty:install-server >&2
  fi
}

# Makes STAGE/agserver.war: the WAR plus the bench application (procedure echo).
bench_stage() { # stage-dir
  rm -rf "$1" && mkdir -p "$1/WEB-INF/classes/io/agserver"
  cp -r target/test-classes/io/agserver/bench "$1/WEB-INF/classes/io/agserver/"
  cp target/agserver.war "$1/agserver.war"
  (cd "$1" && jar uf agserver.war WEB-INF)
}

# A Liberty server NAME serving WAR on 127.0.0.1:PORT, its old logs removed; more bootstrap
# properties may follow, one an argument.
bench_liberty_server() { # name port war [property=value ...]
  local dir=$wlp/usr/servers/$1
  rm -rf "$dir/logs"
  mkdir -p "$dir/apps"
  cp -r server-config/liberty/. "$dir/"
  cp "$3" "$dir/apps/agserver.war"
  printf 'default.http.port=%s\ndefault.http.host=127.0.0.1\n' "$2" > "$dir/bootstrap.properties"
  local p
  for p in "${@:4}"; do printf '%s\n' "$p" >> "$dir/bootstrap.properties"; done
}

# The java process at or under a pid (Liberty's script may fork it).
find_java() {
  local queue=("$1") p c
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = java ] && { echo "$p"; return 0; }
    for c in $(pgrep -P "$p" 2>/dev/null); do queue+=("$c"); done
  done
  echo "$1"
}

# Waits until a SocketCluster handshake is answered at URL (the load generator's probe), at most
# 180 s; prints the end of LOG when it is not.
bench_await() { # url log cpu
  if ! taskset -c "$3" "${lg_java[@]}" -XX:TieredStopAtLevel=1 -jar "$jar" probe --url "$1" --timeout-seconds 180; then
    log "the server at $1 did not start; its log:"
    tail -20 "$2" >&2
    return 1
  fi
}

# What the caller started (launchers, redis) and the servers' JVMs: stop_all ends them all, TERM,
# then KILL after 30 s.
pids=()
java_pids=()
stop_all() {
  local p
  for p in ${java_pids[@]+"${java_pids[@]}"} ${pids[@]+"${pids[@]}"}; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 60); do
    local alive=0
    for p in ${java_pids[@]+"${java_pids[@]}"} ${pids[@]+"${pids[@]}"}; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.5
  done
  for p in ${java_pids[@]+"${java_pids[@]}"} ${pids[@]+"${pids[@]}"}; do kill -KILL "$p" 2>/dev/null || true; done
  for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null || true; done
  pids=()
  java_pids=()
}
