# shellcheck shell=bash
# Inputs: HOST_ID, STATE_DIR, UPSTREAM_DIR, ACME_WEBROOT.
# The site's lifecycle command (create; teardown is its delete): creates the directories the deployment uses on host
# HOST_ID. Idempotent: it runs again, harmlessly, whenever the host changes. The state directory holds secrets
# (env file, registry credentials): root only.

# Parents first, traversable (umask 077 would make them 0700).
install -d -m 0755 "$(dirname "${STATE_DIR}")"
install -d -m 0700 -o root -g root "${STATE_DIR}"
# An earlier state directory with looser rights is tightened, not trusted.
chown root:root "${STATE_DIR}"
chmod 0700 "${STATE_DIR}"
install -d -m 0755 "${UPSTREAM_DIR}" "${ACME_WEBROOT}"
log "prepared ${STATE_DIR} on host ${HOST_ID}"
