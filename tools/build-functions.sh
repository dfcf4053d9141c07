#!/usr/bin/env bash
# Builds every Lambda function's bootstrap with cargo-lambda (installed from PyPI into a
# tools venv, with the Zig it cross-links with), for arm64 (Graviton) when the Rust target
# is available, else x86_64 (said so). Profile `lambda` (release, opt-level s, fat LTO, stripped).
# Prints each bootstrap's uncompressed size; output in target/lambda/<function>/bootstrap.
#
#   tools/build-functions.sh            # arm64 if possible
#   ARCH=x86_64 tools/build-functions.sh
#   Q2C_TOOLS_VENV=/path/to/venv tools/build-functions.sh
set -euo pipefail

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1
FUNCTIONS=(quote-api outbox-relay price-fanout order-dispatch hub-delivery)
PACKAGES=(-p q2c-fn-quote-api -p q2c-fn-outbox-relay -p q2c-fn-price-fanout -p q2c-fn-order-dispatch
    -p q2c-fn-hub-delivery)

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${Q2C_TOOLS_VENV:-$root/.venv}"
cd "$root"

if ! "$venv/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION"; then
    echo "installing cargo-lambda $CARGO_LAMBDA_VERSION and ziglang $ZIGLANG_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
export PATH="$venv/bin:$PATH"

arch="${ARCH:-arm64}"
if [[ "$arch" == arm64 ]]; then
    if ! rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$' &&
        ! rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
        echo "WARNING: the aarch64-unknown-linux-gnu target is unavailable (offline?);" \
            "building x86_64 instead. Set Architectures: [x86_64] when deploying these." >&2
        arch=x86_64
    fi
fi
flag="--arm64"
[[ "$arch" == x86_64 ]] && flag="--x86-64"

echo "building ${FUNCTIONS[*]} for $arch (profile lambda)"
start=$(date +%s)
cargo lambda build --profile lambda "$flag" "${PACKAGES[@]}"
echo "built in $(($(date +%s) - start)) s"

for function in "${FUNCTIONS[@]}"; do
    bootstrap="target/lambda/$function/bootstrap"
    size=$(stat -c %s "$bootstrap")
    printf '%-14s %s  %d bytes (%.1f MiB)  %s\n' "$function" "$arch" "$size" \
        "$(echo "$size / 1048576" | bc -l)" "$(file -b "$bootstrap" | cut -d, -f1-2)"
done
