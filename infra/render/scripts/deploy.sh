# shellcheck shell=bash
# Inputs: HOST_ID, APP, IMAGE, STATE_DIR, ENV_FILE, SITE_FILE (empty: no site of its own), UPSTREAM_FILE, NGINX_PID_FILE, CERT_FILE, DEPLOY_HOOK_PATH,
#         STAGED_FILES (space-separated names the bundle must hold), HEALTH_PATH, HEALTH_TIMEOUT_SECONDS, DRAIN_SECONDS,
#         PULL_ATTEMPTS, LOG_LINES, BLUE_CONTAINER, GREEN_CONTAINER, SOCKET_DIR, SOCKET_NAME.
# stdin: the bundle (renderBundle): `<name> <base64>` per staged file, then `end <count>`.
# Blue/green deploy of IMAGE (pinned by digest) on host HOST_ID: start the idle slot beside the live one, wait for its
# health endpoint on its unix socket, re-point SOCKET_DIR/live.sock (the address in nginx's upstream include) at it,
# then stop the old slot and prune older images. nginx is reloaded only when its own files changed (why: docs/infra.md, "Zero-downtime switch without an nginx reload"). On any failure the
# old slot keeps serving, the new container's last log lines are printed, and the script exits non-zero.
# Without a certificate (first deploy on this host) the HTTP-only site serves; the certificate command issues one.
# With SITE_FILE empty the deployment has no site (a server behind SelfHostedMcp's gateway): it installs only its
# upstream include, and the deployment that owns the domain's site routes to it.
# This script is the deploy command's create AND update: it never removes the site (teardown is the lifecycle
# command's delete), so every step the engine can take on it leaves the site serving.

require_commands docker nginx curl base64 pgrep
readonly DOCKER_CONFIG_DIR="${STATE_DIR}/docker"
readonly RUN_SPEC="${STATE_DIR}/run-spec.sh"
[ -d "${STATE_DIR}" ] || die "${STATE_DIR} is missing: the site command prepares it on host ${HOST_ID}"

backup_dir=$(mktemp -d)
bundle_dir=$(mktemp -d "${STATE_DIR}/.bundle.XXXXXX")
trap 'rm -rf "$backup_dir" "$bundle_dir"' EXIT

# 1. The bundle on stdin -> a private directory (inside the root-only state directory), checked complete.
read_bundle() {
  local name data count=0 want
  read -r -a want <<<"${STAGED_FILES}"
  while IFS=' ' read -r name data; do
    if [ "$name" = end ]; then
      if [ "$data" != "${#want[@]}" ] || [ "$count" -ne "${#want[@]}" ]; then
        die "deploy bundle on stdin: ${count} files and end line '${data}', expected ${#want[@]}"
      fi
      return 0
    fi
    case " ${STAGED_FILES} " in *" ${name} "*) ;; *) die "deploy bundle on stdin: unexpected entry '${name}'" ;; esac
    [ ! -e "${bundle_dir}/${name}" ] || die "deploy bundle on stdin: ${name} twice"
    printf '%s' "$data" | base64 -d >"${bundle_dir}/${name}" || die "deploy bundle on stdin: ${name} is not base64"
    count=$((count + 1))
    [ "$count" -le "${#want[@]}" ] || die "deploy bundle on stdin: more than ${#want[@]} files"
  done
  die "deploy bundle on stdin ended after ${count} of ${#want[@]} files (no end line)"
}
read_bundle
# install_bundled NAME DEST MODE: a file of the bundle -> its place, owned by root (skipped when the bundle has no NAME).
install_bundled() {
  [ -f "${bundle_dir}/$1" ] || return 0
  mkdir -p "$(dirname "$2")"
  install -m "$3" -o root -g root "${bundle_dir}/$1" "$2"
}
install_bundled env "${ENV_FILE}" 0600
install_bundled docker-config.json "${DOCKER_CONFIG_DIR}/config.json" 0600
install_bundled run-spec.sh "${RUN_SPEC}" 0644
install_bundled nginx-http.conf "${STATE_DIR}/nginx-http.conf" 0644
install_bundled nginx-tls.conf "${STATE_DIR}/nginx-tls.conf" 0644
install_bundled upstream.conf "${STATE_DIR}/upstream.conf" 0644
install_bundled issue-certificate.sh "${STATE_DIR}/issue-certificate.sh" 0700
install_bundled certbot-deploy-hook "${DEPLOY_HOOK_PATH}" 0755
log "installed ${STAGED_FILES}"

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
slot_socket() { echo "${SOCKET_DIR}/$1/${SOCKET_NAME}"; }
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
new_socket=$(slot_socket "$new")
readonly new_container new_socket
readonly live_link="${SOCKET_DIR}/live.sock"

