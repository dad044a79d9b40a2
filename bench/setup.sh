#!/usr/bin/env bash
# Installs the peers the benchmark compares against: nginx (the target), wrk, Locust and GNU time
# from Debian, autocannon from npm (into bench/.tools). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
for pkg in nginx wrk python3-locust time; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x .tools/node_modules/.bin/autocannon ]; then
  npm install --silent --no-audit --no-fund --prefix .tools autocannon@9.0.0 >/dev/null
fi
echo "bench: nginx $(nginx -v 2>&1 | sed 's/.*\///'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), locust $(dpkg-query -W -f='${Version}' python3-locust 2>/dev/null || echo '?'), autocannon $(node -p 'require("./.tools/node_modules/autocannon/package.json").version')"
