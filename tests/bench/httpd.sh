#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# httpd benchmarks, printed as numbers (never pass/fail):
#  - boot to first response: launch of QEMU (the command `atoll run` uses) until curl gets
#    200 from /healthz through the user-network forward; RUNS runs, min / median / max;
#  - wrk requests/s against httpd in Atoll (over a tap device: root needed) and against the
#    same httpd as a host process, same wrk flags, RUNS runs each, median and the ratio.
# usage: httpd.sh ATOLL_BUILD_GUEST_IMAGE HOST_HTTPD [RUNS]
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
image=$1 host_httpd=$2 runs=${3:-5}
. "$root/tests/net/lib.sh"
command -v wrk >/dev/null || { echo "httpd bench: wrk not installed (apt-get install wrk)"; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== boot to first response ($runs runs, -M microvm, user network)"
times=()
for ((i = 0; i < runs; i++)); do
    port=$(free_port)
    mapfile -t cmd < <("$root/atoll" run --print-qemu --port "$port:80" "$image" -- --no-access-log)
    t0=$(date +%s%N)
    "${cmd[@]}" >/dev/null 2>&1 &
    qemu=$!
    # Short attempts: a connection made before the guest listens waits on the forwarder's
    # retry timer (about 1 s), so each attempt gives up after 50 ms and a new one starts.
    until curl -s -o /dev/null --max-time 0.05 "http://127.0.0.1:$port/healthz"; do sleep 0.005; done
    t1=$(date +%s%N)
    kill $qemu; wait $qemu 2>/dev/null
    times+=($(((t1 - t0) / 1000000)))
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "boot to first response: min %d ms, median %d ms, max %d ms\n", v[1], v[int((NR + 1) / 2)], v[NR] }'

flags=(-t 2 -c 64 -d 10s)
echo "== wrk ${flags[*]} /index.html, $runs runs each"
# The host process.
port=$(free_port)
www=$(mktemp -d)
cp -r "$root/apps/httpd/rootfs/www/." "$www/"
"$host_httpd" --listen "$port" --root "$www" --no-access-log >/dev/null 2>&1 &
host_pid=$!
sleep 0.5
host_rps=()
for ((i = 0; i < runs; i++)); do
    host_rps+=("$(wrk "${flags[@]}" "http://127.0.0.1:$port/index.html" | awk '/Requests\/sec/ { print $2 }')")
done
kill $host_pid
rm -rf "$www"
h=$(printf '%s\n' "${host_rps[@]}" | median)
echo "host process: ${host_rps[*]} -> median $h requests/s"

if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
    tap=atlb$$
    ip tuntap add "$tap" mode tap && ip addr add 192.168.211.1/24 dev "$tap" && ip link set "$tap" up
    setsid "$root/atoll" run --mem 256M --net "tap:$tap" --param atoll.ip=192.168.211.2/24 "$image" -- --no-access-log >/dev/null 2>&1 &
    guest=$!
    until curl -s -o /dev/null --max-time 1 http://192.168.211.2/healthz; do sleep 0.05; done
    atoll_rps=()
    for ((i = 0; i < runs; i++)); do
        atoll_rps+=("$(wrk "${flags[@]}" http://192.168.211.2/index.html | awk '/Requests\/sec/ { print $2 }')")
    done
    kill -- -$guest # atoll run and its QEMU (a process group of their own)
    wait $guest 2>/dev/null
    ip link del "$tap"
    a=$(printf '%s\n' "${atoll_rps[@]}" | median)
    echo "Atoll (QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}'), tap): ${atoll_rps[*]} -> median $a requests/s"
    awk -v a="$a" -v h="$h" 'BEGIN { printf "ratio Atoll / host process: %.3f\n", a / h }'
else
    echo "Atoll: skipped (a tap device needs root)"
fi
