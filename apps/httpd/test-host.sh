#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds httpd for the host (Linux) and tests it over real sockets with curl, bash's /dev/tcp
# and tools/loadgen. Installs nothing; needs cmake, a C++20 compiler, curl, sha256sum, timeout.
#
#   apps/httpd/test-host.sh                    Release build (loadgen numbers are meaningful)
#   HTTPD_SANITIZE=1 apps/httpd/test-host.sh   ASan + UBSan build
#   KEEP=1 ...                                 keep the temporary directory
#
# Prints "ok"/"FAIL" per check and exits 1 when any check failed.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in cmake curl sha256sum timeout head cmp; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-host: $tool is not installed (this script installs nothing)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/httpd-test.XXXXXX")
servers=()
cleanup() {
    for pid in "${servers[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "test-host: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

failures=()
pass() { echo "ok   $1"; }
fail() {
    echo "FAIL $1${2:+ ($2)}"
    failures+=("$1")
}
# expect NAME ACTUAL WANTED
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }

# ------------------------------------------------------------------------------------ build
build=$tmp/build
sanitize=OFF
[ "${HTTPD_SANITIZE:-0}" = 1 ] && sanitize=ON
echo "test-host: building in $build (HTTPD_SANITIZE=$sanitize)"
if ! cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHTTPD_SANITIZE=$sanitize >"$tmp/cmake.log" 2>&1 ||
    ! cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" >>"$tmp/cmake.log" 2>&1; then
    cat "$tmp/cmake.log"
    echo "test-host: FAIL: build"
    exit 1
fi
pass "build (httpd, loadgen, httpd-parser-test)"
httpd=$build/httpd
loadgen=$build/loadgen

if out=$("$build/httpd-parser-test" 2>&1); then pass "parser unit test"; else
    echo "$out"
    fail "parser unit test"
fi

# ------------------------------------------------------------------------------------ site
# The document root: the site, a 16 MiB random file, and symbolic links that lead out of the
# root (they must not be followed). secret.txt lies outside the root, beside it.
root=$tmp/root
mkdir -p "$root/sub"
cp -R "$here/rootfs/www/." "$root/"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$root/big.bin"
big_sha=$(sha256sum <"$root/big.bin" | cut -d' ' -f1)
echo "top secret" >"$tmp/secret.txt"
echo "sub index" >"$root/sub/index.html"
printf 'a file with a space\n' >"$root/with space.txt"
ln -s /etc/passwd "$root/passwd-link"
ln -s ../secret.txt "$root/escape.txt"
ln -s /etc "$root/etc-link"
ln -s index.html "$root/inside-link.html"
mkfifo "$root/fifo" 2>/dev/null || true

# start_server LOG ARGS... : starts httpd on a free port; sets $port and $server_pid.
start_server() {
    local log=$1
    shift
    "$httpd" --listen 0 --root "$root" "$@" >"$log" 2>&1 &
    server_pid=$!
    servers+=("$server_pid")
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^httpd: listening on port \([0-9]*\), root .*/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log"
    echo "test-host: FAIL: the server did not start"
    exit 1
}

# raw PORT LINE...: sends the lines, each ended by CRLF, on a new connection and prints
# everything received until the server closes (10 s at most). The request goes through a file:
# it may be larger than one argument of a program may be.
raw() {
    local port=$1
    shift
    printf '%s\r\n' "$@" >"$tmp/request"
    timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 99; cat "$1" >&3; cat <&3' "$port" "$tmp/request"
}
status_of() { head -n1 | tr -d '\r' | cut -d' ' -f2; }

start_server "$tmp/server.log"
main_pid=$server_pid
base=http://127.0.0.1:$port
echo "test-host: server on port $port (pid $main_pid)"

expect "startup line" "$(head -n1 "$tmp/server.log")" "httpd: listening on port $port, root $root"

# ------------------------------------------------------------------------------------ pages
code=$(curl -s -o "$tmp/index.out" -w '%{http_code} %{content_type}' "$base/")
expect "GET / -> 200 text/html" "$code" "200 text/html; charset=utf-8"
if cmp -s "$tmp/index.out" "$root/index.html"; then pass "GET / serves index.html"; else fail "GET / serves index.html"; fi
expect "GET /index.html" "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$base/index.html")" \
    "200 $(stat -c %s "$root/index.html")"
expect "GET /style.css type" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/style.css")" \
    "200 text/css; charset=utf-8"
expect "GET /data.json type" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/data.json")" \
    "200 application/json"
expect "GET /sub/ -> sub/index.html" "$(curl -s "$base/sub/")" "sub index"
expect "GET /sub -> 301 /sub/" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$base/sub")" "301 $base/sub/"
expect "percent-decoded path" "$(curl -s "$base/with%20space.txt")" "a file with a space"
expect "GET /healthz" "$(curl -s -w ' %{http_code}' "$base/healthz")" "ok
 200"
