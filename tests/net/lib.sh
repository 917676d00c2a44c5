# SPDX-License-Identifier: MIT
# Helpers for the network tests: free host ports, a guest in the background, waiting for a line.

# A TCP/UDP port nothing on the host listens on (ephemeral-range guesses, checked).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# wait_for FILE REGEX SECONDS
wait_for() {
    local file=$1 re=$2 secs=$3
    for _ in $(seq $((secs * 10))); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for /$re/ in $file:" >&2
    cat "$file" >&2
    return 1
}

# ---------------------------------------------------------------- network namespaces
# Every test or benchmark that uses a tap device does it inside a network namespace of its own:
# the tap, its address, QEMU and the clients (curl, wrk, loadgen, ping) all live there, so no
# address is ever put on the host's interfaces and no test traffic reaches the host's network.
# The addresses come from 198.18.0.0/15, the range set aside for benchmarking (RFC 2544); inside
# a private namespace they collide with nothing. Names are atl-PURPOSE-PID, PID being the
# creating script's; netns_reap_stale removes those whose creator is gone (a run killed with
# SIGKILL, as ctest does on a timeout, cannot clean up after itself).
#
#   ns=$(netns_create load) || exit 77      # atl-load-$$, lo up
#   netns_tap "$ns" tap0 198.18.0.1/24      # tap0 inside it, with the host side's address
#   netns_spawn "$ns" "$log" "$atoll" run --net tap:tap0 ...   # sets spawned_pid (own session)
#   in_netns "$ns" curl http://198.18.0.2/ # a client inside it
#   stop_group "$spawned_pid"; netns_destroy "$ns"
# with netns_traps CLEANUP_FUNCTION so that every exit path, interrupted runs included, ends in
# the cleanup.

NETNS_HOST_IP=198.18.0.1
NETNS_GUEST_IP=198.18.0.2
NETNS_GUEST2_IP=198.18.0.3

# netns_usable: true when this process may create namespaces and tap devices (root, /dev/net/tun).
netns_usable() {
    [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && command -v ip >/dev/null
}

# netns_destroy NS: kills what still runs inside NS, deletes its links and NS itself. Quiet and
# harmless when NS does not exist.
netns_destroy() {
    local ns=$1 pids link i
    ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qxF "$ns" || return 0
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
        # shellcheck disable=SC2086 # a list of pids
        kill -TERM $pids 2>/dev/null
        for i in $(seq 30); do
            pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
            [ -n "${pids// /}" ] || break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -z "${pids// /}" ] || kill -KILL $pids 2>/dev/null
    fi
    for link in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
        [ "$link" = lo ] || ip -n "$ns" link del "$link" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
    return 0
}

# netns_reap_stale: destroys atl-*-PID namespaces whose PID no longer runs.
netns_reap_stale() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
        [[ $ns =~ ^atl-.*-([0-9]+)$ ]] || continue
        kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
        echo "netns: removing $ns, left by a run that is gone" >&2
        netns_destroy "$ns"
    done
}

# netns_create PURPOSE: creates atl-PURPOSE-$$ (recreated if it exists) with lo up; prints its name.
netns_create() {
    local ns=atl-$1-$$
    netns_usable || { echo "netns: needs root, ip and /dev/net/tun" >&2; return 1; }
    netns_reap_stale
    netns_destroy "$ns"
    ip netns add "$ns" || { echo "netns: cannot create $ns" >&2; return 1; }
    ip -n "$ns" link set lo up || { netns_destroy "$ns"; return 1; }
    echo "$ns"
}

# netns_tap NS TAP CIDR: a tap device TAP inside NS with address CIDR (the host side), up.
netns_tap() {
    local ns=$1 tap=$2 cidr=$3
    ip -n "$ns" tuntap add "$tap" mode tap && ip -n "$ns" addr add "$cidr" dev "$tap" &&
        ip -n "$ns" link set "$tap" up || { echo "netns: cannot make tap $tap in $ns" >&2; return 1; }
}

# in_netns NS COMMAND...: COMMAND inside NS; with NS empty, on the host (loopback-only tests).
in_netns() {
    local ns=$1
    shift
    if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# netns_spawn NS LOG COMMAND...: COMMAND in the background, inside NS (the host when NS is
# empty), in a session and process group of its own (a guest: `atoll run` and its QEMU stop
# together with stop_group), stdout and stderr to LOG. Sets spawned_pid, the group's id.
netns_spawn() {
    local ns=$1 log=$2
    shift 2
    if [ -n "$ns" ]; then
        ip netns exec "$ns" setsid "$@" >"$log" 2>&1 &
    else
        setsid "$@" >"$log" 2>&1 &
    fi
    spawned_pid=$!
}

# stop_group PID: SIGTERM to the process group PID (from netns_spawn), SIGKILL after 5 s, reaped.
stop_group() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# netns_traps FUNCTION: FUNCTION runs on every exit path: normal exit, errors, and SIGINT,
# SIGTERM, SIGHUP (which end the script with 130, 143, 129 after it).
netns_traps() {
    # shellcheck disable=SC2064 # expand now: the function's name
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}
