#!/usr/bin/env python3
"""The peers of bench-unlimited.sh: every row of a CSV upserted by a thread pool, no pacing at
all; "urllib" opens a connection a request, as most scripts do, "keepalive" keeps one a thread.
Prints the wall time in seconds.

    peer.py people.csv 16 urllib|keepalive"""
import csv, http.client, json, os, sys, threading, time, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor

path, workers, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = urllib.parse.urlsplit(os.environ["IDEANOTE_BASE_URL"])
space, token = os.environ["IDEANOTE_SPACE_ID"], os.environ["IDEANOTE_API_TOKEN"]
with open(path, newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
local = threading.local()

def body(row):
    return json.dumps({"spaceId": space, "kind": "CUSTOM",
                       "data": {"email": row["email"], "name": row["name"], "apiToken": token}}).encode()

def upsert_urllib(row):
    req = urllib.request.Request(os.environ["IDEANOTE_BASE_URL"] + "/v1/session", body(row),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        resp.read()
        return resp.status

def upsert_keepalive(row):
    if not hasattr(local, "conn"):
        local.conn = http.client.HTTPConnection(base.hostname, base.port)
    local.conn.request("POST", "/v1/session", body(row), {"Content-Type": "application/json"})
    resp = local.conn.getresponse()
    resp.read()
    return resp.status

start = time.monotonic()
with ThreadPoolExecutor(workers) as pool:
    statuses = list(pool.map(upsert_urllib if mode == "urllib" else upsert_keepalive, rows))
wall = time.monotonic() - start
ok = sum(1 for s in statuses if s == 200)
print(f"python ThreadPoolExecutor({workers}), {mode}: {len(rows)} rows, {ok} ok, {wall:.3f} s")
