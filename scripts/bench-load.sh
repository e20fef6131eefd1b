#!/usr/bin/env bash
# Load tester speed on loopback against nginx serving a 64 MB file:
#  1. bytes/s of `fleetsim load` with 64 concurrent downloads vs wrk (or oha) with 64
#     connections on the same file (goal: fleetsim >= 80% of the tool);
#  2. peak RSS of `fleetsim load` with 2,000 concurrent downloads (goal: < 200 MB).
# Needs nginx and wrk (apt-get install nginx wrk) or oha (cargo install oha).
# Usage: scripts/bench-load.sh [seconds per tool run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
ulimit -n 65536 2>/dev/null || ulimit -n 8192 || true

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx not found (apt-get install nginx)"; exit 1; }
cargo build --release -q
fleetsim=target/release/fleetsim

tmp=$(mktemp -d)
trap 'kill $(cat "$tmp/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/SMS_DP_SMSPKG\$"
head -c 64000000 /dev/urandom > "$tmp/root/SMS_DP_SMSPKG\$/P1"
for i in 2 3 4 5 6 7 8; do ln -s P1 "$tmp/root/SMS_DP_SMSPKG\$/P$i"; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=""; [ "$(id -u)" = 0 ] && user="user root;"
cat > "$tmp/nginx.conf" <<EOF
$user
worker_processes 2;
error_log $tmp/error.log;
pid $tmp/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $tmp/b; proxy_temp_path $tmp/p; fastcgi_temp_path $tmp/f;
    uwsgi_temp_path $tmp/u; scgi_temp_path $tmp/s;
    sendfile on; tcp_nopush on; keepalive_requests 1000000;
    server { listen 127.0.0.1:$port; root $tmp/root; location / { } }
}
EOF
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf"
sleep 0.5
url="http://127.0.0.1:$port/SMS_DP_SMSPKG\$/P1"

# 1a. The reference tool, 64 connections.
if command -v wrk >/dev/null; then
    tool=wrk
    out=$(wrk -t2 -c64 -d"${secs}s" --timeout 60s "$url")
    echo "$out" | sed 's/^/  wrk: /'
    ref=$(echo "$out" | awk '/Transfer\/sec/ {v=$2; u=substr(v,length(v)-1); n=substr(v,1,length(v)-2);
        m=(u=="GB")?2^30:(u=="MB")?2^20:(u=="KB")?2^10:1; printf "%.0f", n*m}')
elif command -v oha >/dev/null; then
    tool=oha
    out=$(oha -c 64 -z "${secs}s" --no-tui --output-format json "$url")
    ref=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["summary"]["sizePerSec"]))')
else
    echo "neither wrk nor oha found"; exit 1
fi

# 1b. fleetsim: 64 clients start at once, each downloads P1..P8 in turn.
scen() { # clients steps
    local clients=$1 steps=$2
    cat <<EOF
name = "bench-load"
[simulation]
horizon = "2d"
bandwidth_interval = "1s"
[fleet]
clients = $clients
network = { wired = 1.0 }
[[sites]]
name = "HQ"
distribution_points = ["DP1"]
[[distribution_points]]
name = "DP1"
bandwidth = "100Gbps"
[deployment]
user_start = "0s"
[client]
policy_poll = "0s"
[task_sequence]
EOF
    for i in $(seq 1 "$steps"); do
        printf '[[content]]\nid = "P%d"\nkind = "package"\nsize = "64MB"\n' "$i"
    done
    for i in $(seq 1 "$steps"); do
        printf '[[task_sequence.steps]]\ntype = "download"\nname = "D%d"\ncontent = ["P%d"]\n' "$i" "$i"
    done
}
# Content goes before [task_sequence] in TOML terms only by table name, so order is free.
scen 64 8 > "$tmp/bench64.toml"
"$fleetsim" load "$tmp/bench64.toml" --target "http://127.0.0.1:$port/SMS_DP_SMSPKG\$/{content}" \
    --out "$tmp/r64" --quiet
read -r bytes wall <<<"$(python3 -c "import json; d=json.load(open('$tmp/r64/summary.json')); print(d['bytes']['total'], d['run']['wall_s'])")"
ours=$(python3 -c "print(int($bytes / $wall))")
python3 - "$tool" "$ref" "$ours" "$bytes" "$wall" <<'EOF'
import sys
tool, ref, ours, b, w = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"64 concurrent: {tool} {ref/1e9:.2f} GB/s, fleetsim {ours/1e9:.2f} GB/s ({b} bytes in {float(w):.2f} s) -> {100*ours/ref:.0f}% (goal >= 80%)")
EOF

# 2. Peak RSS at 2,000 concurrent downloads (8 MB each so the run takes seconds).
scen 2000 1 > "$tmp/bench2000.toml"
"$fleetsim" load "$tmp/bench2000.toml" --target "http://127.0.0.1:$port/SMS_DP_SMSPKG\$/{content}" \
    --size-scale 0.125 --max-connections 2000 --out "$tmp/r2000" --quiet
python3 - "$tmp/r2000/summary.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
peak = d["peak"]["by_dp"]["DP1"]["active_downloads"]
rss = d["run"]["peak_rss_bytes"] / 1e6
print(f"2000 clients: peak {peak} concurrent downloads, {d['bytes']['total']} bytes in {d['run']['wall_s']:.2f} s, "
      f"peak RSS {rss:.0f} MB (goal < 200 MB), succeeded {d['outcomes']['succeeded']}")
EOF
