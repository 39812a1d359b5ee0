#!/bin/bash
# The outside measurement (bench/README.md#outside): a built checkout's `citygate run` with a
# sim device of 200 points every 2 ms (100,000 readings/s offered) -> a Mosquitto of its own
# on a free loopback port, 20 s; the gateway's CPU (utime+stime) and write_bytes from /proc,
# readings from the retained health's next_seq. Run two checkouts alternately for a ratio.
# usage: bench/outside.sh CHECKOUT LABEL   (CHECKOUT built with `npm run build`; needs mosquitto,
# mosquitto_sub, python3; the data dir is under /var/tmp, on a disk, where write_bytes counts)
set -e
co=${1:?usage: bench/outside.sh CHECKOUT LABEL}; label=${2:-$1}
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
d=$(mktemp -d /var/tmp/sat-XXXX)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' $port > $d/m.conf
mosquitto -c $d/m.conf >/dev/null 2>&1 & mpid=$!
sleep 0.5
cat > $d/g.yaml <<Y
gateway: { id: sat, data_dir: $d/data }
uplink: { url: "mqtt://127.0.0.1:$port" }
health: { interval: 1s, http: false }
devices:
  - id: s
    driver: sim
    poll: 2ms
    points: [$(for i in $(seq 1 200); do printf '{ name: p%d },' $i; done | sed 's/,$//')]
Y
CITYGATE_USE_DIST=1 $co/bin/citygate.js run -c $d/g.yaml >$d/log 2>&1 & gpid=$!
sleep 8
nseq() { mosquitto_sub -p $port -t citygate/sat/health -C 1 -W 5 | python3 -c 'import json,sys;h=json.load(sys.stdin);print(h["buffer"]["next_seq"])'; }
ticks() { awk '{print $14+$15}' /proc/$gpid/stat; }
wb() { awk '/^write_bytes/{print $2}' /proc/$gpid/io; }
s0=$(nseq); t0=$(ticks); w0=$(wb); T0=$(date +%s.%N)
sleep 20
s1=$(nseq); t1=$(ticks); w1=$(wb); T1=$(date +%s.%N)
kill $gpid; wait $gpid 2>/dev/null || true; kill $mpid
python3 -c "
n=$s1-$s0; cpu=($t1-$t0)/100; dt=$T1-$T0
print(f'$label: {n/dt:,.0f} readings/s, {cpu/dt*100:.0f}% of a core, {cpu/n*1e6:.1f} us/reading, {($w1-$w0)/n:.1f} B/reading written')"
rm -rf $d
