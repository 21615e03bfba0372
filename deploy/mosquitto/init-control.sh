#!/bin/sh
# One-shot (the Compose service broker-control): makes the broker's dynamic-security file with the
# portal's control account, and writes that account's URL for the portal (BROKER_CONTROL_URL_FILE).
# Both are made once, together; a second run keeps them. `dynsec init` gives the account the role
# `admin`: the dynsec commands, and subscribing to and receiving every topic (the portal's presence
# subscribes to owntracks/+/+ with it). The password is random and lives only in
# the URL file (the dynsec file keeps a salted hash), which only the portal's user can read.
set -eu

DYNSEC_FILE=${DYNSEC_FILE:-/mosquitto/data/dynsec.json}
URL_FILE=${URL_FILE:-/broker-control/url}
CONTROL_USER=${CONTROL_USER:-enroll-control}
CONTROL_HOST=${CONTROL_HOST:-mosquitto}
CONTROL_PORT=${CONTROL_PORT:-1884}

umask 077
if [ -s "$DYNSEC_FILE" ] && [ -s "$URL_FILE" ]; then
  echo "broker-control: $DYNSEC_FILE and $URL_FILE exist; nothing to do"
  exit 0
fi
if [ -s "$DYNSEC_FILE" ]; then
  # The password is not recoverable from the dynsec file: say what to do rather than make a second account.
  echo "broker-control: $DYNSEC_FILE exists but $URL_FILE does not. Set a new password with" >&2
  echo "  mosquitto_ctrl -u <admin> dynsec setClientPassword $CONTROL_USER <password>" >&2
  echo "and write mqtt://$CONTROL_USER:<password>@$CONTROL_HOST:$CONTROL_PORT to $URL_FILE" >&2
  exit 1
fi

# 192 random bits; letters and digits only, so the URL needs no escaping.
password=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32)
# Both files are made under temporary names, given to OWNER (run as root, as Compose does: the
# broker reads the dynsec file, the portal the URL, both as OWNER) and renamed last, the dynsec file
# after the URL: a failure or a kill on the way leaves no dynsec file whose password nobody has (every
# later run would stop at the message above), only temporary files the next run makes again.
rm -f "$URL_FILE.tmp" "$DYNSEC_FILE.tmp"
printf 'mqtt://%s:%s@%s:%s\n' "$CONTROL_USER" "$password" "$CONTROL_HOST" "$CONTROL_PORT" >"$URL_FILE.tmp"
mosquitto_ctrl dynsec init "$DYNSEC_FILE.tmp" "$CONTROL_USER" "$password" >/dev/null
if [ -n "${OWNER:-}" ] && [ "$(id -u)" = 0 ]; then
  chown "$OWNER" "$DYNSEC_FILE.tmp" "$URL_FILE.tmp" "$(dirname "$URL_FILE")"
fi
mv "$URL_FILE.tmp" "$URL_FILE"
mv "$DYNSEC_FILE.tmp" "$DYNSEC_FILE"
echo "broker-control: made the control account $CONTROL_USER in $DYNSEC_FILE and wrote $URL_FILE"
