#!/usr/bin/env bash
# Builds the image with the shared ../shared/tools/verify-dockerfile.sh (as root, from the
# committed state; about 6 minutes), then checks its health check: the container runs against
# a fake Bot API and a fake site on loopback, podman must report it healthy, and unhealthy
# once the site has been failing for longer than alert_after_secs. Removes its work dir.
# Usage (from the project root): sudo bash tools/verify-docker-health.sh
#   TOOL=the shared tool (default ../shared/tools/verify-dockerfile.sh), W=work dir
set -euo pipefail
ROOT=$(git rev-parse --show-toplevel)
TOOL=${TOOL:-$ROOT/../shared/tools/verify-dockerfile.sh}
W=${W:-$(mktemp -d /tmp/verify-docker-health.XXXXXX)}
TG_PORT=${TG_PORT:-18091}
SITE_PORT=${SITE_PORT:-18092}
NAME=embassy-bot-health
PIDS=()
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ! mountpoint -q "$W/store/overlay" 2>/dev/null || umount "$W/store/overlay" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
log() { printf '\n=== %s\n' "$*"; }

# podman writes OCI images by default, and the OCI format has no HEALTHCHECK: build in
# Docker's format, as `docker build` does.
export BUILDAH_FORMAT=docker
W="$W" bash "$TOOL"
export CONTAINERS_CONF=$W/containers.conf CONTAINERS_STORAGE_CONF=$W/storage.conf
IMG=embassy-bot:orig

log "health check in the image"
check=$(podman image inspect "$IMG" --format '{{json .Config.Healthcheck}}')
echo "$check"
case "$check" in *healthcheck*) ;; *) echo "the image has no HEALTHCHECK running 'embassy-bot healthcheck'" >&2; exit 1 ;; esac

log "container against a fake Bot API and a fake site"
python3 "$W/fake_tg.py" "$TG_PORT" >"$W/fake_tg_health.log" 2>&1 &
PIDS+=($!)
mkdir -p "$W/site"
cp "$ROOT/tests/fixtures/rusemb/home-2022-05-21.html" "$W/site/home.html"
python3 -m http.server --bind 127.0.0.1 --directory "$W/site" "$SITE_PORT" >"$W/site.log" 2>&1 &
SITE=$!
PIDS+=($SITE)
cat >"$W/config.toml" <<TOML
[[sources]]
name = "home"
url = "http://127.0.0.1:$SITE_PORT/home.html"
interval_secs = 2
max_age_days = 36500
alert_after_secs = 5
TOML
chmod 644 "$W/config.toml"
listening() { # listening PORT: wait until something accepts connections there
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "nothing listens on port $1" >&2
  return 1
}
listening "$TG_PORT"
listening "$SITE_PORT"
podman run -d --name "$NAME" --network host -v "$W/config.toml:/etc/embassy-bot/config.toml:ro" \
  -e EMBASSY_BOT_CONFIG=/etc/embassy-bot/config.toml -e TELOXIDE_TOKEN=123:abc \
  -e TELOXIDE_API_URL="http://127.0.0.1:$TG_PORT/" "$IMG" >/dev/null

# Without systemd, podman runs a container's health check only when asked: ask every second.
wait_for() { # wait_for STATUS SECONDS
  for _ in $(seq "$2"); do
    podman healthcheck run "$NAME" >/dev/null 2>&1 || true
    status=$(podman inspect "$NAME" --format '{{.State.Health.Status}}')
    [ "$status" = "$1" ] && { echo "container is $status"; return 0; }
    sleep 1
  done
  echo "container never became $1 (last: $status)" >&2
  podman logs "$NAME" 2>&1 | tail -n 20 >&2
  return 1
}
wait_for healthy 60
podman exec "$NAME" /usr/local/bin/embassy-bot healthcheck
# The container shares the host's network: its /readyz says the site was read.
for _ in $(seq 30); do
  curl --noproxy '*' -fsS "http://127.0.0.1:9184/readyz" && { echo; break; }
  sleep 1
done
curl --noproxy '*' -fsS -o /dev/null "http://127.0.0.1:9184/readyz"
curl --noproxy '*' -fsS "http://127.0.0.1:9184/feed.atom" | grep -c '<entry>' | sed 's/^/feed entries: /'

# Failed checks count only after the image's 60 s start period.
log "the site goes away: unhealthy after alert_after_secs and three failed checks"
kill "$SITE"
wait_for unhealthy 120
podman exec "$NAME" /usr/local/bin/embassy-bot healthcheck && exit 1 || echo "healthcheck exit $? (expected 1)"
echo "docker health check: OK"
