# shellcheck shell=bash
# Inputs: HOST_ID, CLOUD_INIT_TIMEOUT_SECONDS, REQUIRED_COMMANDS (space-separated), SWAP_MB, SWAP_FILE.
# Waits for cloud-init to finish (bounded), checks the tools the deployment needs, then sizes the swap file: SWAP_MB
# of SWAP_FILE (0: none). Swap lives here, not in the user-data, so a droplet resize (an in-place update) adjusts it
# without replacing the droplet. Runs again whenever its inputs change (new host, new size).

if have cloud-init; then
  status=$(cloud-init status 2>/dev/null || true)
  case "$status" in
    *"not run"* | *disabled*)
      log "cloud-init did not provision this host (${status//$'\n'/ }); nothing to wait for" ;;
    *)
      log "waiting up to ${CLOUD_INIT_TIMEOUT_SECONDS}s for cloud-init"
      rc=0
      timeout "${CLOUD_INIT_TIMEOUT_SECONDS}" cloud-init status --wait >/dev/null || rc=$?
      case "$rc" in
        0) log "cloud-init finished" ;;
        2) log "cloud-init finished with recoverable errors:"; cloud-init status --long || true ;;
        124) die "cloud-init still running after ${CLOUD_INIT_TIMEOUT_SECONDS}s (see /var/log/cloud-init-output.log)" ;;
        *) cloud-init status --long || true; die "cloud-init failed (exit ${rc}); see /var/log/cloud-init-output.log" ;;
      esac ;;
  esac
else
  log "cloud-init is not installed; nothing to wait for"
fi

read -r -a required <<<"${REQUIRED_COMMANDS}"
require_commands "${required[@]}"

# Swap: SWAP_FILE is ours (a name nothing else uses), so its /etc/fstab line is found by its path; nothing else is touched.
want=$((SWAP_MB * 1024 * 1024))
have_bytes=$(stat -c %s "${SWAP_FILE}" 2>/dev/null || echo 0)
if [ "$have_bytes" -ne "$want" ]; then
  if [ -f "${SWAP_FILE}" ]; then
    swapoff "${SWAP_FILE}" 2>/dev/null || true
    rm -f "${SWAP_FILE}"
  fi
  if [ -f /etc/fstab ]; then
    { grep -v "^${SWAP_FILE} " /etc/fstab || true; } | write_file_atomic /etc/fstab 0644
  fi
  if [ "$want" -gt 0 ]; then
    fallocate -l "$want" "${SWAP_FILE}" 2>/dev/null || dd if=/dev/zero of="${SWAP_FILE}" bs=1M count="${SWAP_MB}" status=none
    chmod 0600 "${SWAP_FILE}"
    mkswap "${SWAP_FILE}" >/dev/null
    swapon "${SWAP_FILE}" || die "swapon ${SWAP_FILE} failed"
    printf '%s none swap sw 0 0\n' "${SWAP_FILE}" >>/etc/fstab
    log "swap: ${SWAP_MB} MB in ${SWAP_FILE}"
  else
    log "swap: none"
  fi
fi
log "host ${HOST_ID} ready: ${REQUIRED_COMMANDS}"
