# shellcheck shell=bash
# Inputs: APP, IMAGE, STATE_DIR, STAGING_DIR, ENV_FILE, SITE_FILE, UPSTREAM_FILE, NGINX_PID_FILE, CERT_FILE,
#         DEPLOY_HOOK_PATH, ACME_WEBROOT, ACME_CA_BUNDLE (empty: system CAs), HEALTH_PATH, HEALTH_TIMEOUT_SECONDS, DRAIN_SECONDS, PULL_ATTEMPTS, LOG_LINES,
#         BLUE_CONTAINER, BLUE_PORT, GREEN_CONTAINER, GREEN_PORT.
# Blue/green deploy of IMAGE (pinned by digest): start the idle slot beside the live one, wait for its health
# endpoint, point nginx's upstream include at it (`nginx -t`, reload), then stop the old slot. On any failure
# the old slot keeps serving, the new container's last log lines are printed, and the script exits non-zero.
# First deploy: HTTP-only site, certificate via certbot webroot, then the TLS site.

require_commands docker nginx curl
readonly DOCKER_CONFIG_DIR="${STATE_DIR}/docker"
readonly RUN_SPEC="${STATE_DIR}/run-spec.sh"

# 1. Files copied by the deployment -> their places (secrets mode 0600, root only).
install_staged env "${ENV_FILE}" 0600
install_staged docker-config.json "${DOCKER_CONFIG_DIR}/config.json" 0600
install_staged run-spec.sh "${RUN_SPEC}" 0644
install_staged nginx-http.conf "${STATE_DIR}/nginx-http.conf" 0644
install_staged nginx-tls.conf "${STATE_DIR}/nginx-tls.conf" 0644
install_staged upstream-blue.conf "${STATE_DIR}/upstream-blue.conf" 0644
install_staged upstream-green.conf "${STATE_DIR}/upstream-green.conf" 0644
install_staged issue-certificate.sh "${STATE_DIR}/issue-certificate.sh" 0700
install_staged certbot-deploy-hook "${DEPLOY_HOOK_PATH}" 0755

# 2. Registry login: docker reads the credentials installed above from DOCKER_CONFIG; then pull by digest.
export DOCKER_CONFIG="${DOCKER_CONFIG_DIR}"
pulled=""
for attempt in $(seq 1 "${PULL_ATTEMPTS}"); do
  if docker pull --quiet "${IMAGE}" >/dev/null; then pulled=1; break; fi
  log "pull attempt ${attempt}/${PULL_ATTEMPTS} failed"
  sleep "${attempt}"
done
[ -n "$pulled" ] || die "could not pull ${IMAGE} (registry credentials in ${DOCKER_CONFIG_DIR}/config.json)"
log "pulled ${IMAGE}"

# shellcheck source=/dev/null
source "${RUN_SPEC}"

slot_container() { if [ "$1" = blue ]; then echo "${BLUE_CONTAINER}"; else echo "${GREEN_CONTAINER}"; fi; }
slot_port() { if [ "$1" = blue ]; then echo "${BLUE_PORT}"; else echo "${GREEN_PORT}"; fi; }
container_running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

active=$(cat "${STATE_DIR}/active-slot" 2>/dev/null || true)
case "$active" in
  blue) new=green ;;
  green) new=blue ;;
  *) active=""; new=blue ;;
esac
if [ -n "$active" ] && ! container_running "$(slot_container "$active")"; then
  log "recorded live slot ${active} is not running; deploying anyway"
fi
new_container=$(slot_container "$new")
new_port=$(slot_port "$new")
readonly new_container new_port

# Restores the previous nginx files (if any) after a failed switch.
backup_dir=$(mktemp -d)
trap 'rm -rf "$backup_dir"' EXIT
for f in "${SITE_FILE}" "${UPSTREAM_FILE}"; do
  if [ -f "$f" ]; then cp -p "$f" "${backup_dir}/$(basename "$f")"; fi
