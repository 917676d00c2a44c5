#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packs a directory into a cpio "newc" archive for an image's root file system: entries in a
# stable order, owned by root, with the files' modes and times.
# usage: mkrootfs.sh DIR OUT.cpio
set -euo pipefail
dir=$1 out=$2
[ -d "$dir" ] || { echo "mkrootfs: $dir is not a directory" >&2; exit 1; }
command -v cpio >/dev/null || { echo "mkrootfs: cpio not found (package cpio; ./atoll installs it)" >&2; exit 1; }
tmp="$out.tmp"
(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --reproducible --quiet) >"$tmp"
mv "$tmp" "$out"
