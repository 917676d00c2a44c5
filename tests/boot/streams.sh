#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `atoll run` keeps the application's stdout and stderr apart, as a Linux process's are, gives
# it a regular file as stdin (< FILE, --stdin FILE), and a signal to `atoll run` reaches the
# application and stops its guest. usage: streams.sh ATOLL HELLO_IMAGE SLEEPER_IMAGE WC_IMAGE
set -u
atoll=$1 image=$2 sleeper=$3 wc=$4
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail() { echo "streams: FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
"$atoll" run "$image" -- --exit banana >"$out" 2>"$err"
rc=$?
[ $rc = 2 ] || fail "exit status $rc, want 2"
grep -q "^Hello from Atoll$" "$out" || fail "stdout lacks the program's output"
grep -q "hello: bad --exit value" "$err" || fail "stderr lacks the program's error message"
grep -q "bad --exit value" "$out" && fail "the error message is on stdout"
grep -q "^atoll: booting" "$err" || fail "stderr lacks atoll's own note (overwritten?)"
echo "streams: stdout and stderr apart"

# stdin from a file: its bytes, then end of file; /dev/null and pipes: the console (empty).
input=$(mktemp)
printf 'one two\nthree\n' >"$input"
got=$("$atoll" run "$wc" <"$input" 2>"$err") || fail "wc < FILE failed: $got"
[ "$got" = "wc: 2 3 14" ] || { rm -f "$input"; fail "wc < FILE printed '$got', want 'wc: 2 3 14'"; }
got=$("$atoll" run --stdin "$input" "$wc" </dev/null 2>"$err")
[ "$got" = "wc: 2 3 14" ] || { rm -f "$input"; fail "wc --stdin FILE printed '$got'"; }
got=$("$atoll" run "$wc" </dev/null 2>"$err")
[ "$got" = "wc: 0 0 0" ] || { rm -f "$input"; fail "wc < /dev/null printed '$got'"; }
rm -f "$input"
echo "streams: stdin from a file"

# SIGTERM to atoll run: the application gets SIGTERM (through the control channel); a sleeper
# has no handler, so it ends as a Linux process would, status 143, at once (not after the
# 10 s --stop-timeout); its QEMU is gone with it.
setsid "$atoll" run "$sleeper" -- 30 >"$out" 2>"$err" &
pid=$!
for _ in $(seq 100); do grep -q "^atoll: booting" "$err" && break; sleep 0.1; done
sleep 0.5
qemu=$(pgrep -P "$pid" -f qemu-system) || fail "no QEMU child of atoll run"
start=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 143 ] || fail "atoll run exited $rc after SIGTERM, want 143"
grep -q "terminated by SIGTERM (15)" "$err" || fail "the application did not get SIGTERM (its default action did not run)"
[ $ms -lt 5000 ] || fail "the guest took $ms ms to stop after SIGTERM"
for _ in $(seq 50); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
kill -0 "$qemu" 2>/dev/null && { kill -KILL "$qemu"; fail "QEMU still running after atoll run was stopped"; }
echo "streams: SIGTERM reaches the application and stops the guest ($ms ms)"

# atoll run killed outright (SIGKILL: no chance to pass anything on): its QEMU dies with it.
setsid "$atoll" run "$sleeper" -- 30 >"$out" 2>"$err" &
pid=$!
for _ in $(seq 100); do grep -q "^atoll: booting" "$err" && break; sleep 0.1; done
qemu=""
for _ in $(seq 50); do qemu=$(pgrep -P "$pid" -f qemu-system) && break; sleep 0.1; done
[ -n "$qemu" ] || fail "no QEMU child of atoll run"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
kill -0 "$qemu" 2>/dev/null && { kill -KILL "$qemu"; fail "QEMU still running after atoll run was killed"; }
echo "streams: SIGKILL to atoll run takes its QEMU too"
