#!/usr/bin/env bash
# What `make run` calls after building: serves the web demo and the ShareDB WebSocket
# from one `konsil serve` on ./konsil.db, prints the URL, and stops on Ctrl-C.
# KONSIL_LISTEN overrides the address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${KONSIL_LISTEN:-127.0.0.1:8080}
if [ ! -d web-demo/dist ]; then
  echo "run-demo: web-demo/dist is missing; build it with 'make web'" >&2
  exit 1
fi
echo "Konsil demo: open http://$listen/ (Ctrl-C stops the server)"
exec build/konsil serve --listen "$listen" --db konsil.db --web web-demo/dist
