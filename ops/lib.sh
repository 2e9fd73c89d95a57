# shellcheck shell=bash
# Shared helpers for the ops/ scripts. Source it; it defines functions and a few variables only.

# Repository root, whatever the caller's working directory.
CHATPIPE_ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CHATPIPE_CACHE="${CHATPIPE_CACHE:-$HOME/.cache/chatpipe}"
# The CMake build tree, relative to the root unless absolute. Only to keep a second build apart
# from build/ (e.g. a checkout shared by several people); normally left alone.
CHATPIPE_BUILD_DIR="${CHATPIPE_BUILD_DIR:-build}"

# ---- logging ---------------------------------------------------------------------------------
# Progress goes to stderr so that scripts can still print machine-readable things on stdout.
log()  { printf '%s %s\n' "[$(date +%H:%M:%S)] ${LOG_TAG:-ops}:" "$*" >&2; }
warn() { log "WARNING: $*"; }
die()  { log "ERROR: $*"; exit 1; }

# tail_log FILE [N]: show the end of a log file to explain a failure.
tail_log() {
  local file=$1 n=${2:-30}
  [[ -f $file ]] || return 0
  printf -- '----- last %s lines of %s -----\n' "$n" "$file" >&2
  tail -n "$n" "$file" >&2 || true
  printf -- '-----\n' >&2
}

# now_ms: wall clock in milliseconds (for timing and deadlines).
now_ms() { date +%s%3N; }

# ---- waiting ---------------------------------------------------------------------------------
# wait_until SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds; fails after
# SECONDS, or at once when CMD exits with WAIT_GIVE_UP (e.g. the process it waits for died).
# Every wait in ops/ is bounded, so a broken service gives an error instead of a hang.
WAIT_GIVE_UP=125
wait_until() {
  local timeout=$1 what=$2 deadline rc
  shift 2
  deadline=$(( $(now_ms) + timeout * 1000 ))
  while true; do
    rc=0
    "$@" >/dev/null 2>&1 || rc=$?
    (( rc == 0 )) && return 0
    if (( rc == WAIT_GIVE_UP )); then
      log "gave up waiting for $what"
      return 1
    fi
    if (( $(now_ms) >= deadline )); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.1
  done
}

# ---- processes -------------------------------------------------------------------------------
# pid_alive PID [PATTERN]: PID runs and, if given, its command line contains PATTERN. The pattern
# guards against a recycled pid: we never signal a process that is not the one we started.
pid_alive() {
  local pid=$1 pattern=${2:-}
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -z $pattern ]] && return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# gone PID: no process PID any more. Waits for a process just launched give up on this rather than on
# pid_alive's command-line match, which may read empty while the launching shell execs the program.
gone() { [[ $1 =~ ^[0-9]+$ ]] && ! kill -0 "$1" 2>/dev/null; }

# read_pid FILE: the first line of a pid file, or nothing.
read_pid() { [[ -f $1 ]] && head -n1 "$1" | tr -dc '0-9'; return 0; }

# stop_pid NAME PID PATTERN [SECONDS]: SIGTERM, wait (bounded), then SIGKILL. Returns 0 once the
# process is gone. Works for processes that are not our children (no `wait` possible there).
stop_pid() {
  local name=$1 pid=$2 pattern=$3 timeout=${4:-30}
  pid_alive "$pid" "$pattern" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$timeout" "$name (pid $pid) to exit" not_alive "$pid" "$pattern"; then
    warn "$name (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 10 "$name (pid $pid) to die" not_alive "$pid" "$pattern" || return 1
  fi
}
not_alive() { ! pid_alive "$@"; }

# ---- ports -----------------------------------------------------------------------------------
# Ports are drawn at random below the kernel's ephemeral range (32768+ on Linux), so they never
# clash with the source port of an outgoing connection nor with someone else's bind(port 0).
# A port that is bindable now can still be taken by a concurrent `ops/services start` before our
# server binds it, so each pick is also reserved with an atomic mkdir; a reservation only has to
# outlive the start-up window, after which the listening server itself holds the port.
PORT_MIN=20000
PORT_MAX=32000
PORT_RESERVATIONS="${TMPDIR:-/tmp}/chatpipe-ports"
PORT_RESERVATION_TTL_MIN=10

# port_bindable PORT: no TCP socket on this machine uses PORT as its local port right now, except
# in TIME-WAIT (left by a closed connection; servers bind past it with SO_REUSEADDR, as ours do).
# ss is preferred: it is ~20x quicker to start than python3 (esp. behind a pyenv shim).
port_bindable() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -z $(ss -Htan exclude time-wait "( sport = :$port )" 2>/dev/null) ]]
  else
    python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
  fi
}

