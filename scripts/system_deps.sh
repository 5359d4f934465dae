#!/usr/bin/env bash
# The Debian packages the tests need beyond Python: WeasyPrint's Pango/HarfBuzz and fonts (PDFs),
# Chromium (browser journeys, /usr/bin/chromium) and Redis (rate limits and the RQ worker,
# tests/test_redis.py). Installs the missing ones when it can (root or password-less sudo); otherwise
# says what is missing. REQUIRE_SYSTEM_DEPS=1 (CI) makes that fatal.
set -uo pipefail

packages=(chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core redis-server)
need=()
for pkg in "${packages[@]}"; do
  if [ "$pkg" = redis-server ] && command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    continue  # a Redis installed otherwise will do
  fi
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt=(sudo -n apt-get)
else
  echo "Paquets Debian manquants : ${need[*]} (installez-les : apt-get install ${need[*]})." >&2
  [ "${REQUIRE_SYSTEM_DEPS:-0}" = "1" ] && exit 1
  echo "Les tests qui en dépendent seront ignorés, avec leur raison." >&2
  exit 0
fi

echo "Installation des paquets Debian : ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
status=$?
if [ $status -ne 0 ]; then
  echo "L'installation de ${need[*]} a échoué." >&2
  [ "${REQUIRE_SYSTEM_DEPS:-0}" = "1" ] && exit 1
fi
exit 0
