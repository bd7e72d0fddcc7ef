#!/usr/bin/env bash
# What `make run` calls after building: serves the web demo, the REST API and the
# ShareDB WebSocket from one `konsil serve` on ./konsil.db, prints the URL, and stops on
# Ctrl-C. On first run it creates demo accounts (a debt counsellor `beraterin`, a
# housing counsellor `berater` and a supervisor `supervision`) with random passwords, kept
# in konsil-demo-accounts.txt (readable only by you) and printed at every start. Case data
# is encrypted at rest under a master key, which it creates on first run for the demo in
# konsil-demo-master.key (mode 0600; protocol/keystore.md): the key store is
# konsil.db.keys. A real installation keeps its master key away from the database.
# KONSIL_LISTEN overrides the address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${KONSIL_LISTEN:-127.0.0.1:8080}
if [ ! -d web-demo/dist ]; then
  echo "run-demo: web-demo/dist is missing; build it with 'make web'" >&2
  exit 1
fi
accounts=konsil-demo-accounts.txt
master=konsil-demo-master.key
if [ ! -f "$master" ]; then
  (umask 077; openssl rand -hex 32 > "$master")
  echo "Created the demo's master key $master (mode 0600): case data is encrypted at rest"
  echo "under it (protocol/keystore.md). Losing it loses every case of this demo."
fi
demo_user() { # NAME ROLE DISPLAY [SPECIALTY]
  if build/konsil user list --db konsil.db | awk 'NR > 1 {print $1}' | grep -qx "$1"; then
    return
  fi
  local pw
  pw=$(openssl rand -base64 12 | tr -d '/+=')
  printf '%s\n' "$pw" | build/konsil user add "$1" --role "$2" --display-name "$3" \
    ${4:+--specialty "$4"} --db konsil.db > /dev/null
  (umask 077; echo "$1 / $pw ($2${4:+, $4})" >> "$accounts")
}
demo_user beraterin counsellor "Beraterin (Schulden)" debt
demo_user berater counsellor "Berater (Wohnen)" housing
demo_user supervision supervisor "Supervision"
if [ -f "$accounts" ]; then
  echo "Demo accounts (user / password), from $accounts:"
  sed 's/^/  /' "$accounts"
fi
echo "Konsil demo: open http://$listen/ and log in with an account above"
echo "(the supervisor sets up a second factor at its first login: have an authenticator app ready)"
echo "(change a password: echo NEW | build/konsil user passwd NAME --db konsil.db)"
echo "(Ctrl-C stops the server)"
exec build/konsil serve --listen "$listen" --db konsil.db --web web-demo/dist \
  --master-key-file "$master"