# reserve_port PORT: take the reservation unless a fresh one exists.
reserve_port() {
  local dir="$PORT_RESERVATIONS/$1"
  mkdir -p "$PORT_RESERVATIONS" 2>/dev/null || true
  if ! mkdir "$dir" 2>/dev/null; then
    # An old reservation belongs to a start-up that ended long ago; take it over.
    [[ -n $(find "$dir" -maxdepth 0 -mmin +"$PORT_RESERVATION_TTL_MIN" 2>/dev/null) ]] || return 1
    touch "$dir" 2>/dev/null || return 1
  fi
}

# free_port [PREFERRED]: print a free loopback TCP port (PREFERRED first, if it is free).
free_port() {
  local preferred=${1:-} port i
  if [[ -n $preferred ]] && port_bindable "$preferred" && reserve_port "$preferred"; then
    echo "$preferred"
    return 0
  fi
  for ((i = 0; i < 200; i++)); do
    port=$(( PORT_MIN + (RANDOM * 32768 + RANDOM) % (PORT_MAX - PORT_MIN) ))
    if port_bindable "$port" && reserve_port "$port"; then
      echo "$port"
      return 0
    fi
  done
  die "no free TCP port found in $PORT_MIN-$PORT_MAX"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- Kafka runtime ---------------------------------------------------------------------------
KAFKA_POM="$CHATPIPE_ROOT/ops/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n1)"
KAFKA_HOME="$CHATPIPE_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
# The bootstrap.checkpoint that `StorageTool format` writes depends only on the Kafka version;
# ops/services keeps the first one and formats later data dirs without starting a JVM.
KAFKA_FORMAT_TEMPLATE="$KAFKA_HOME/bootstrap.checkpoint"

# The marker holds the pom's checksum: editing the pom (another jar, a new version) refetches.
kafka_marker_ok() {
  [[ -f $KAFKA_HOME/.complete ]] &&
    [[ $(cat "$KAFKA_HOME/.complete") == "$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)" ]]
}

# kafka_fetch: copy the broker's jars from Maven Central (or ~/.m2) into $KAFKA_LIBS, once.
# A lock keeps two concurrent setups from fetching into the same place; it is taken in a
# subshell so that no process started later inherits the locked descriptor.
kafka_fetch() {
  kafka_marker_ok && return 0
  mkdir -p "$KAFKA_HOME"
  (
    flock -w 900 9 || die "timed out waiting for another fetch of the Kafka jars"
    kafka_marker_ok || kafka_fetch_locked
  ) 9>"$KAFKA_HOME/.lock"
}

kafka_fetch_locked() {
  command -v mvn >/dev/null || die "mvn is missing: run ops/setup"
  log "fetching Kafka $KAFKA_VERSION jars into $KAFKA_LIBS"
  local tmp="$KAFKA_HOME/libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    tail_log "$tmp.log"
    rm -rf "$tmp" "$tmp.log"
    die "could not fetch the Kafka jars with Maven"
  fi
  # Swap in the complete directory, so a half-fetched set is never used. What was derived from
  # the old jars (class-data archive, storage-format template) goes with them.
  rm -rf "$KAFKA_LIBS" "$tmp.log" "$KAFKA_HOME/cds" "$KAFKA_FORMAT_TEMPLATE"
  mv "$tmp" "$KAFKA_LIBS"
  sha256sum "$KAFKA_POM" | cut -d' ' -f1 >"$KAFKA_HOME/.complete"
}

# kafka_cds_archive: where the JVM class-data archive for this JDK and jar set lives. Loading the
# broker's ~5,000 classes from the archive instead of 58 jars cuts its start from ~3.6 s to ~2 s
# here; `ops/services kafka-cds` (run by ops/setup) makes it.
kafka_cds_archive() {
  local key
  key=$({ java -version 2>&1; cat "$KAFKA_HOME/.complete" 2>/dev/null; } | sha256sum | cut -c1-12)
  echo "$KAFKA_HOME/cds/kafka-$key.jsa"
}

# kafka_cds_opts: the JVM flag that uses the archive, when there is one. A stale or broken
# archive is harmless: the JVM checks it and falls back to the jars (-Xshare:auto).
kafka_cds_opts() {
  local archive
  archive=$(kafka_cds_archive)
  [[ -s $archive ]] && echo "-XX:SharedArchiveFile=$archive"
  return 0
}

# JVM options for short-lived Kafka command-line tools: they start faster with the client
# compiler only and a simple collector, and they never run long enough to miss the rest.
KAFKA_TOOL_JAVA_OPTS=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xmx256m)

