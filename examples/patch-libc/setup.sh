#!/bin/sh
# Copy the libc std's Cargo.lock pins into ./libc (run `sysgen fetch` first).
set -eu
lib="$(rustc --print sysroot)/lib/rustlib/src/rust/library"
version=$(awk '/^name = "libc"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$lib/Cargo.lock")
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libc-$version" | head -n 1)
rm -rf libc
cp -R "$src" libc
chmod -R u+w libc
# A visible change: the patched copy says so.
printf '\n/// Added by examples/patch-libc: this libc is the local copy.\npub const SYSGEN_PATCHED_LIBC: bool = true;\n' >> libc/src/lib.rs
