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
