#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The control channel, end to end through `atoll run` on microvm, q35 and pc: SIGTERM, SIGINT
# and SIGHUP to `atoll run` reach the application, whose own exit status comes back; a program
# that ignores SIGTERM is stopped after --stop-timeout (143); a second signal stops it at once;
# SIGUSR1 prints a state dump on stderr and `atoll dump PID` one on stdout while the guest
# keeps running; bad input on the channel is answered and costs no later command; a dump
# comes even while a thread keeps the network stack's core lock, and names it.
# usage: control.sh ATOLL SIGTEST_IMAGE SLEEPER_IMAGE CORELOCK_IMAGE
set -u
atoll=$1 sigtest=$2 sleeper=$3 corelock=$4
tmp=$(mktemp -d -t atoll-control.XXXXXX)
pid=""
cleanup() {
    [ -z "$pid" ] || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
# Where `atoll run` keeps its control FIFOs (the atoll script's runtime_base).
if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ] && [ -w "$XDG_RUNTIME_DIR" ]; then base=$XDG_RUNTIME_DIR/atoll
elif [ "$(id -u)" = 0 ]; then base=/run/atoll
else base=${TMPDIR:-/tmp}/atoll-$(id -u); fi
failures=0
fail() {
    echo "control: FAIL: $*"
    echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"
    failures=$((failures + 1))
}
ok() { echo "control: ok   $*"; }

# start ARGS...: `atoll run ARGS` in the background (a session of its own, SIGINT not ignored
# as it would be for a background job of this script), its PID in $pid.
start() {
    : >"$tmp/out"
    : >"$tmp/err"
    setsid env --default-signal=INT "$atoll" run "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
}
# wait_for FILE REGEX SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE "$2" "$1" && return 0
        sleep 0.05
    done
    return 1
}
# finish: waits for `atoll run` (bounded: 30 s), sets $rc and $ms (since $t0).
finish() {
    local i
    for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ ! -e "$base/$pid" ] || fail "the runtime directory $base/$pid outlived its atoll run"
    pid=""
}
now() { t0=$(date +%s%N); }

# 1. microvm: SIGTERM -> the handler runs, main() exits 42.
start "$sigtest" -- handle 42
if wait_for "$tmp/out" "^sigtest: ready" 60; then
    now; kill -TERM "$pid"; finish
    if [ $rc = 42 ] && grep -q "^sigtest: caught signal 15 (SIGTERM)$" "$tmp/out" && grep -q "^sigtest: exiting with 42" "$tmp/out" &&
        grep -q "SIGTERM: passing signal 15 to the application" "$tmp/err" && [ $ms -lt 5000 ]; then
        ok "microvm: SIGTERM ran the handler, exit status 42 ($ms ms)"
    else
        fail "microvm: SIGTERM: status $rc after $ms ms, want 42 and the handler's line"
    fi
else
    fail "microvm: sigtest never got ready"; finish
fi

# 2. q35: SIGUSR1 -> a dump on stderr, the guest runs on; then SIGHUP -> handler, exit 7.
start --machine q35 "$sigtest" -- handle 7
if wait_for "$tmp/out" "^sigtest: ready" 60; then
    kill -USR1 "$pid"
    if wait_for "$tmp/err" "^atoll-dump-end usr1-1$" 20 && grep -q "^atoll-dump-begin usr1-1$" "$tmp/err" &&
        grep -qE "^thread 1 \(sigtest\): blocked" "$tmp/err" && grep -qE "^    #[0-9]+ +0x[0-9a-f]+  main\+0x" "$tmp/err" &&
        grep -q "^memory-in-use-bytes [0-9]" "$tmp/err"; then
        ok "q35: SIGUSR1 printed a state dump on stderr (the main thread, its backtrace to main())"
    else
        fail "q35: no state dump with the main thread after SIGUSR1"
    fi
    now; kill -HUP "$pid"; finish
    if [ $rc = 7 ] && grep -q "^sigtest: caught signal 1 (SIGHUP)$" "$tmp/out"; then
        ok "q35: the guest ran on after the dump; SIGHUP ran the handler, exit status 7"
    else
        fail "q35: SIGHUP: status $rc, want 7 and the handler's line"
    fi
else
    fail "q35: sigtest never got ready"; finish
fi

# 3. pc: `atoll dump PID` while main() computes without system calls; then SIGINT -> exit 3.
start --machine pc "$sigtest" -- spin 3
if wait_for "$tmp/out" "^sigtest: ready" 60; then
    if "$atoll" dump "$pid" >"$tmp/dump" 2>"$tmp/dump.err" && grep -qE "^thread 1 \(sigtest\): (running|runnable)" "$tmp/dump" &&
        grep -q "^thread [0-9]* (control) \[kernel\]: running (writing this dump)" "$tmp/dump" &&
        ! grep -q "atoll-dump" "$tmp/dump"; then
        ok "pc: atoll dump PID printed the dump on its stdout (thread 1 busy in main())"
    else
        fail "pc: atoll dump: $(cat "$tmp/dump.err")"; cat "$tmp/dump"
    fi
    now; kill -INT "$pid"; finish
    if [ $rc = 3 ] && grep -q "^sigtest: caught signal 2 (SIGINT)$" "$tmp/out"; then
        ok "pc: SIGINT reached a busy main(), exit status 3"
    else
        fail "pc: SIGINT: status $rc, want 3 and the handler's line"
    fi
else
    fail "pc: sigtest never got ready"; finish
fi

