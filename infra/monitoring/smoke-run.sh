#!/usr/bin/env bash
# selfhosted-mcp smoke test, run by the systemd timer selfhosted-mcp-smoke-<app>: runs the bundled smoke CLI
# (SMOKE_DIR/smoke.mjs, one self-contained module) with the `node` of the live server slot's image (or
# RUNNER_IMAGE), so the host needs nothing but Docker.
# Prints the JSON report (to the journal), keeps the textfile metrics in METRICS_DIR and, when TEXTFILE_DIR is
# set, publishes them there for node_exporter. Exit: 0 passed, 1 a check failed, 2 cannot run.
# Inputs (from the unit's Environment=): APP STATE_DIR SMOKE_URL SMOKE_DIR METRICS_DIR MIN_CERT_DAYS
#   [TEXTFILE_DIR] [TOKEN_ENV_FILE: env file with SMOKE_TOKEN=..., mode 0600] [RUNNER_IMAGE]
#   [SMOKE_SERVER: label the metrics server="<name>" (one of several servers behind the gateway)]
#   [CA_BUNDLE: PEM file on the host trusted besides Node's public roots (NODE_EXTRA_CA_CERTS), e.g. a private ACME CA]
set -euo pipefail
umask 022

fail() {
  # One JSON line like the report's, so the journal stays machine-readable even when the test cannot start.
  printf '{"ok":false,"target":"%s","error":"%s"}\n' "${SMOKE_URL}" "$1"
  exit 2
}

for v in APP STATE_DIR SMOKE_URL SMOKE_DIR METRICS_DIR MIN_CERT_DAYS; do
  [ -n "${!v:-}" ] || fail "input ${v} is not set (see the unit's Environment= lines)"
done

[ -s "${SMOKE_DIR}/smoke.mjs" ] || fail "${SMOKE_DIR}/smoke.mjs is missing (re-run the install)"
if [ -n "${RUNNER_IMAGE:-}" ]; then
  image="${RUNNER_IMAGE}"
else
  slot=$(cat "${STATE_DIR}/active-slot" 2>/dev/null) || fail "no live slot recorded in ${STATE_DIR}/active-slot (not deployed yet?)"
  container="${APP}-${slot}"
  image=$(docker inspect --format '{{.Image}}' "${container}" 2>/dev/null) || fail "container ${container} not found"
fi

install -d -m 0755 -o 1000 -g 1000 "${METRICS_DIR}"
args=(run --rm --network host --read-only --cap-drop ALL --security-opt no-new-privileges
  --memory 256m --pids-limit 64 --user 1000:1000
  --mount "type=bind,source=${METRICS_DIR},target=/metrics"
  --entrypoint node)
if [ -n "${TOKEN_ENV_FILE:-}" ]; then
  [ -r "${TOKEN_ENV_FILE}" ] || fail "TOKEN_ENV_FILE ${TOKEN_ENV_FILE} is not readable"
  args+=(--env-file "${TOKEN_ENV_FILE}")
fi
if [ -n "${CA_BUNDLE:-}" ]; then
  [ -r "${CA_BUNDLE}" ] || fail "CA_BUNDLE ${CA_BUNDLE} is not readable"
  args+=(--mount "type=bind,source=${CA_BUNDLE},target=/opt/selfhosted-mcp-ca.pem,readonly" --env NODE_EXTRA_CA_CERTS=/opt/selfhosted-mcp-ca.pem)
fi
args+=(--mount "type=bind,source=${SMOKE_DIR}/smoke.mjs,target=/opt/selfhosted-mcp-smoke.mjs,readonly" "${image}"
  /opt/selfhosted-mcp-smoke.mjs smoke "${SMOKE_URL}" --json
  --min-cert-days "${MIN_CERT_DAYS}" --metrics-file /metrics/smoke.prom)
if [ -n "${SMOKE_SERVER:-}" ]; then args+=(--metrics-server "${SMOKE_SERVER}"); fi

rc=0
docker "${args[@]}" || rc=$?

if [ -n "${TEXTFILE_DIR:-}" ] && [ -f "${METRICS_DIR}/smoke.prom" ]; then
  mkdir -p "${TEXTFILE_DIR}"
  tmp="${TEXTFILE_DIR}/.selfhosted-mcp-smoke-${APP}.prom.$$"
  cp "${METRICS_DIR}/smoke.prom" "${tmp}"
  chmod 0644 "${tmp}"
  mv -f "${tmp}" "${TEXTFILE_DIR}/selfhosted-mcp-smoke-${APP}.prom"
fi
exit "${rc}"
