#!/bin/bash
# Idle measurement (BENCHMARKS.md "Idle"): the release binary against loopback
# fakes (benches/idle/fake.py), one source every 300 s, long poll 10 s; after
# a 20 s settle, `strace -c -f` for 60 s, then CPU from /proc/PID/stat over
# another 60 s (strace slows what it traces). Usage: measure.sh BINARY OUT
# (writes OUT.strace, OUT.cpu, OUT.log). Needs strace and python3.
set -e
BIN=$1; OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PAGE="$HERE/../../tests/fixtures/rusemb/home-2022-05-21.html"
D=$(mktemp -d)
TP=$((20000 + RANDOM % 10000)); SP=$((TP + 1))
python3 "$HERE/fake.py" $TP $SP "$PAGE" &
FAKE=$!
sleep 1
cat > $D/config.toml <<CFG
data_dir = "$D/data"
admin_chats = [1]
[telegram]
api_url = "http://127.0.0.1:$TP/"
long_poll_secs = 10
[[sources]]
name = "site"
url = "http://127.0.0.1:$SP/"
interval_secs = 300
max_age_days = 36500
CFG
TELOXIDE_TOKEN=123456:IDLE-token "$BIN" --config $D/config.toml run > $D/bot.log 2>&1 &
BOT=$!
sleep 20
grep -q "first read recorded" $D/bot.log || cat $D/bot.log
TCK=$(getconf CLK_TCK)
strace -c -f -p $BOT -o $OUT.strace &
ST=$!
sleep 60
kill -INT $ST; wait $ST || true
sleep 2
t0=$(awk '{print $14+$15}' /proc/$BOT/stat)
sleep 60
t1=$(awk '{print $14+$15}' /proc/$BOT/stat)
echo "cpu ticks over 60 s: $((t1-t0)) (CLK_TCK $TCK) = $(python3 -c "print(f'{($t1-$t0)/$TCK/60*100:.3f} % of a core')")" > $OUT.cpu
kill -TERM $BOT; wait $BOT || true
kill $FAKE
tail -5 $D/bot.log > $OUT.log
rm -rf $D
cat $OUT.cpu
