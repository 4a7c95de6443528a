#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (browser downloads are impossible here): install it once.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "Debian's chromium is missing and this is not root: install it with 'sudo apt-get install chromium'." >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
