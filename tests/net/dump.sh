#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `atoll dump PID` on a networked guest (apps/httpd over QEMU's user network, a port forward on
# 127.0.0.1): the dump has the virtio-net queues and every TCP PCB, the listener and a
# connection the host holds open among them; the guest serves on afterwards; SIGTERM to
# `atoll run` then stops httpd through its own handler (exit status 0).
# usage: dump.sh ATOLL HTTPD_IMAGE MACHINE
set -u -o pipefail
atoll=$1 image=$2 machine=${3:-microvm}
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d -t atoll-dump.XXXXXX)
guest=""
cleanup() {
    exec 3>&- 2>/dev/null
    [ -z "$guest" ] || { kill -KILL "$guest" 2>/dev/null; wait "$guest" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+ ($2)}"; failures=$((failures + 1)); }

port=$(free_port) || exit 1
setsid "$atoll" run --machine "$machine" --mem 128M --port "$port:80" "$image" -- --no-access-log >"$tmp/guest.log" 2>&1 &
guest=$!
wait_for "$tmp/guest.log" "httpd: listening on port 80" 90 || exit 1
[ "$(curl -sS --max-time 20 "http://127.0.0.1:$port/healthz")" = ok ] && pass "GET /healthz" || fail "GET /healthz"

# A keep-alive connection the host holds open: an ESTABLISHED PCB in the guest.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: guest\r\n\r\n' >&3
read -r -t 20 status_line <&3 && [[ $status_line == "HTTP/1.1 200"* ]] && pass "held connection answered" ||
    fail "held connection" "${status_line:-no answer}"

if "$atoll" dump "$guest" >"$tmp/dump" 2>"$tmp/dump.err"; then
    pass "atoll dump exited 0 ($(wc -l <"$tmp/dump") lines)"
else
    fail "atoll dump" "$(cat "$tmp/dump.err")"
fi
check() { # REGEX WHAT
    grep -qE "$1" "$tmp/dump" && pass "dump: $2" || fail "dump: $2" "no line matching /$1/"
}
check "^thread 1 \(httpd\): " "the main thread"
check "^thread [0-9]+ \(tcpip\) \[kernel\]: " "the tcpip thread"
check "^== network devices$" "a network devices section"
check "^eth0 \(virtio-net on [^)]*\): [0-9]+ of [0-9]+ transmit buffers free" "virtio-net free transmit buffers"
check "^  rx queue: size [0-9]+, free [0-9]+, avail idx [0-9]+ .*used idx [0-9]+, last used [0-9]+" "the receive queue's indices"
check "^  tx queue: size [0-9]+, free [0-9]+, avail idx [0-9]+ .*interrupts (enabled|suppressed)" "the transmit queue's indices"
check "^== network stack \(lwIP\)$" "a network stack section"
check "^eth0: rx [0-9]+ packets" "interface counters"
check "^tcpip mailbox: [0-9]+ of [0-9]+ messages queued" "the tcpip mailbox depth"
check "^tcp pcbs: [0-9]+ listening, [0-9]+ active" "PCB counts"
check "^  tcp 0\.0\.0\.0:80 LISTEN" "the listening PCB"
check "^  tcp 10\.0\.2\.15:80 10\.0\.2\.2:[0-9]+ ESTABLISHED, snd_queuelen [0-9]+, .*rto [0-9-]+ ms, nrtx [0-9]+, .*snd_wnd [0-9]+, rcv_wnd [0-9]+" \
    "the held connection's PCB (state, queues, timers, windows)"
grep -q "core lock held" "$tmp/dump" && fail "dump: the core lock was not taken on an idle guest"

# The guest served on: the connection still works after the dump (the rest of the first
# response, then the second; the server closes after it).
printf 'GET /healthz HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n' >&3
timeout 20 cat <&3 >"$tmp/second" 2>/dev/null
exec 3>&-
[ "$(grep -c "^HTTP/1.1 200" "$tmp/second")" = 1 ] && pass "the held connection answers after the dump" ||
    fail "held connection after the dump" "$(head -c 200 "$tmp/second")"

# SIGTERM: httpd's handler ends its loop; its status (0) comes back.
start=$(date +%s%N)
kill -TERM "$guest"
for _ in $(seq 300); do kill -0 "$guest" 2>/dev/null || break; sleep 0.05; done
wait "$guest"
rc=$?
guest=""
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 0 ] && [ $ms -lt 10000 ] && pass "SIGTERM: httpd stopped itself, exit status 0 ($ms ms)" ||
    fail "SIGTERM" "status $rc after $ms ms, want 0"

if [ $failures != 0 ]; then
    echo "---- dump"; cat "$tmp/dump"
    echo "---- guest log (tail)"; tail -n 20 "$tmp/guest.log"
fi
echo "dump.sh: $failures failures"
[ $failures = 0 ]
