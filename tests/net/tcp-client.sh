#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest connects out to a TCP server on the host (10.0.2.2 is the host in QEMU's user
# network), sends a message and prints the reply.
# usage: tcp-client.sh ATOLL IMAGE NETTOOL [MACHINE]
set -euo pipefail
atoll=$1 image=$2 nettool=$3 machine=${4:-microvm}
. "$(dirname "$0")/lib.sh"
port=$(free_port)
log=$(mktemp -t atoll-srv.XXXXXX)
"$nettool" serve-once "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; cat "$log"; rm -f "$log"' EXIT
wait_for "$log" "listening" 10
"$atoll" run --machine "$machine" --net user --timeout 60 "$image" -- client 10.0.2.2 "$port" "ping from the guest"