info=$(curl -s "$base/api/info")
if [[ "$info" =~ ^\{\"uptime_seconds\":[0-9]+\.[0-9]+,\"requests_served\":[1-9][0-9]*,\"memory_in_use_bytes\":[1-9][0-9]*,\"connections_open\":[1-9][0-9]*,\"server\":\"atoll-httpd\"\}$ ]]; then
    pass "GET /api/info JSON ($info)"
else
    fail "GET /api/info JSON" "$info"
fi
expect "/api/info content type" "$(curl -s -o /dev/null -w '%{content_type}' "$base/api/info")" "application/json"
expect "404 for a missing file" "$(curl -s -o /dev/null -w '%{http_code}' "$base/nope.html")" "404"
expect "404 for a FIFO (only regular files)" "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/fifo")" "404"

# HEAD: the GET headers, no body.
raw "$port" 'HEAD /index.html HTTP/1.1' 'Host: t' 'Connection: close' '' >"$tmp/head.out"
head_resp=$(cat "$tmp/head.out")
expect "HEAD status" "$(status_of <<<"$head_resp")" "200"
expect "HEAD Content-Length" "$(grep -i '^content-length:' <<<"$head_resp" | tr -d '\r' | cut -d' ' -f2)" \
    "$(stat -c %s "$root/index.html")"
expect "HEAD has no body (the response ends with the blank line)" "$(tail -c 4 "$tmp/head.out" | od -An -c | tr -d ' ')" '\r\n\r\n'

# Methods and bodies.
post=$(curl -s -i -X POST -d 'x=1' "$base/index.html" | tr -d '\r')
expect "POST -> 405" "$(status_of <<<"$post")" "405"
if grep -qx 'Allow: GET, HEAD' <<<"$post"; then pass "405 has Allow: GET, HEAD"; else fail "405 has Allow: GET, HEAD"; fi
expect "DELETE -> 405" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/")" "405"
# A Content-Length body is read and dropped: the next request on the connection is answered.
# (the 5-byte body "hello" and the next request line share a line here)
resp=$(raw "$port" 'POST / HTTP/1.1' 'Host: t' 'Content-Length: 5' '' 'helloGET /healthz HTTP/1.1' 'Host: t' 'Connection: close' '')
expect "body discarded, next request answered" "$(grep -a '^HTTP/1.1' <<<"$resp" | tr -d '\r' | cut -d' ' -f2 | tr '\n' ' ')" "405 200 "
body=$(head -c 300000 /dev/zero | tr '\0' x)
resp=$(raw "$port" 'POST /data.json HTTP/1.1' 'Host: t' 'Content-Length: 300000' '' "${body}GET /data.json HTTP/1.1" 'Host: t' 'Connection: close' '')
expect "300 KB body discarded across reads, next request answered" \
    "$(grep -a '^HTTP/1.1' <<<"$resp" | tr -d '\r' | cut -d' ' -f2 | tr '\n' ' ')" "405 200 "
expect "chunked request body -> 411" \
    "$(raw "$port" 'POST / HTTP/1.1' 'Host: t' 'Transfer-Encoding: chunked' '' '5' 'hello' '0' '' | status_of)" "411"
expect "body over the limit -> 413" \
    "$(raw "$port" 'POST / HTTP/1.1' 'Host: t' 'Content-Length: 999999999' '' | status_of)" "413"

# Connection management.
resp=$(raw "$port" 'GET /healthz HTTP/1.0' '')
expect "HTTP/1.0 closes by default" "$(status_of <<<"$resp") $(grep -ci '^connection: close' <<<"$resp")" "200 1"
resp=$(raw "$port" 'GET /healthz HTTP/1.0' 'Connection: keep-alive' '' 'GET /healthz HTTP/1.0' '')
expect "HTTP/1.0 keep-alive" "$(grep -ci '^connection: keep-alive' <<<"$resp") $(grep -c '^HTTP/1.1 200' <<<"$resp")" "1 2"
reuse=$(curl -sv "$base/healthz" "$base/data.json" 2>&1 >/dev/null | grep -c 'Re-using existing connection')
expect "HTTP/1.1 keep-alive by default (curl reuses the connection)" "$reuse" "1"
resp=$(raw "$port" 'GET /healthz HTTP/1.1' 'Host: t' 'Connection: close' '' 'GET /data.json HTTP/1.1' 'Host: t' '')
expect "Connection: close honoured (nothing answered after it)" "$(grep -c '^HTTP/1.1' <<<"$resp")" "1"

# Pipelining: three requests in one write, three responses in order.
resp=$(raw "$port" 'GET /healthz HTTP/1.1' 'Host: t' '' 'GET /data.json HTTP/1.1' 'Host: t' '' 'GET /style.css HTTP/1.1' 'Host: t' 'Connection: close' '')
order=$(awk '/^ok/ { printf "healthz " } /"name":"atoll-httpd"/ { printf "json " } /font-family/ { printf "css " }' <<<"$resp")
expect "pipelining: 3 responses" "$(grep -c '^HTTP/1.1 200' <<<"$resp")" "3"
expect "pipelining: in order" "$order" "healthz json css "

# ------------------------------------------------------------------------------------ big file
code=$(curl -s -o "$tmp/big.out" -w '%{http_code} %{size_download}' "$base/big.bin")
expect "16 MiB file status and size" "$code" "200 16777216"
expect "16 MiB file sha256" "$(sha256sum <"$tmp/big.out" | cut -d' ' -f1)" "$big_sha"
rm -f "$tmp/big.out"
expect "16 MiB file HEAD length" "$(curl -s -I "$base/big.bin" | tr -d '\r' | grep -i '^content-length:' | cut -d' ' -f2)" "16777216"

# ------------------------------------------------------------------------------------ traversal
# Raw requests, so no client normalises anything. Every one must get 400 or 404, and no
# response may contain the host's /etc/passwd or the file beside the root.
traversal=(
    '/../etc/passwd' '/%2e%2e/etc/passwd' '/..%2fetc/passwd' '/%2e%2e%2fetc%2fpasswd' '/%2E%2E/etc/passwd'
    '/..%2f..%2f..%2f..%2fetc%2fpasswd' '/sub/../../etc/passwd' '/sub/%2e%2e/%2e%2e/secret.txt' '/../secret.txt'
    '/.%2e/secret.txt' '/index.html%00' '/index.html%00.txt' '/%00../etc/passwd' '/..\etc\passwd'
    '/%5c..%5cetc%5cpasswd' '/..%5c..%5csecret.txt' 'http://localhost/../etc/passwd' '/passwd-link'
    '/escape.txt' '/etc-link/passwd' '/etc-link/' '/%2e%2e' '/..'
)
for t in "${traversal[@]}"; do
    resp=$(raw "$port" "GET $t HTTP/1.1" 'Host: t' 'Connection: close' '')
    code=$(status_of <<<"$resp")
    if [[ "$code" != 400 && "$code" != 404 ]] || grep -q -e 'root:' -e 'top secret' <<<"$resp"; then
        fail "traversal refused: $t" "status $code"
    else
        pass "traversal refused: $t -> $code"
    fi
done
for t in '/../etc/passwd' '/%2e%2e/etc/passwd' '/..%2fetc/passwd'; do
    code=$(curl -s --path-as-is -o "$tmp/trav.out" -w '%{http_code}' "$base$t")
    if [[ "$code" =~ ^40[04]$ ]] && ! grep -q 'root:' "$tmp/trav.out"; then pass "curl --path-as-is $t -> $code"; else
        fail "curl --path-as-is $t" "status $code"
    fi
done
expect "symlink inside the root is not followed either (policy)" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$base/inside-link.html")" "404"

# ------------------------------------------------------------------------------------ limits
long_line="GET /$(head -c $((1024 * 1024)) /dev/zero | tr '\0' a) HTTP/1.1"
expect "1 MiB request line -> 413" "$(raw "$port" "$long_line" 'Host: t' '' | status_of)" "413"
fillers=()
for i in $(seq 80); do fillers+=("X-Filler-$i: $(printf '%01000d' 0)"); done
expect "80 KiB of headers -> 431" "$(raw "$port" 'GET / HTTP/1.1' 'Host: t' "${fillers[@]}" '' | status_of)" "431"
expect "malformed request line -> 400" "$(raw "$port" 'GET  / HTTP/1.1' 'Host: t' '' | status_of)" "400"
expect "malformed header -> 400" "$(raw "$port" 'GET / HTTP/1.1' 'Host t' '' | status_of)" "400"
expect "HTTP/1.1 without Host -> 400" "$(raw "$port" 'GET / HTTP/1.1' '' | status_of)" "400"
expect "HTTP/2.0 request line -> 505" "$(raw "$port" 'GET / HTTP/2.0' 'Host: t' '' | status_of)" "505"

# ------------------------------------------------------------------------------------ robustness
code=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; head -c 65536 /dev/urandom >&3; cat <&3' "$port" | status_of)
if [[ "$code" =~ ^4[0-9][0-9]$ ]]; then pass "64 KiB of random bytes -> $code"; else fail "random bytes get a 4xx" "got '$code'"; fi
code=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; head -c 200000 /dev/zero >&3; cat <&3' "$port" | status_of)
expect "200 KB of NUL bytes -> 413" "$code" "413"
# Garbage, then hang up without reading; a half-sent request, then hang up.
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; head -c 300000 /dev/urandom >&3' "$port" 2>/dev/null
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "GET /index.html HTTP/1.1\r\nHo" >&3' "$port"
expect "after garbage: a new connection works" "$(curl -s -m 5 "$base/healthz")" "ok"
# Disconnect mid-download: a slow reader that gives up after 1 s, and one that stops reading.
curl -s --limit-rate 2M -m 1 -o /dev/null "$base/big.bin"
curl -s "$base/big.bin" 2>/dev/null | head -c 100000 >/dev/null
expect "after mid-download disconnects: a new request works" "$(curl -s -m 5 "$base/healthz")" "ok"
if kill -0 "$main_pid" 2>/dev/null; then pass "server still running"; else fail "server still running"; fi
expect "16 MiB file still intact after the aborted downloads" \
    "$(curl -s "$base/big.bin" | sha256sum | cut -d' ' -f1)" "$big_sha"

# ------------------------------------------------------------------------------------ load
results=()
run_loadgen() {
    local name=$1
    shift
    local out
    if out=$("$loadgen" --port "$port" --timeout 120 "$@" 2>&1); then
        pass "$name: $(tail -n1 <<<"$out")"
        results+=("$name: $(tail -n1 <<<"$out")")
    else
        fail "$name" "$out"
    fi
}
run_loadgen "10000 sequential keep-alive requests, one connection" --path /healthz --requests 10000
run_loadgen "64 concurrent connections x 500 requests" --path /index.html --concurrency 64 --requests 500
run_loadgen "8 connections, pipeline depth 16" --path /healthz --concurrency 8 --pipeline 16 --requests 5000
run_loadgen "connection per request, 8 clients" --path /healthz --concurrency 8 --requests 250 --new-connection
run_loadgen "16 MiB file, 4 connections x 4" --path /big.bin --concurrency 4 --requests 4
run_loadgen "404s keep the connection" --path /missing --requests 1000 --expect-status 404
sleep 0.5
conns=$(curl -s "$base/api/info" | sed -n 's/.*"connections_open":\([0-9]*\).*/\1/p')
expect "no connections left behind after the load (only ours)" "$conns" "1"
if grep -q '^GET /healthz 200 3$' "$tmp/server.log"; then pass "access log lines (METHOD PATH STATUS BYTES)"; else
    fail "access log lines"
fi

# ------------------------------------------------------------------------------------ limits 2
# A second server: 2 connections at most, 2 s idle timeout, no access log, and files sent
# with pread + send (the path taken where sendfile to a socket is not available).
start_server "$tmp/server2.log" --max-connections 2 --idle-timeout 2 --no-access-log --no-sendfile
small_pid=$server_pid
base2=http://127.0.0.1:$port
expect "--no-sendfile: 16 MiB file sha256" "$(curl -s "$base2/big.bin" | sha256sum | cut -d' ' -f1)" "$big_sha"
curl -s --limit-rate 2M -m 1 -o /dev/null "$base2/big.bin"
expect "--no-sendfile: after an aborted download" "$(curl -s -m 5 "$base2/healthz")" "ok"
exec 5<>"/dev/tcp/127.0.0.1/$port"
exec 6<>"/dev/tcp/127.0.0.1/$port"
sleep 0.2
curl -s -m 1 -o /dev/null "$base2/healthz"
expect "at --max-connections a new client waits (curl times out)" "$?" "28"
exec 5>&-
expect "after a connection closes the waiting one is served" "$(curl -s -m 5 "$base2/healthz")" "ok"
exec 6>&-
start=$(date +%s)
timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; cat <&3' "$port"
rc=$? elapsed=$(($(date +%s) - start))
if [ "$rc" = 0 ] && [ "$elapsed" -ge 1 ] && [ "$elapsed" -le 5 ]; then pass "idle connection closed after the timeout (${elapsed}s)"; else
    fail "idle timeout" "rc $rc after ${elapsed}s"
fi
expect "--no-access-log: only the startup line" "$(wc -l <"$tmp/server2.log" | tr -d ' ')" "1"

# ------------------------------------------------------------------------------------ shutdown
for pid in "$main_pid" "$small_pid"; do
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    expect "SIGTERM: clean exit of pid $pid" "$rc" "0"
done
servers=()
if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$tmp/server.log" "$tmp/server2.log"; then
    fail "sanitizer reports" "$(grep -h -A5 -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$tmp/server.log" "$tmp/server2.log")"
fi

echo
for r in "${results[@]}"; do echo "loadgen | $r"; done
if [ ${#failures[@]} -ne 0 ]; then
    echo "test-host: ${#failures[@]} FAILED:"
    printf '  %s\n' "${failures[@]}"
    exit 1
fi
echo "test-host: all checks passed"