done
restore_nginx() {
  local f
  for f in "${SITE_FILE}" "${UPSTREAM_FILE}"; do
    if [ -f "${backup_dir}/$(basename "$f")" ]; then cp -p "${backup_dir}/$(basename "$f")" "$f"; else rm -f "$f"; fi
  done
  if nginx_master_alive; then nginx_apply || log "previous nginx configuration no longer validates"; fi
}

# fail_new REASON: keep the old slot serving, show why the new one failed, remove it, exit non-zero.
fail_new() {
  log "deploy of ${IMAGE} failed: $1"
  log "last ${LOG_LINES} log lines of ${new_container}:"
  docker logs --tail "${LOG_LINES}" "${new_container}" 2>&1 || true
  docker rm -f "${new_container}" >/dev/null 2>&1 || true
  if [ -n "$active" ]; then die "$1 (the ${active} slot keeps serving)"; else die "$1"; fi
}

# 3. Start the idle slot beside the live one.
docker rm -f "${new_container}" >/dev/null 2>&1 || true
log "starting ${new} slot ${new_container} on 127.0.0.1:${new_port}"
"run_slot_${new}" >/dev/null || fail_new "docker run failed for ${new_container}"

# 4. Health gate: bounded wait for HEALTH_PATH to answer 2xx.
deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
healthy=""
while [ "$SECONDS" -lt "$deadline" ]; do
  container_running "${new_container}" || fail_new "${new_container} exited before becoming healthy"
  if curl -fsS -o /dev/null -m 3 "http://127.0.0.1:${new_port}${HEALTH_PATH}"; then healthy=1; break; fi
  sleep 1
done
[ -n "$healthy" ] || fail_new "${new_container} not healthy at ${HEALTH_PATH} within ${HEALTH_TIMEOUT_SECONDS}s"
log "${new_container} is healthy"

# 5. Switch nginx to the new slot (certificate first, on the first deploy).
write_file_atomic "${UPSTREAM_FILE}" 0644 <"${STATE_DIR}/upstream-${new}.conf"
if [ ! -f "${CERT_FILE}" ]; then
  log "no certificate at ${CERT_FILE}: HTTP-only site, then certbot (webroot)"
  write_file_atomic "${SITE_FILE}" 0644 <"${STATE_DIR}/nginx-http.conf"
  if ! nginx_apply; then restore_nginx; fail_new "the HTTP-only nginx site does not validate"; fi
  if [ -n "${ACME_CA_BUNDLE}" ]; then export REQUESTS_CA_BUNDLE="${ACME_CA_BUNDLE}"; fi
  # nginx's workers (not root) must read the challenge files certbot writes under the webroot: the directories
  # are made traversable even when an earlier run left them 0700, and certbot runs with umask 022.
  install -d -m 0755 "${ACME_WEBROOT}" "${ACME_WEBROOT}/.well-known" "${ACME_WEBROOT}/.well-known/acme-challenge"
  if ! (umask 022 && sh "${STATE_DIR}/issue-certificate.sh"); then restore_nginx; fail_new "certificate issuance failed"; fi
  [ -f "${CERT_FILE}" ] || { restore_nginx; fail_new "certbot finished but ${CERT_FILE} is missing"; }
fi
write_file_atomic "${SITE_FILE}" 0644 <"${STATE_DIR}/nginx-tls.conf"
if ! nginx_apply; then restore_nginx; fail_new "the TLS nginx site does not validate"; fi
echo "$new" | write_file_atomic "${STATE_DIR}/active-slot" 0644
log "nginx now routes to the ${new} slot"

# 6. Retire the old slot after in-flight requests drained (graceful: SIGTERM, then the contract's stop timeout).
if [ -n "$active" ]; then
  old_container=$(slot_container "$active")
  sleep "${DRAIN_SECONDS}"
  docker stop "${old_container}" >/dev/null 2>&1 || true
  docker rm -f "${old_container}" >/dev/null 2>&1 || true
  log "stopped the ${active} slot ${old_container}"
fi
log "deployed ${APP}: ${IMAGE} (${new} slot)"
