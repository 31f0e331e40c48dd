#!/usr/bin/env bash
# The OpenAI Node SDK's contract with a running gateway: contract.mjs with the vendored
# openai-6.30.1.tgz (npm pack openai@6.30.1; no dependencies), unpacked into a temporary
# node_modules, so it runs offline. Needs node 18+; without it, says so and exits 0.
#   bash tools/openai-contract/run.sh [GATEWAY_URL] [API_KEY] FINE_TUNED_MODEL
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
gateway="${1:-http://127.0.0.1:8080}"
key="${2:-sk-local-acme-0000000000}"
model="${3:?the fine-tuned model name of a succeeded job}"
if ! command -v node >/dev/null 2>&1; then
  echo "openai-contract: node is not installed; the SDK contract check is skipped"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/node_modules/openai"
tar xzf "$here/vendor/openai-6.30.1.tgz" -C "$work/node_modules/openai" --strip-components=1
cp "$here/contract.mjs" "$work/"
node "$work/contract.mjs" "$gateway" "$key" "$model" "$here/../../examples/parity.jsonl"
