# shellcheck shell=bash
# Inputs: STATE_DIR, STAGING_DIR, UPSTREAM_DIR, ACME_WEBROOT.
# Creates the directories the deployment uses. The staging directory receives the copied files (some secret):
# owned by the SSH user, mode 0700, so nothing else on the host can read them before they are installed.

owner=${SUDO_USER:-root}
# Parents first, traversable: the SSH user must reach the staging directory (umask 077 would make them 0700).
install -d -m 0755 "$(dirname "${STATE_DIR}")" "$(dirname "${STAGING_DIR}")"
install -d -m 0700 -o root -g root "${STATE_DIR}"
install -d -m 0700 -o "$owner" "${STAGING_DIR}"
install -d -m 0755 "${UPSTREAM_DIR}" "${ACME_WEBROOT}"
# An earlier staging directory with looser rights (or another owner) is tightened, not trusted.
chown "$owner" "${STAGING_DIR}"
chmod 0700 "${STAGING_DIR}"
log "prepared ${STATE_DIR} and ${STAGING_DIR} (owner ${owner})"
