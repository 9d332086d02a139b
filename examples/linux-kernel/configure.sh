#!/bin/sh
# An x86_64 kernel with Rust and its minimal sample: `tinyconfig`, plus a
# serial console and the sample. Twice, because RUST and the samples become
# visible only once what they depend on is set.
#   configure.sh SRCTREE OBJTREE [make variables, e.g. RUSTC=…]
set -eu
src=$1 obj=$2
shift 2
make -s -C "$src" O="$obj" LLVM=1 "$@" tinyconfig
for pass in 1 2; do
  "$src/scripts/config" --file "$obj/.config" \
    -e 64BIT -e PRINTK -e TTY -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
    -e RUST -e SAMPLES -e SAMPLES_RUST -e SAMPLE_RUST_MINIMAL
  make -s -C "$src" O="$obj" LLVM=1 "$@" olddefconfig
done
if ! grep -q '^CONFIG_SAMPLE_RUST_MINIMAL=y' "$obj/.config"; then
  echo "configure.sh: this kernel cannot have Rust with these tools; \`make LLVM=1 rustavailable\` says why" >&2
  exit 1
fi
