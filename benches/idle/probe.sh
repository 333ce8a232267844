#!/bin/bash
# Which threads wake while the bot is idle, and where its writes go
# (BENCHMARKS.md "Idle"): 20 s of strace -f, counted per thread by name.
# Usage: probe.sh BINARY. Needs strace and python3.
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PAGE="$HERE/../../tests/fixtures/rusemb/home-2022-05-21.html"
D=$(mktemp -d); TP=$((20000 + RANDOM % 10000)); SP=$((TP + 1))
python3 "$HERE/fake.py" $TP $SP "$PAGE" & FAKE=$!
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
TELOXIDE_TOKEN=123456:IDLE-token "$BIN" --config $D/config.toml run > $D/bot.log 2>&1 & BOT=$!
sleep 15
timeout 20 strace -f -tt -e trace=write,futex,epoll_wait,fsync,fdatasync,pwrite64 -p $BOT -o $D/trace 2>/dev/null
for t in /proc/$BOT/task/*; do echo "$(basename $t) $(cat $t/comm)"; done > $D/threads
ls -l /proc/$BOT/fd 2>/dev/null | awk '{print $9, $11}' > $D/fds
kill -TERM $BOT; wait $BOT; kill $FAKE
echo "== calls per thread:"; awk '{print $1}' $D/trace | sort | uniq -c | sort -rn | while read n tid; do echo "$n $(grep "^$tid " $D/threads)"; done
echo "== writes:"; grep "write(" $D/trace | sed -E 's/^[0-9]+ [0-9:.]+ //' | cut -c1-60 | sort | uniq -c
echo "== fds:"; cat $D/fds | head -30
rm -rf $D