# point_live SLOT: re-point live.sock at SLOT's socket (atomic rename); no SLOT: remove it. New nginx upstream
# connections go to SLOT at once; cached ones are reused for at most 1 s (keepalive_time), then closed by nginx.
point_live() {
  if [ -z "$1" ]; then rm -f "${live_link}"; return; fi
  ln -sfn "$1/${SOCKET_NAME}" "${live_link}.tmp"
  mv -Tf "${live_link}.tmp" "${live_link}"
}

# Restores the previous nginx files (if any) after a failed switch.
nginx_files=("${UPSTREAM_FILE}")
if [ -n "${SITE_FILE}" ]; then nginx_files+=("${SITE_FILE}"); fi
for f in "${nginx_files[@]}"; do
  if [ -f "$f" ]; then cp -p "$f" "${backup_dir}/$(basename "$f")"; fi
done
restore_nginx() {
  local f
  for f in "${nginx_files[@]}"; do
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

# apply_nginx_files ON_FAILURE: nginx's files of this deploy in place; nginx re-reads them only if they changed (or
# its master is not running); a configuration that does not validate calls ON_FAILURE with the reason.
nginx_changed=""
# stage_nginx SRC DEST: install SRC at DEST when they differ, and remember that nginx must reload.
stage_nginx() {
  if ! cmp -s "$1" "$2"; then write_file_atomic "$2" 0644 <"$1"; nginx_changed=1; fi
}
apply_nginx_files() {
  local on_failure=$1 site_phase=none what
  stage_nginx "${STATE_DIR}/upstream.conf" "${UPSTREAM_FILE}"
  if [ -z "${SITE_FILE}" ]; then
    log "no site of its own: routed by the deployment that owns the domain's site"
  elif [ -f "${CERT_FILE}" ]; then
    site_phase=tls
  else
    site_phase=http
    log "no certificate at ${CERT_FILE} yet: HTTP-only site (the certificate command issues one)"
  fi
  if [ "${site_phase}" != none ]; then stage_nginx "${STATE_DIR}/nginx-${site_phase}.conf" "${SITE_FILE}"; fi
  if [ -n "$nginx_changed" ] || ! nginx_master_alive; then
    if [ "${site_phase}" = none ]; then what="the nginx configuration with ${UPSTREAM_FILE}"; else what="the ${site_phase} nginx site"; fi
    nginx_apply || "${on_failure}" "${what} does not validate"
  else
    log "nginx configuration unchanged: no reload (client connections stay open)"
  fi
}

# 2b. The server itself unchanged (same image digest, env file and run spec as the live slot, which is running and
#     healthy): it keeps serving — no new container, so its sessions and connections stay — and only nginx's files
#     are applied (e.g. a rate-limit change). LIVE_SPEC: a digest of those three, written when a slot goes live.
readonly LIVE_SPEC="${STATE_DIR}/live-server-spec"
# keep_live REASON: previous nginx files back; the live slot was never touched.
keep_live() { restore_nginx; die "$1 (the ${active} slot keeps serving)"; }
server_spec=$({ printf '%s\n' "${IMAGE}"; cat "${ENV_FILE}" 2>/dev/null || true; cat "${RUN_SPEC}"; } | sha256sum | cut -d' ' -f1)
readonly server_spec
if [ -n "$active" ] && [ "$(cat "${LIVE_SPEC}" 2>/dev/null || true)" = "${server_spec}" ] \
  && container_running "$(slot_container "$active")" \
  && curl -fsS -o /dev/null -m 3 --unix-socket "$(slot_socket "$active")" "http://localhost${HEALTH_PATH}"; then
  log "server unchanged (image, env, run spec): the ${active} slot keeps serving, no new container"
  apply_nginx_files keep_live
  log "deployed ${APP}: ${IMAGE} (${active} slot, kept)"
  exit 0
fi

# 3. Start the idle slot beside the live one. Socket directories: nginx's workers traverse them; the server (whatever
#    its uid) creates its socket in its slot's directory (sticky and not listable, like /tmp; one socket per slot).
install -d -m 0755 "${SOCKET_DIR}"
install -d -m 1733 "${SOCKET_DIR}/blue" "${SOCKET_DIR}/green"
docker rm -f "${new_container}" >/dev/null 2>&1 || true
rm -f "${new_socket}"
log "starting ${new} slot ${new_container} (socket ${new_socket})"
"run_slot_${new}" >/dev/null || fail_new "docker run failed for ${new_container}"

# 4. Health gate: bounded wait for HEALTH_PATH to answer 2xx on the new slot's socket (the path nginx will use).
deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
healthy=""
while [ "$SECONDS" -lt "$deadline" ]; do
  container_running "${new_container}" || fail_new "${new_container} exited before becoming healthy"
  if [ -S "${new_socket}" ] && curl -fsS -o /dev/null -m 3 --unix-socket "${new_socket}" "http://localhost${HEALTH_PATH}"; then healthy=1; break; fi
  sleep 1
done
if [ -z "$healthy" ] && [ ! -S "${new_socket}" ]; then
  fail_new "${new_container} never listened on its unix socket (LISTEN_SOCKET in the container, ${new_socket} on the host) within ${HEALTH_TIMEOUT_SECONDS}s: a deployed server must serve HTTP there as well as on PORT"
fi
[ -n "$healthy" ] || fail_new "${new_container} not healthy at ${HEALTH_PATH} within ${HEALTH_TIMEOUT_SECONDS}s"
log "${new_container} is healthy"

# 5. Switch to the new slot: re-point live.sock; nginx re-reads its configuration only if its files changed (and
#    gets the certificate first, on the first deploy). A failure restores the previous files and link.
# rollback REASON: previous nginx files and live link back, then fail_new.
rollback() { restore_nginx; point_live "$active"; fail_new "$1"; }
point_live "$new"
apply_nginx_files rollback
echo "$new" | write_file_atomic "${STATE_DIR}/active-slot" 0644
echo "${server_spec}" | write_file_atomic "${LIVE_SPEC}" 0600
log "nginx now routes to the ${new} slot"

# 6. Retire the old slot once nginx no longer reuses connections to it (DRAIN_SECONDS >= 2 > its 1 s reuse), then
#    SIGTERM: the server drains what it still has, within the contract's stop timeout.
old_image=""
if [ -n "$active" ]; then
  old_container=$(slot_container "$active")
  old_image=$(docker inspect -f '{{.Image}}' "${old_container}" 2>/dev/null || true)
  sleep "${DRAIN_SECONDS}"
  docker stop "${old_container}" >/dev/null 2>&1 || true
  docker rm -f "${old_container}" >/dev/null 2>&1 || true
  log "stopped the ${active} slot ${old_container}"
fi

# 7. Prune: images of IMAGE's repository other than the new one and the one just retired (kept for a manual
#    rollback) are removed, so repeated deploys do not fill the disk. Best effort: never fails a deploy. Several
#    deployments on one host may share a repository (one DOCR starter repository, a tag per server): each records
#    the images it keeps in STATE_DIR/kept-images, and no deployment removes another's.
prune_images() {
  local repo=${IMAGE%@*} current id keep
  current=$(docker image inspect -f '{{.Id}}' "${IMAGE}" 2>/dev/null) || return 0
  printf '%s\n' "${current}" "${old_image}" | write_file_atomic "${STATE_DIR}/kept-images" 0644
  keep=" $(cat "$(dirname "${STATE_DIR}")"/*/kept-images 2>/dev/null | tr '\n' ' ') "
  for id in $(docker image ls --no-trunc --quiet "${repo}" 2>/dev/null | sort -u); do
    case "$keep" in *" ${id} "*) continue ;; esac
    if docker image rm "$id" >/dev/null 2>&1; then log "removed old image ${id}"; fi
  done
}
prune_images
log "deployed ${APP}: ${IMAGE} (${new} slot)"
