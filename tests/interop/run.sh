#!/usr/bin/env bash
# C <-> Java through one herald server: starts `herald serve` on a free loopback port with
# a fresh data directory, then
#   1. C sends the interop set (c-api/tests/interop.c), Java receives and checks it;
#   2. Java sends it (java/src/interop/.../Interop.java), C receives and checks it;
# each direction on its own queue. The set covers every body kind, every property type
# and the settable headers; both peers describe it in their top comments.
#
# Self-contained: builds what it needs (herald and libherald with cargo, the C `interop`
# program with CMake into target/c-build/shared, the Java peer with gradle). After
# scripts/test-c and scripts/test-java all of that is up to date and only checked.
# The server is stopped on every exit path. Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
step() { printf '\n== %s\n' "$*"; }

step "build: herald, libherald (cargo), interop (CMake), the Java peer (gradle)"
cargo build -p herald-server -p herald-c --release --quiet
build="$root/target/c-build/shared"
cmake -S c-api -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --parallel 2 --target interop >/dev/null
c_peer="$build/interop"
export GRADLE_USER_HOME="${GRADLE_USER_HOME:-$root/target/gradle-home}"
(cd java && gradle --no-daemon --quiet --console=plain interopClasspath)
classpath=$(cat java/build/interop-classpath)
java_peer() { timeout 120 java -cp "$classpath" io.herald.interop.Interop "$@"; }

data=$(mktemp -d)
server=""
cleanup() {
  if [[ -n "$server" ]]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

step "the Java peer against itself (vm://)"
java_peer roundtrip vm://interop-java interop.java-self

step "herald serve"
log="$data/serve.log"
NO_COLOR=1 "$root/target/release/herald" serve --listen 127.0.0.1:0 --data "$data/broker" 2>"$log" &
server=$!
address=""
for _ in $(seq 1 100); do
  address=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -n 's/.*listening.*address=\([0-9.:]*\).*/\1/p' | head -n 1)
  [[ -n "$address" ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
if [[ -z "$address" ]]; then
  echo "herald serve did not report its address:"
  cat "$log"
  exit 1
fi
url="tcp://$address"
echo "herald serve on $address"

step "C sends, Java receives ($url, queue interop.c-to-java)"
timeout 120 "$c_peer" send "$url" interop.c-to-java
java_peer receive "$url" interop.c-to-java

step "Java sends, C receives ($url, queue interop.java-to-c)"
java_peer send "$url" interop.java-to-c
timeout 120 "$c_peer" receive "$url" interop.java-to-c

kill "$server"
if ! wait "$server"; then
  echo "herald serve did not stop cleanly on SIGTERM:"
  cat "$log"
  server=""
  exit 1
fi
server=""
echo
echo "interop: C -> Java and Java -> C passed"
