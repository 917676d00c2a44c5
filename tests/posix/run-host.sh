#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds every tests/posix/*.c as an ordinary host Linux executable and runs it, writing
# OUTDIR/<name>.host.txt. These files are the reference output: the same programs built as
# Atoll images must print exactly the same bytes.
#
#   usage: run-host.sh OUTDIR
#
# Environment:
#   CC             host compiler (default: cc)
#   POSIX_SCRATCH  where the programs make their scratch dirs (default: OUTDIR/scratch)
#   ATOLL_SYSROOT  optional: also link each program against Atoll's musl (with
#                  musl-host-shim.S turning its __atoll_syscall calls into real system calls)
#                  and write OUTDIR/<name>.musl.txt; a diff against .host.txt shows
#                  libc differences, as opposed to libOS differences.
#
# Exit status: 0 when every program built, exited 0 and (with ATOLL_SYSROOT) matched.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1" || exit 1
out=$(cd "$1" && pwd)
cc=${CC:-cc}
: "${POSIX_SCRATCH:=$out/scratch}"
export POSIX_SCRATCH
mkdir -p "$POSIX_SCRATCH" || exit 1

cflags="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror"
status=0
for src in "$here"/*.c; do
	name=$(basename "$src" .c)
	if ! $cc $cflags -o "$out/$name.host" "$src"; then
		echo "FAIL build $name" >&2
		status=1
		continue
	fi
	# stdin from /dev/null: no program may depend on what the runner inherited.
	"$out/$name.host" </dev/null >"$out/$name.host.txt" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL $name exited $rc (see $out/$name.host.txt)" >&2
		status=1
	else
		echo "ok   $name: $(tail -n 1 "$out/$name.host.txt")"
	fi

	if [ -n "${ATOLL_SYSROOT:-}" ]; then
		sr=$ATOLL_SYSROOT
		if ! clang --target=x86_64-linux-musl --sysroot="$sr" -nostdinc -isystem "$sr/include" \
			-static -fuse-ld=lld -rtlib=compiler-rt $cflags -o "$out/$name.musl" \
			"$src" "$here/musl-host-shim.S"; then
			echo "FAIL musl build $name" >&2
			status=1
			continue
		fi
		"$out/$name.musl" </dev/null >"$out/$name.musl.txt" 2>&1
		if ! diff -u "$out/$name.host.txt" "$out/$name.musl.txt" >"$out/$name.musl.diff"; then
			echo "FAIL $name: glibc and musl outputs differ (see $out/$name.musl.diff)" >&2
			status=1
		fi
	fi
done
exit $status