# kafka_tool CLASS ARGS...: run a Kafka tool class (e.g. org.apache.kafka.tools.TopicCommand)
# with only warnings logged, to stderr, as Kafka's own bin/ scripts do.
kafka_tool() {
  local class=$1 conf="$KAFKA_HOME/tools-log4j.properties"
  shift
  if [[ ! -f $conf ]]; then
    # Written via a temporary file: a concurrent caller never reads a half-written config.
    printf '%s\n' 'log4j.rootLogger=WARN, stderr' \
      'log4j.appender.stderr=org.apache.log4j.ConsoleAppender' \
      'log4j.appender.stderr.Target=System.err' \
      'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout' \
      'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n' >"$conf.$$"
    mv -f "$conf.$$" "$conf"
  fi
  local cds
  cds=$(kafka_cds_opts)
  java "${KAFKA_TOOL_JAVA_OPTS[@]}" ${cds:+"$cds"} -Dlog4j.configuration="file:$conf" \
    -cp "$KAFKA_LIBS/*" "$class" "$@"
}

# ---- SeaweedFS (the tests' S3 server) ----------------------------------------------------------
# Built from its Go module at a pinned version. The module's go.mod has a replace directive, so
# `go install module@version` refuses it: `go mod download` fetches it, and `go build ./weed` runs in
# a writable copy (the module cache is read-only). The binary is kept per version; Go's module and
# build caches are kept beside it for every version, so a new pin rebuilds mostly from cache.
SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
SEAWEEDFS_HOME="$CHATPIPE_CACHE/seaweedfs-$SEAWEEDFS_VERSION"
SEAWEEDFS_BIN="$SEAWEEDFS_HOME/weed"
GO_CACHE_DIR="$CHATPIPE_CACHE/go"

# The Go that builds SeaweedFS's pin (its go.mod asks for 1.26.6), when the machine has none as new:
# Debian 12's golang-go is 1.19. It comes from the Go module proxy as the module golang.org/toolchain,
# which is where go itself fetches a toolchain (GOTOOLCHAIN), checked against this digest.
GO_TOOLCHAIN_VERSION=1.26.8
GO_TOOLCHAIN_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7

# go_binary: a go command at least GO_TOOLCHAIN_VERSION: on PATH, where go.dev's tarball installs it,
# or else the toolchain from the Go module proxy (go_toolchain_fetch).
go_binary() {
  local g have
  for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
    [[ -n $g && -x $g ]] || continue
    have=$(GOTOOLCHAIN=local "$g" env GOVERSION 2>/dev/null | sed 's/^go//') || continue
    [[ -n $have && $(printf '%s\n%s\n' "$GO_TOOLCHAIN_VERSION" "$have" | sort -V | head -n1) == "$GO_TOOLCHAIN_VERSION" ]] &&
      { echo "$g"; return 0; }
  done
  go_toolchain_fetch
}

# go_toolchain_fetch: GO_TOOLCHAIN_VERSION from the Go module proxy into $GO_CACHE_DIR (once); prints its go.
go_toolchain_fetch() {
  local home="$GO_CACHE_DIR/toolchain-go$GO_TOOLCHAIN_VERSION" proxy tmp dir
  [[ -x $home/bin/go ]] && { echo "$home/bin/go"; return 0; }
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%[,|]*}
  [[ $proxy == http* ]] || proxy=https://proxy.golang.org
  mkdir -p "$GO_CACHE_DIR"
  tmp=$(mktemp -d "$GO_CACHE_DIR/toolchain.XXXXXX")
  log "fetching Go $GO_TOOLCHAIN_VERSION from $proxy (no Go >= $GO_TOOLCHAIN_VERSION here)"
  if ! curl -fsSL --retry 3 -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-amd64.zip" ||
     ! echo "$GO_TOOLCHAIN_SHA256  $tmp/go.zip" | sha256sum -c --quiet - >&2; then
    rm -rf "$tmp"
    return 1
  fi
  /usr/bin/python3 -m zipfile -e "$tmp/go.zip" "$tmp/x" || { rm -rf "$tmp"; return 1; }
  dir=$(echo "$tmp"/x/golang.org/toolchain@*)
  # A module zip keeps no file modes.
  chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
  rm -rf "$home"
  mv "$dir" "$home"
  rm -rf "$tmp"
  echo "$home/bin/go"
}

