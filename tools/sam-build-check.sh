#!/usr/bin/env bash
# Runs `sam build` on infra/template.yaml as docs/infra.md says (from infra/, samconfig.toml's
# build settings) and checks that each function's artifact is byte for byte the bootstrap
# tools/build-functions.sh leaves in target/lambda/<binary>/ (the Makefile runs that script,
# so on a warm target/ this is a copy). Prints both sizes.
#
#   tools/sam-build-check.sh        (after tools/build-functions.sh; uses .venv's sam)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sam="${Q2C_SAM:-$root/.venv/bin/sam}"
cd "$root/infra"
SAM_CLI_TELEMETRY=0 "$sam" build
status=0
for logical in QuoteApiFunction OutboxRelayFunction PriceFanoutFunction OrderDispatchFunction HubDeliveryFunction; do
    binary=$(echo "${logical%Function}" | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')
    built="$root/target/lambda/$binary/bootstrap"
    artifact="$root/infra/.aws-sam/build/$logical/bootstrap"
    printf '%-22s build-functions.sh %9d bytes   sam build %9d bytes\n' "$logical" \
        "$(stat -c %s "$built")" "$(stat -c %s "$artifact")"
    if ! cmp -s "$built" "$artifact"; then
        echo "sam build's $logical differs from $built" >&2
        status=1
    fi
done
exit "$status"
