# shellcheck shell=bash
# Inputs: STAGING_DIR. Removes the staging directory (the deployment's own delete removed everything else).
rm -rf "${STAGING_DIR}"
log "removed ${STAGING_DIR}"
