#!/usr/bin/env bash
# Runs a service for the test run that started us, and stops it when that run ends or dies:
# our stdin is a pipe from the test run, and it closes then, even on SIGKILL.
# usage: tether.sh COMMAND [ARG ...]
"$@" </dev/null &
service=$!
# The explicit <&0: without it bash gives a background job /dev/null as stdin.
( cat >/dev/null; kill -KILL "$service" 2>/dev/null ) <&0 &
wait "$service"
