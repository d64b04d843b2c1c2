# shellcheck shell=bash
# Inputs: CLOUD_INIT_TIMEOUT_SECONDS, REQUIRED_COMMANDS (space-separated).
# Waits for cloud-init to finish (bounded), then checks the tools the deployment needs are installed.

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
log "host ready: ${REQUIRED_COMMANDS}"
