#!/usr/bin/env bash
# The desktop app end to end, under Xvfb and a private D-Bus session: `e2e/run.sh [OUT_DIR]` after `cargo build`.
#
# 1. The probe: a home with four workflows and e2e/probe as the UI (PILOT_UI_DIR). The app starts its own daemon
#    (the API answers 401 without the launch's token); the probe page reads window.__PILOT_TOKEN__, lists the
#    workflows with it and reports through a webhook; a navigation away is refused; a running execution reaches the
#    tray menu; a failed one raises a desktop notification (seen on the bus); SIGTERM stops the app, which stops its
#    daemon (exit 0, lock released).
# 2. The UI: a home with one workflow and the real UI (desktop/dist when built, else the daemon's "UI not built"
#    page); a screenshot of the screen (OUT_DIR/desktop.png) must not be blank, and the daemon must have refused
#    none of the UI's API calls (it reads the token the app gives it).
# Needs xvfb-run, xauth, dbus-run-session, dbus-monitor, import and convert (imagemagick), curl, flock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app="$here/../target/debug/pilot-desktop"
out=$(mkdir -p "${1:-$(mktemp -d)}" && cd "${1:-.}" && pwd)

if [ -z "${PILOT_DESKTOP_E2E_INSIDE:-}" ]; then
    [ -x "$app" ] || { echo "e2e: $app is not built (cargo build in desktop/src-tauri)" >&2; exit 1; }
    export PILOT_DESKTOP_E2E_INSIDE=1
    exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$out"
fi

app_pid=""
monitor_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill -KILL "$app_pid" 2>/dev/null || true
    [ -n "$monitor_pid" ] && kill "$monitor_pid" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
    echo "e2e: FAILED: $*" >&2
    for log in "$out"/app-*.log; do
        [ -f "$log" ] && { echo "--- $log (last 30 lines)" >&2; tail -n 30 "$log" >&2; }
    done
    exit 1
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local seconds=$1
    shift
    for _ in $(seq $((seconds * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

# Starts the app for home $1, logging to $2; sets app_pid and url (the daemon's URL, from the log).
start_app() {
    local home=$1 log=$2
    PILOT_HOME="$home" RUST_LOG="${PILOT_E2E_LOG:-info}" "$app" >"$log" 2>&1 &
    app_pid=$!
    wait_for 60 grep -q "started a daemon for" "$log" || fail "the app did not start its daemon (log: $log)"
    url=$(sed -n 's/.*started a daemon for .* at \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$url" ] || fail "no URL in $log"
}

# Stops the app with SIGTERM: it must exit 0 after stopping its daemon and releasing the home's lock.
stop_app() {
    local home=$1 log=$2 status=0
    kill -TERM "$app_pid"
    wait "$app_pid" || status=$?
    app_pid=""
    [ "$status" = 0 ] || fail "the app exited with $status on SIGTERM"
    grep -q "stopped the daemon it started" "$log" || fail "the app did not say it stopped its daemon"
    flock -n "$home/run/daemon.lock" true || fail "the daemon lock of $home is still held"
}

# 1. The probe.
home="$out/home-probe"
rm -rf "$home" && mkdir -p "$home/workflows"
cp "$here"/workflows/*.yaml "$home/workflows/"
dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" >"$out/notifications.log" 2>&1 &
monitor_pid=$!
log="$out/app-probe.log"
PROBE_REPORT="$out/probe-report.txt" PILOT_UI_DIR="$here/probe" start_app "$home" "$log"
echo "e2e: the app started its daemon at $url"

status=$(curl -s -o /dev/null -w '%{http_code}' "${url}api/v1/workflows")
[ "$status" = 401 ] || fail "the API answered $status without the token, not 401"

wait_for 60 test -s "$out/probe-report.txt" || fail "the probe page reported nothing"
report=$(cat "$out/probe-report.txt")
expected="token=string status=200 workflows=broken,hello,probe,slow"
[ "$report" = "$expected" ] || fail "the probe page reported \`$report\`, not \`$expected\`"
echo "e2e: the page got the token and listed the workflows: $report"
wait_for 20 grep -q "not leaving the daemon's pages for http://127.0.0.1:2/elsewhere" "$log" \
    || fail "the window did not refuse to leave the daemon's pages"

curl -s -o /dev/null -X POST "${url}hooks/slow"
wait_for 30 grep -q "tray: 1 unfinished: \[slow\]" "$log" || fail "the tray menu did not list the running execution"
echo "e2e: the tray menu listed the running execution"

curl -s -o /dev/null -X POST "${url}hooks/broken"
wait_for 30 grep -q "notifying: broken failed" "$log" || fail "the app did not notify the failure"
wait_for 10 grep -q "broken failed" "$out/notifications.log" || fail "no notification reached the session bus"
echo "e2e: the failure was notified on the session bus"

stop_app "$home" "$log"
echo "e2e: SIGTERM stopped the app and its daemon (lock released)"

# 2. The UI, and a screenshot.
home="$out/home-ui"
rm -rf "$home" && mkdir -p "$home/workflows"
cp "$here/workflows/hello.yaml" "$home/workflows/"
log="$out/app-ui.log"
PILOT_E2E_LOG=info,server::api=debug start_app "$home" "$log"
shot="$out/desktop.png"
# Until the page has drawn: a screenshot with many colours (text), the same twice in a row.
colours=0
previous=""
for _ in $(seq 60); do
    sleep 1
    import -window root "$shot"
    colours=$(convert "$shot" -format '%k' info:)
    current=$(convert "$shot" -format '%#' info:)
    if [ "$colours" -gt 16 ] && [ "$current" = "$previous" ]; then break; fi
    previous=$current
done
[ "$colours" -gt 16 ] || fail "the screenshot $shot is blank ($colours colours)"
# The UI called the API with the token the app gave it: the daemon refused none of its calls.
if grep -q "no valid API token" "$log"; then fail "the UI's API calls were refused: $(grep -m1 'no valid API token' "$log")"; fi
echo "e2e: screenshot $shot ($colours colours)"
stop_app "$home" "$log"
echo "e2e: passed"
