#!/usr/bin/env bash
# Install Debian's virtuoso-opensource (as root) and run it on 127.0.0.1 with a throwaway
# database, ready for `santecyber build --store` and `santecyber serve --store`
# (docs/remote-store.md). Prints the SANTECYBER_STORE* settings to use.
#
#   sudo deploy/virtuoso.sh [DIR] [HTTP_PORT] [SQL_PORT]
#
# DIR (default: a new folder under /tmp) holds the database, its log and virtuoso.pid.
# Exit 2: not installed and not root (or the port is taken); 3: apt-get failed to install it.
# Stop it with: kill "$(cat DIR/virtuoso.pid)". The DBA account is dba/dba, as on any fresh
# Virtuoso database: fine on loopback for a trial, change it before anything else.
set -euo pipefail

DIR=${1:-$(mktemp -d /tmp/virtuoso.XXXXXX)}
HTTP_PORT=${2:-8890}
SQL_PORT=${3:-1111}

if ! command -v virtuoso-t >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "virtuoso-opensource is not installed: run this script as root to install it" >&2
        exit 2
    fi
    install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends virtuoso-opensource; }
    # a fresh machine may have no package lists yet: update them once, then try again
    if ! install && ! { apt-get update && install; }; then
        echo "apt-get could not install virtuoso-opensource (see above)" >&2
        exit 3
    fi
    # the package may start its own server on the default ports: stop it, ours runs below
    service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi

VSP=/var/lib/virtuoso-opensource-7/vsp
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
cat >"$DIR/virtuoso.ini" <<INI
[Database]
DatabaseFile       = $DIR/virtuoso.db
ErrorLogFile       = $DIR/virtuoso.log
LockFile           = $DIR/virtuoso.lck
TransactionFile    = $DIR/virtuoso.trx
xa_persistent_file = $DIR/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = $DIR/virtuoso-temp.db
TransactionFile    = $DIR/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort         = 127.0.0.1:$SQL_PORT
DirsAllowed        = ., $DIR
; about 1.3 GB of buffers: enough for a few million quads
NumberOfBuffers    = 170000
MaxDirtyBuffers    = 130000
CheckpointInterval = 60
MaxQueryMem        = 2G
ThreadsPerQuery    = 4

[HTTPServer]
ServerPort            = 127.0.0.1:$HTTP_PORT
ServerRoot            = $VSP
ServerThreads         = 10
MaxClientConnections  = 10
MaxKeepAlives         = 10
KeepAliveTimeout      = 10

[SPARQL]
; Virtuoso cuts answers at ResultSetMaxRows without saying so: santecyber applies its own
; result limit, so let the store return everything santecyber may ask for
ResultSetMaxRows           = 10000000
MaxQueryExecutionTime      = 60
MaxQueryCostEstimationTime = 0
DefaultQuery               = ASK {}
INI

if curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/sparql"; then
    echo "port $HTTP_PORT is taken: give another one (deploy/virtuoso.sh DIR HTTP_PORT SQL_PORT)" >&2
    exit 2
fi
cd "$DIR"
virtuoso-t +configfile "$DIR/virtuoso.ini" +foreground >"$DIR/stdout.log" 2>&1 &
echo $! >"$DIR/virtuoso.pid"
for _ in $(seq 1 120); do
    if curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/sparql?query=ASK%20%7B%7D"; then
        cat <<SETTINGS
Virtuoso is running in $DIR (pid $(cat "$DIR/virtuoso.pid")). Use:
export SANTECYBER_STORE=http://127.0.0.1:$HTTP_PORT/sparql
export SANTECYBER_STORE_UPDATE=http://127.0.0.1:$HTTP_PORT/sparql-graph-crud-auth
export SANTECYBER_STORE_USER=dba SANTECYBER_STORE_PASSWORD=dba SANTECYBER_STORE_AUTH=digest
export SANTECYBER_STORE_DEFAULT_GRAPH=urn:x-santecyber:default
SETTINGS
        exit 0
    fi
    if ! kill -0 "$(cat "$DIR/virtuoso.pid")" 2>/dev/null; then
        echo "virtuoso-t stopped: see $DIR/virtuoso.log" >&2
        tail -20 "$DIR/virtuoso.log" >&2 || true
        exit 1
    fi
    sleep 0.5
done
echo "virtuoso did not answer on port $HTTP_PORT within 60 s: see $DIR/virtuoso.log" >&2
exit 1
