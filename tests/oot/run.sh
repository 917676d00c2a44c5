#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copies the out-of-tree example VARIANT (c or cpp) to a fresh temporary directory, outside
# Atoll's tree, and builds and boots it with `atoll run DIR`.
# usage: run.sh VARIANT [atoll run options] [-- args]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
variant=$1
shift
tmp=$(mktemp -d -t atoll-oot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/$variant" "$tmp/project"
"$here/../../atoll" run "$tmp/project" "$@"