# seaweedfs_build: make $SEAWEEDFS_BIN unless it exists (from nothing ~13 min of CPU; once).
# A lock keeps two concurrent setups from building at once; the later one then finds the binary.
seaweedfs_build() {
  [[ -x $SEAWEEDFS_BIN ]] && return 0
  mkdir -p "$SEAWEEDFS_HOME"
  (
    flock -w 1800 9 || die "timed out waiting for another build of SeaweedFS"
    [[ -x $SEAWEEDFS_BIN ]] || seaweedfs_build_locked
  ) 9>"$SEAWEEDFS_HOME/.lock"
}

seaweedfs_build_locked() {
  local go t0 tmp dir need have
  go=$(go_binary) || die "SeaweedFS (the tests' S3 server) needs Go >= $GO_TOOLCHAIN_VERSION, and none could be had from the Go module proxy"
  t0=$(now_ms)
  # Fixed toolchain (no download of another one), the caches in ours, go.mod/go.sum settled by go itself.
  export GOTOOLCHAIN=local GOMODCACHE="$GO_CACHE_DIR/mod" GOCACHE="$GO_CACHE_DIR/build"
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
  tmp=$(mktemp -d "$SEAWEEDFS_HOME/build.XXXXXX")
  log "building SeaweedFS $SEAWEEDFS_VERSION with $("$go" env GOVERSION) (log: $SEAWEEDFS_HOME/build.log)"
  # Outside any module: `go mod download` of a module@version needs no go.mod of ours.
  # Its JSON answer names the module's directory, or the error.
  (cd "$tmp" && "$go" mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION") >"$tmp/download.json" 2>&1 || true
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$tmp/download.json")
  if [[ -z $dir || ! -f $dir/go.mod ]]; then
    tail_log "$tmp/download.json"
    rm -rf "$tmp"
    die "could not download $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION"
  fi
  need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$dir/go.mod")
  have=$("$go" env GOVERSION | sed 's/^go//')
  if [[ $(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1) != "$need" ]]; then
    rm -rf "$tmp"
    die "SeaweedFS needs Go >= $need but $go is $have: raise GO_TOOLCHAIN_VERSION (and its digest) in ops/lib.sh"
  fi
  cp -r "$dir" "$tmp/src"
  chmod -R u+w "$tmp/src"
  # No symbol tables (-s -w): a third smaller binary and a shorter link; -trimpath: no local paths in it.
  if ! (cd "$tmp/src" && "$go" build -trimpath -ldflags='-s -w' -o "$tmp/weed" ./weed) >"$SEAWEEDFS_HOME/build.log" 2>&1; then
    tail_log "$SEAWEEDFS_HOME/build.log"
    rm -rf "$tmp"
    die "go build of SeaweedFS failed"
  fi
  mv -f "$tmp/weed" "$SEAWEEDFS_BIN"
  rm -rf "$tmp"
  log "SeaweedFS built in $(( ($(now_ms) - t0) / 1000 )) s: $SEAWEEDFS_BIN"
}

# ---- chatpipe ------------------------------------------------------------------------------
# Where ops/up keeps its services, processes, logs and data.
UP_STACK="$CHATPIPE_ROOT/.run/stack"
# ... and what `ops/up --cluster` runs (ops/cluster).
UP_CLUSTER="$CHATPIPE_ROOT/.run/cluster"

# chatpipe_bin: the built executable: build/chatpipe, or where CMake puts it by default
# (build/cli/chatpipe) while cli/CMakeLists.txt does not place it at the top.
chatpipe_bin() {
  local b=$CHATPIPE_BUILD_DIR
  [[ $b == /* ]] || b="$CHATPIPE_ROOT/$b"
  if [[ ! -x $b/chatpipe && -x $b/cli/chatpipe ]]; then echo "$b/cli/chatpipe"; else echo "$b/chatpipe"; fi
}

# ---- the HTTP API check ----------------------------------------------------------------------
# schemathesis_venv: where the venv for tests/api/run lives: one per tests/api/requirements.txt, so an
# edit there makes a fresh one (ops/setup creates it).
schemathesis_venv() {
  echo "$CHATPIPE_CACHE/schemathesis-$(sha256sum "$CHATPIPE_ROOT/tests/api/requirements.txt" | cut -c1-12)"
}
