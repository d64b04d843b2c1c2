#!/usr/bin/env bash
# The images' HEALTHCHECK (server/Dockerfile, gateway/Dockerfile): GET /livez on the container's own HOST and PORT
# (the run contract, contract/run-contract.ts); exit 0 on a 200 status line, 1 otherwise. Docker bounds each run with
# --health-timeout (healthTimeout, 3 s); the status line is awaited at most 2 s.
# Bash's /dev/tcp instead of a `node -e` fetch: a node probe costs ~190 ms of CPU and ~63 MB of RSS inside the
# container's memory limit every healthInterval (default 30 s), this ~3 ms and ~3 MB (BENCHMARKS.md, "Health probe").
# The image has no curl.
host=${HOST:-127.0.0.1}
port=${PORT:-8000}
case ${host} in *:*) authority="[${host}]:${port}" ;; *) authority="${host}:${port}" ;; esac
exec 3<>"/dev/tcp/${host}/${port}" || exit 1
printf 'GET /livez HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "${authority}" >&3 || exit 1
IFS=' ' read -r -t 2 _ status _ <&3 || exit 1
[ "${status}" = 200 ]
