#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A UDP echo server in the guest, a datagram from the host through QEMU's user network.
# usage: udp-echo.sh ATOLL IMAGE NETTOOL [MACHINE]
set -euo pipefail
atoll=$1 image=$2 nettool=$3 machine=${4:-microvm}
. "$(dirname "$0")/lib.sh"
port=$(free_port)
log=$(mktemp -t atoll-udp.XXXXXX)
setsid "$atoll" run --machine "$machine" --port "udp:$port:7001" "$image" -- udp-echo 7001 >"$log" 2>&1 &
guest=$!
trap 'kill -- -$guest 2>/dev/null || true; wait $guest 2>/dev/null || true; cat "$log"; rm -f "$log"' EXIT
wait_for "$log" "udp echo on port 7001" 60
"$nettool" udp 127.0.0.1 "$port" "hello over udp from the host"
