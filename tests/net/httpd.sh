#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# apps/httpd in Atoll, tried with real clients through QEMU's user network: curl for files,
# /api/info and a 16 MiB download; loadgen for 10,000 sequential keep-alive requests and 64
# concurrent connections; bad clients (garbage, a 1 MiB request line, a client that hangs up
# mid-response) followed by a normal request each. Prints ok/FAIL per check.
# usage: httpd.sh ATOLL IMAGE LOADGEN MACHINE user|tap
#   user: QEMU's user network with a port forward. Its forwarder accepts only a few
#         connections at a time (see tests/net/README.md), so the 64-connection load runs in:
#   tap:  a tap device with a static address on each side, inside a network namespace of the
#         test's own (tests/net/lib.sh: tap, QEMU and every client in it; root needed; exit
#         77 = skipped).
set -u -o pipefail
atoll=$1 image=$2 loadgen=$3 machine=${4:-microvm} mode=${5:-user}
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d -t atoll-httpd.XXXXXX)
guest=""
ns="" # the network namespace in tap mode; the clients run in it (in_netns)
cleanup() {
    # The guest runs in a process group of its own (setsid): `atoll run` and its QEMU go together.
    stop_group "$guest"
    [ -z "$ns" ] || netns_destroy "$ns"
    local j
    for j in $(jobs -p); do kill "$j" 2>/dev/null; done
    echo "---- guest log (tail)"
    tail -n 20 "$tmp/guest.log" 2>/dev/null
    rm -rf "$tmp"
}
netns_traps cleanup
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+ ($2)}"; failures=$((failures + 1)); }

# The guest's extra files: a 16 MiB random file under /www.
mkdir -p "$tmp/rootfs/www"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$tmp/rootfs/www/big.bin"
big_sha=$(sha256sum <"$tmp/rootfs/www/big.bin" | cut -d' ' -f1)

if [ "$mode" = tap ]; then
    if ! netns_usable; then
        echo "httpd.sh: SKIPPED: a tap device needs root and /dev/net/tun"
        exit 77
    fi
    if ! ns=$(netns_create httpd) || ! netns_tap "$ns" tap0 "$NETNS_HOST_IP/24"; then
        echo "httpd.sh: SKIPPED: cannot create a network namespace with a tap device here"
        exit 77
    fi
    netns_spawn "$ns" "$tmp/guest.log" "$atoll" run --machine "$machine" --mem 256M --rootfs "$tmp/rootfs" --net tap:tap0 \
        --param "atoll.ip=$NETNS_GUEST_IP/24" "$image" -- --no-access-log
    guest=$spawned_pid
    host=$NETNS_GUEST_IP
    port=80
else
    port=$(free_port)
    netns_spawn "" "$tmp/guest.log" "$atoll" run --machine "$machine" --mem 256M --rootfs "$tmp/rootfs" --port "$port:80" \
        "$image" -- --no-access-log
    guest=$spawned_pid
    host=127.0.0.1
fi
# Every client runs where the guest's network is: inside the namespace in tap mode.
curl_bin=$(type -P curl)
curl() { in_netns "$ns" "$curl_bin" "$@"; }
wait_for "$tmp/guest.log" "httpd: listening on port 80" 90 || exit 1
base=http://$host:$port

body=$(curl -sS --max-time 30 "$base/index.html") && grep -qi "<html" <<<"$body" && pass "GET /index.html" ||
    fail "GET /index.html" "$body"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' --max-time 30 "$base/style.css")
[[ "$ctype" == text/css* ]] && pass "content type of style.css: $ctype" || fail "content type of style.css" "$ctype"
info=$(curl -sS --max-time 30 "$base/api/info")
grep -q '"uptime_seconds"' <<<"$info" && grep -q '"requests_served"' <<<"$info" && grep -q '"memory_in_use_bytes"' <<<"$info" &&
    pass "GET /api/info: $info" || fail "GET /api/info" "$info"
[ "$(curl -sS --max-time 30 "$base/healthz")" = ok ] && pass "GET /healthz" || fail "GET /healthz"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 "$base/nope.html")
[ "$code" = 404 ] && pass "missing file: 404" || fail "missing file" "$code"
for path in "/../etc/passwd" "/%2e%2e/etc/passwd" "/..%2fetc/passwd"; do
    code=$(curl -sS --path-as-is -o "$tmp/out" -w '%{http_code}' --max-time 30 "$base$path")
    if [ "$code" != 200 ] && ! grep -q "root:" "$tmp/out"; then pass "traversal $path refused ($code)"; else fail "traversal $path" "$code"; fi
done

got=$(curl -sS --max-time 120 "$base/big.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$big_sha" ] && pass "16 MiB download, sha256 matches" || fail "16 MiB download" "sha256 $got"

# Bad clients, each followed by a normal request.
raw() { in_netns "$ns" timeout 20 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 99; cat "$2" >&3; cat <&3' "$host" "$port" "$1"; }
head -c 4096 /dev/urandom >"$tmp/garbage"
raw "$tmp/garbage" >"$tmp/garbage.out" 2>/dev/null
[ "$(curl -sS --max-time 30 "$base/healthz")" = ok ] && pass "garbage bytes, then a normal request" || fail "after garbage"
{ printf 'GET /'; head -c $((1024 * 1024)) /dev/zero | tr '\0' 'a'; printf ' HTTP/1.1\r\nHost: x\r\n\r\n'; } >"$tmp/long"
status=$(raw "$tmp/long" 2>/dev/null | head -n1 | tr -d '\r' | cut -d' ' -f2)
[ "$status" = 413 ] && pass "1 MiB request line: 413" || fail "1 MiB request line" "status '$status'"
[ "$(curl -sS --max-time 30 "$base/healthz")" = ok ] && pass "then a normal request" || fail "after the long line"
curl -sS --max-time 30 "$base/big.bin" 2>/dev/null | head -c 100000 >/dev/null # hangs up early
[ "$(curl -sS --max-time 30 "$base/healthz")" = ok ] && pass "client gone mid-response, then a normal request" ||
    fail "after a client hung up"

# Load: zero errors. loadgen in the background, waited for, so that a signal to this script is
# handled at once rather than after the load's own timeout.
background() { "$@" >"$tmp/bg.out" 2>&1 & wait $!; local rc=$?; out=$(cat "$tmp/bg.out"); return $rc; }
if background in_netns "$ns" "$loadgen" --host "$host" --port "$port" --path /healthz --requests 10000 --timeout 300; then
    pass "10,000 sequential keep-alive requests: $(tail -n1 <<<"$out")"
else
    fail "10,000 sequential keep-alive requests" "$out"
fi
if [ "$mode" = tap ]; then
    if background in_netns "$ns" "$loadgen" --host "$host" --port "$port" --path /index.html --concurrency 64 --requests 100 --timeout 300; then
        pass "64 concurrent connections: $(tail -n1 <<<"$out")"
    else
        fail "64 concurrent connections" "$out"
    fi
fi
[ "$(curl -sS --max-time 30 "$base/healthz")" = ok ] && pass "still serving after the load" || fail "after the load"

echo "httpd.sh: $failures failures"
[ "$failures" = 0 ]