# 4. SIGTERM ignored: stopped after --stop-timeout 2, status 143.
start --stop-timeout 2 "$sigtest" -- ignore
if wait_for "$tmp/out" "^sigtest: ready" 60; then
    now; kill -TERM "$pid"; finish
    if [ $rc = 143 ] && [ $ms -ge 2000 ] && [ $ms -lt 8000 ] && grep -q "did not exit within 2 s of SIGTERM" "$tmp/err" &&
        ! grep -q "caught" "$tmp/out"; then
        ok "SIGTERM ignored: stopped after --stop-timeout 2, status 143 ($ms ms)"
    else
        fail "SIGTERM ignored: status $rc after $ms ms, want 143 after 2-8 s"
    fi
else
    fail "ignore: sigtest never got ready"; finish
fi

# 5. A second SIGTERM stops at once (--stop-timeout=30 would wait).
start --stop-timeout=30 "$sigtest" -- ignore
if wait_for "$tmp/out" "^sigtest: ready" 60; then
    now; kill -TERM "$pid"; sleep 0.5; kill -TERM "$pid"; finish
    if [ $rc = 143 ] && [ $ms -lt 8000 ]; then
        ok "a second SIGTERM stopped the guest at once, status 143 ($ms ms)"
    else
        fail "second SIGTERM: status $rc after $ms ms, want 143 within 8 s"
    fi
else
    fail "second signal: sigtest never got ready"; finish
fi

# 6. A program without signal handling: SIGUSR1 dumps, the program still finishes normally.
start "$sleeper" -- 3
if wait_for "$tmp/err" "^atoll: booting" 60; then
    sleep 0.3
    kill -USR1 "$pid"
    wait_for "$tmp/err" "^atoll-dump-end usr1-1$" 20
    now; finish
    if [ $rc = 0 ] && grep -q "^slept 3\." "$tmp/out" && grep -qE "^thread 1 \(sleeper\): " "$tmp/err" &&
        grep -q "^atoll-dump-end usr1-1$" "$tmp/err"; then
        ok "SIGUSR1 to a sleeper: a dump on stderr, then it slept its 3 s and exited 0"
    else
        fail "SIGUSR1 to a sleeper: status $rc"
    fi
else
    fail "sleeper never booted"; finish
fi

# 7. Bad input on the channel (an overlong line, an unknown command, binary bytes) is answered
# on stderr, and the next request is served.
start "$sigtest" -- handle 0
if wait_for "$tmp/out" "^sigtest: ready" 60; then
    { printf '%0300d\n' 0; printf 'bogus command\n'; printf '\001\377\n'; printf 'signal 99\n'; } >"$base/$pid/ctl.in"
    if "$atoll" dump "$pid" >"$tmp/dump" 2>"$tmp/dump.err" && grep -qE "^thread 1 \(sigtest\)" "$tmp/dump" &&
        wait_for "$tmp/err" "signal '99': want a number from 1 to 64" 10 &&
        grep -q "^atoll-ctl error: a line of 300 bytes is longer than 128: ignored$" "$tmp/err" &&
        grep -q "^atoll-ctl error: unknown command 'bogus'" "$tmp/err" &&
        grep -q "^atoll-ctl error: unknown command '\\\\x01\\\\xff'" "$tmp/err"; then
        ok "bad input answered with errors, the dump after it served"
    else
        fail "bad input: $(cat "$tmp/dump.err")"
    fi
    now; kill -TERM "$pid"; finish
    [ $rc = 0 ] || fail "after bad input: status $rc, want 0"
else
    fail "bad input: sigtest never got ready"; finish
fi

# 8. A thread keeps the TCP/IP core lock (as a stuck one would): the dump still comes, at once,
# names the holder and lists the PCBs anyway.
start "$corelock" -- 4
if wait_for "$tmp/out" "^corelock: holding the core lock" 60; then
    now
    "$atoll" dump "$pid" >"$tmp/dump" 2>"$tmp/dump.err"
    dump_rc=$?
    dump_ms=$((($(date +%s%N) - t0) / 1000000))
    if [ $dump_rc = 0 ] && [ $dump_ms -lt 3000 ] &&
        grep -q "^core lock held by thread 1 (corelock) for more than 200 ms" "$tmp/dump" &&
        grep -q "^  tcp 0.0.0.0:7 LISTEN" "$tmp/dump"; then
        ok "core lock held: the dump came in $dump_ms ms, named the holder, listed the PCBs"
    else
        fail "core lock held: dump status $dump_rc after $dump_ms ms: $(cat "$tmp/dump.err")"; cat "$tmp/dump"
    fi
    finish
    [ $rc = 0 ] && grep -q "^corelock: released" "$tmp/out" || fail "corelock: status $rc, want 0 after the release"
else
    fail "corelock never took the lock"; finish
fi

# 9. In a terminal (script(1) makes one): Ctrl-C goes to `atoll run`, not to QEMU, and on to
# the application as SIGINT. script(1) starts the command through $SHELL -c; `exec` keeps that
# shell out of the terminal's foreground group (dash, unlike bash, does not exec a lone
# command itself, and would die of the same Ctrl-C: script then reports 130).
: >"$tmp/tty"
now
{
    wait_for "$tmp/tty" "sigtest: ready" 60
    printf '\003'
    wait_for "$tmp/tty" "sigtest: exiting with|terminated by|QEMU failed" 20
    sleep 0.5
} | script -qefc "exec $(printf '%q ' env --default-signal=INT "$atoll" run "$sigtest" -- handle 21)" /dev/null >"$tmp/tty" 2>&1
rc=$?
if [ $rc = 21 ] && grep -q "sigtest: caught signal 2 (SIGINT)" "$tmp/tty"; then
    ok "terminal: Ctrl-C reached the application's handler, exit status 21"
else
    fail "terminal: Ctrl-C: status $rc, want 21: $(tr -d '\r' <"$tmp/tty")"
fi

echo "control: $failures failures"
[ $failures = 0 ]
