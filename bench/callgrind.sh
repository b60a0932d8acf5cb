#!/usr/bin/env bash
# Instructions per request of one page, counted by valgrind's callgrind: the
# same figure on every run of the same binary and database, whatever else
# the machine is doing (timings on 2 shared cores vary by ±30 %).
#
# Usage: bench/callgrind.sh DATA_DIR [PATH] [REQUESTS]
#   DATA_DIR  the directory of a database kept by
#             `target/release/examples/bench --keep-db` (it holds
#             bench.sqlite; the path is printed as "kept the database")
#   PATH      the page to request, signed in as the bench's staff user
#             (default /staff/users)
#   REQUESTS  how many sequential requests are counted (default 200)
#
# Needs valgrind and python3. Writes the profile to
# target/callgrind.<pid>.out (open it with callgrind_annotate) and prints
# the instructions per request, all threads, user space only.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?the data directory of a kept bench database}
path=${2:-/staff/users}
n=${3:-200}
bin=$PWD/target/release/ixp-portal
[ -x "$bin" ] || cargo build --release --bin ixp-portal
port=$((20000 + RANDOM % 20000))
out=$PWD/target/callgrind.$$.out
key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')
(
  cd "$dir"
  PORTAL_BIND=127.0.0.1:$port APP_URL=http://127.0.0.1:$port \
    DATABASE_URL="sqlite:$dir/bench.sqlite" PORTAL_DATA_DIR="$dir" \
    SESSION_KEY="$key" RUST_LOG=warn \
    exec valgrind --tool=callgrind --callgrind-out-file="$out" --instr-atstart=no "$bin" serve
) >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT

client() {
  python3 - "$port" "$path" "$n" "$1" <<'PY'
import http.client, re, sys, time, urllib.parse
port, path, n, stage = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
cookie_file = f"/tmp/ixp-callgrind-{port}.cookie"
def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)
if stage == "sign-in":
    for _ in range(1200):
        try:
            c = conn(); c.request("GET", "/healthz"); r = c.getresponse(); r.read()
            if r.status == 200:
                break
        except OSError:
            time.sleep(0.1)
    c = conn()
    c.request("GET", "/login"); r = c.getresponse(); page = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": "bench", "password": "benchmark password", "csrf": csrf})
    c.request("POST", "/login", body=form, headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse(); r.read()
    assert r.status == 303, f"staff sign-in answered {r.status}"
    cookies = [v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie"]
    open(cookie_file, "w").write("; ".join(cookies))
    n = 20  # warm the caches and prepared statements
else:
    c = conn()
cookie = open(cookie_file).read()
for _ in range(n):
    c.request("GET", path, headers={"Cookie": cookie}); r = c.getresponse(); r.read()
    assert r.status == 200, f"{path} answered {r.status}"
PY
}

client sign-in
# At start-up the server reads the user search's trigram counts in the
# background (0.2 s natively, tens of seconds under valgrind for 100,000
# users): let that finish before counting (SETTLE_SECONDS, default 40).
sleep "${SETTLE_SECONDS:-40}"
callgrind_control -i on "$server" >/dev/null 2>&1
client count
callgrind_control -i off "$server" >/dev/null 2>&1
kill -INT "$server"
wait "$server" 2>/dev/null || true
trap - EXIT
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
echo "$path: $((total / n)) instructions per request ($n requests, profile $out)"
