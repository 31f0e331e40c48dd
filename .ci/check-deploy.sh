#!/usr/bin/env bash
# Checks the deployment files with the real tools, none of which needs a daemon or a cluster:
# docker-compose.yml with Debian's docker-compose (`config`), the Prometheus configuration and
# alert rules with promtool, and each Kustomize overlay with `kubectl kustomize` (or kustomize).
# A tool that is missing is installed from Debian when this runs as root; otherwise its check is
# reported as skipped. The typed checks of the manifests are tests (deploy-tests).
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
install() {
  if [[ $(id -u) == 0 ]] && have apt-get; then
    apt-get install -y -q "$@" >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null 2>&1) || true
  fi
}

have docker-compose || install docker-compose
if have docker-compose; then
  docker-compose -f docker-compose.yml config -q
  echo "deploy: docker-compose.yml is valid ($(docker-compose version --short))"
else
  echo "deploy: docker-compose not available; compose check skipped"
fi

have promtool || install prometheus
if have promtool; then
  tmp=$(mktemp -d)
  sed "s#/etc/prometheus/rules.yml#$tmp/rules.yml#" deploy/prometheus/prometheus.yml > "$tmp/prometheus.yml"
  cp deploy/prometheus/rules.yml "$tmp/rules.yml"
  promtool check config "$tmp/prometheus.yml" >/dev/null
  echo "deploy: Prometheus configuration and alert rules are valid"
else
  echo "deploy: promtool not available; Prometheus check skipped"
fi

if [[ -d k8s/overlays ]]; then
  for overlay in k8s/overlays/*/; do
    if have kubectl; then
      kubectl kustomize "$overlay" >/dev/null
    elif have kustomize; then
      kustomize build "$overlay" >/dev/null
    else
      echo "deploy: no kubectl or kustomize; $overlay not built"
      continue
    fi
    echo "deploy: $overlay builds"
  done
fi
