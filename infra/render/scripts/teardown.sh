# shellcheck shell=bash
# Inputs: STATE_DIR, SITE_FILE, UPSTREAM_FILE, NGINX_PID_FILE, BLUE_CONTAINER, GREEN_CONTAINER, SOCKET_DIR, VOLUME.
# Removes what the deploy script created: both slots, the nginx site and upstream include, the socket directory
# and the state directory (env file, credentials). Keeps the data volume and the certificates (re-deploys reuse them).

for c in "${BLUE_CONTAINER}" "${GREEN_CONTAINER}"; do
  if have docker && docker inspect "$c" >/dev/null 2>&1; then
    docker stop "$c" >/dev/null 2>&1 || true
    docker rm -f "$c" >/dev/null 2>&1 || true
    log "removed container ${c}"
  fi
done
rm -f "${SITE_FILE}" "${UPSTREAM_FILE}"
rm -rf "${SOCKET_DIR}"
if have nginx && nginx_master_alive; then nginx_apply || log "nginx configuration does not validate after removing the site"; fi
rm -rf "${STATE_DIR}"
log "removed ${STATE_DIR}; kept docker volume ${VOLUME} and the certificates"
