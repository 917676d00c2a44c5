#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The virtio-net driver survives notifications the device never gets. The transmit freeze of
# issue 10 was one lost "available buffer" notification (kernel/DESIGN.md, "Barriers against
# emulated devices"): with EVENT_IDX the device asks only once, so the queue stopped for good
# and the guest answered nothing, not even ping. Here the loss is made deterministic: the
# kernel parameter virtio_net.lose_notify=N leaves out every Nth transmit notification, and
# apps/httpd must still serve
#   - a load (loadgen, 32 keep-alive connections, 20,000 requests, 0 errors): lost
#     notifications under load are recovered when the ring fills (the kick on a full ring),
#   - a trickle (requests 300 ms apart, each answered within 2 s): a lone frame whose
#     notification was lost is recovered by the service thread's watchdog,
# and the state dump must show that notifications were left out and recovered (tx kicks).
# Before the fix, the first lost notification at an event-index crossing froze the guest.
# usage: lostnotify.sh ATOLL IMAGE LOADGEN [EVERY]   (exit 77: no root or /dev/net/tun)
set -u -o pipefail
atoll=$1 image=$2 loadgen=$3 every=${4:-5}
. "$(dirname "$0")/lib.sh"

netns_usable || { echo "lostnotify.sh: SKIPPED: needs root, ip and /dev/net/tun"; exit 77; }
tmp=$(mktemp -d -t atoll-lostnotify.XXXXXX)
ns="" guest=""
cleanup() {
    stop_group "$guest"
    [ -z "$ns" ] || netns_destroy "$ns"
    if [ "${failures:-1}" != 0 ]; then
        echo "---- guest log (tail)"
        tail -n 40 "$tmp/guest.log" 2>/dev/null
    fi
    rm -rf "$tmp"
}
netns_traps cleanup
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+ ($2)}"; failures=$((failures + 1)); }

ns=$(netns_create lostnotify) || exit 77
netns_tap "$ns" tap0 "$NETNS_HOST_IP/24" || exit 1
netns_spawn "$ns" "$tmp/guest.log" "$atoll" run --mem 128M --net tap:tap0 --param "atoll.ip=$NETNS_GUEST_IP/24" \
    --param "virtio_net.lose_notify=$every" "$image" -- --no-access-log
guest=$spawned_pid
wait_for "$tmp/guest.log" "httpd: listening on port 80" 90 || { failures=1; exit 1; }
base=http://$NETNS_GUEST_IP:80

if out=$(in_netns "$ns" timeout 180 "$loadgen" --host "$NETNS_GUEST_IP" --port 80 --path /healthz --concurrency 32 \
    --total 20000 --timeout 150 2>&1); then
    pass "20,000 keep-alive requests on 32 connections: $(tail -n1 <<<"$out")"
else
    fail "20,000 keep-alive requests on 32 connections" "$(tail -n3 <<<"$out" | tr '\n' ' ')"
fi

slowest=0 trickle_fail=0
for i in $(seq 20); do
    t=$(in_netns "$ns" curl -sS -o /dev/null -w '%{time_total}' --max-time 2 "$base/healthz" 2>/dev/null) || { trickle_fail=$((trickle_fail + 1)); t=2; }
    slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
    sleep 0.3
done
[ $trickle_fail = 0 ] && pass "20 requests 300 ms apart, slowest ${slowest} s" ||
    fail "20 requests 300 ms apart" "$trickle_fail not answered within 2 s"

dump=$(timeout 30 "$atoll" dump "$guest" 2>&1)
lost=$(sed -n 's/.*left out (virtio_net.lose_notify), \([0-9]*\) so far.*/\1/p' <<<"$dump" | head -1)
kicks=$(sed -n 's/.*lost notifications recovered: \([0-9]*\) tx kicks.*/\1/p' <<<"$dump" | head -1)
full=$(sed -n 's/.* \([0-9]*\) ring-full, .*interrupts, .*rx dropped;.*/\1/p' <<<"$dump" | head -1)
if [ -n "$lost" ] && [ "$lost" -gt 0 ]; then
    pass "state dump: $lost notifications left out, recovered by $kicks watchdog kicks and ${full:-?} full-ring kicks"
else
    fail "state dump shows the injected losses" "$(grep -m1 'virtio-net' <<<"$dump")"
fi
if in_netns "$ns" ping -c 2 -W 2 "$NETNS_GUEST_IP" >/dev/null 2>&1 &&
    [ "$(in_netns "$ns" curl -sS --max-time 5 "$base/healthz" 2>/dev/null)" = ok ]; then
    pass "still answering ping and HTTP"
else
    fail "still answering ping and HTTP"
fi
echo "lostnotify.sh: $failures failures"
[ "$failures" = 0 ] && echo "lostnotify.sh: PASS" || echo "lostnotify.sh: FAIL"
[ "$failures" = 0 ]
