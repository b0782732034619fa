#!/bin/sh
# A stand-in for an operator's face engine, for CommandMatcher's tests.
# Usage: engine.sh MODE LIVE.png CARD.png
# It checks that both pictures are PNG files, then answers as MODE says.
mode=$1 live=$2 card=$3
for f in "$live" "$card"; do
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '211PNG' ] || { echo "not a PNG: $f" >&2; exit 9; }
done
case $mode in
match)   echo '{"score":0.93,"match":true,"engine":"fixed"}' ;;
nomatch) echo '{"score":0.12,"match":false}' ;;
garbage) echo 'score=0.93 match=yes' ;;
partial) echo '{"score":0.93}' ;;
twice)   echo '{"score":0.93,"match":true}{"score":0.1,"match":false}' ;;
fail)    echo 'engine crashed' >&2; exit 3 ;;
slow)    sleep 30 ;;
flood)   yes '{"score":0.93,"match":true}' | head -c 1000000 ;;
args)    echo "{\"score\":$#,\"match\":true}" ;;
esac
