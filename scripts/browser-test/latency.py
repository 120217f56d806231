#!/usr/bin/env python3
"""Latency of the public pages under load: N keep-alive connections, each asking for the
page types in turn as fast as it can, for D seconds; p50, p95 and p99 per page type, in ms,
as the client sees them (Python's own overhead included, so the server's figures are a little
better). Run it against a `wufei-api` seeded by walk.mjs (or any), built with
`--profile bench-fast` or `--release`:

    python3 scripts/browser-test/latency.py --base http://127.0.0.1:8080 -c 8 -d 20
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("-c", type=int, default=8, help="connections")
    ap.add_argument("-d", type=float, default=20.0, help="seconds")
    args = ap.parse_args()
    base = urllib.parse.urlsplit(args.base)

    def get(conn, path):
        conn.request("GET", path, headers={"accept": "text/html"})
        res = conn.getresponse()
        body = res.read()
        return res.status, body

    # The object pages: ids from the public API.
    conn = http.client.HTTPConnection(base.hostname, base.port)
    ids = {}
    for name, path, key in [
        ("cell", "/v1/cells?limit=1", lambda b: b["items"][0]["id"]),
        ("facility", "/v1/facilities", lambda b: b["features"][0]["id"]),
        ("listing", "/v1/market/listings?limit=1", lambda b: b["items"][0]["id"]),
        ("merchant", "/v1/market/listings?limit=1", lambda b: b["items"][0]["merchant"]["id"]),
    ]:
        status, body = get(conn, path)
        try:
            ids[name] = key(json.loads(body))
        except (KeyError, IndexError, ValueError):
            ids[name] = None
    pages = [
        ("home", "/"),
        ("indicators", "/indicators"),
        ("indicator", "/indicators/industrial_solid_waste_utilisation_rate"),
        ("tasks", "/tasks"),
        ("cells", "/cells"),
        ("facilities", "/facilities"),
        ("stats", "/stats"),
        ("open-data", "/open-data"),
        ("suggestions", "/suggestions"),
        ("market", "/market?q=%E9%AA%A8%E6%96%99"),
        ("demands", "/market/demands"),
    ]
    for name, prefix in [("cell", "/cells/"), ("facility", "/facilities/"),
                         ("listing", "/market/listings/"), ("merchant", "/market/merchants/")]:
        if ids.get(name):
            pages.append((name, prefix + ids[name]))
    times = {name: [] for name, _ in pages}
    errors = []
    stop = time.monotonic() + args.d

    def worker(offset):
        c = http.client.HTTPConnection(base.hostname, base.port)
        i = offset
        while time.monotonic() < stop:
            name, path = pages[i % len(pages)]
            i += 1
            t = time.perf_counter()
            status, _ = get(c, path)
            dt = (time.perf_counter() - t) * 1000
            if status != 200:
                errors.append((path, status))
            times[name].append(dt)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def pct(v, p):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")

    total = sum(len(v) for v in times.values())
    print(f"{args.c} connections, {args.d:.0f} s, {total} requests ({total / args.d:.0f}/s), {len(errors)} not 200")
    print(f"{'page':<12} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7}  (ms)")
    everything = []
    for name, _ in pages:
        v = times[name]
        everything += v
        print(f"{name:<12} {len(v):>6} {pct(v, .5):>7.2f} {pct(v, .95):>7.2f} {pct(v, .99):>7.2f}")
    print(f"{'all':<12} {len(everything):>6} {pct(everything, .5):>7.2f} {pct(everything, .95):>7.2f} {pct(everything, .99):>7.2f}")
    if errors:
        print("not 200:", errors[:5])


if __name__ == "__main__":
    main()
