#!/usr/bin/env python3
"""The journeys `deploy/local/test` runs against a deployment started by `deploy/local/run up`
(python3 stdlib only). Requests alternate between the api instances (and some go through
the proxy); every failure raises with what was asked and what came back.

1. resident → recycler → settlement → points redemption (→ a station manager hands it out);
   the offer is booked on api-1 and pushed to the recyclers' WebSockets on api-2;
2. marketplace: merchant application → listing → review → searchable through Meilisearch;
3. under load, one api is SIGKILLed, and one worker is frozen until it holds jobs and then
   SIGKILLed, while pickups are being completed and settled and listings indexed;
   afterwards every pickup was accepted once, completed once and settled once, every point
   was credited once (the residents' ledgers, the administrators' reconciliation and the
   scratch database agree), the dead worker's jobs were taken over, and every listing is
   searchable.

Reads the deployment from the environment `deploy/local/run env` prints.
"""

import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import itertools
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run")
DISTRICT = "371502"  # 东昌府区
CENTRE = (36.4560, 115.9850)


class Failed(AssertionError):
    pass


LOG = threading.Lock()


def log(msg: str) -> None:
    with LOG:
        print(f"journey: {msg}", flush=True)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failed(msg)


# ---------------------------------------------------------------------------------------
# HTTP: round robin over the api instances; a refused connection moves on to the next one.


class Api:
    def __init__(self, urls: list[str], proxy: str):
        self.urls = urls
        self.proxy = proxy
        self.dead: set[str] = set()
        self.turn = itertools.count()
        self.lock = threading.Lock()
        self.served: dict[str, int] = {u: 0 for u in urls}

    def _pick(self) -> str:
        with self.lock:
            live = [u for u in self.urls if u not in self.dead]
            check(bool(live), "no api instance is reachable")
            return live[next(self.turn) % len(live)]

    def call(self, method, path, token=None, body=None, key=None, ok=(200, 201, 204), allow=(),
             raw=None, ctype=None, via=None):
        """Sends one request; answers (status, json). A status outside `ok` + `allow` fails."""
        headers = {}
        data = None
        if token:
            headers["authorization"] = f"Bearer {token}"
        if key:
            headers["idempotency-key"] = key
        if raw is not None:
            data, headers["content-type"] = raw, ctype
        elif body is not None:
            data, headers["content-type"] = json.dumps(body).encode(), "application/json"
        elif method == "POST":
            data, headers["content-type"] = b"{}", "application/json"
        for attempt in range(8):
            base = via or self._pick()
            req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=30) as res:
                    status, payload = res.status, res.read()
            except urllib.error.HTTPError as e:
                status, payload = e.code, e.read()
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                reason = getattr(e, "reason", e)
                if via:
                    raise Failed(f"{method} {path} via {via}: {reason}") from e
                if isinstance(reason, ConnectionRefusedError):
                    with self.lock:
                        if base not in self.dead:
                            log(f"{base} refuses connections: leaving it out")
                        self.dead.add(base)
                else:
                    log(f"{method} {path} on {base} failed in flight ({reason}); trying again")
                time.sleep(0.2 * attempt)
                continue
            with self.lock:
                if base in self.served:
                    self.served[base] += 1
            try:
                doc = json.loads(payload) if payload else None
            except ValueError:
                doc = payload.decode(errors="replace")
            if status in ok or status in allow:
                return status, doc
            raise Failed(f"{method} {path} on {base} answered {status}: {doc}")
        raise Failed(f"{method} {path}: no instance answered after 8 attempts")

    def get(self, path, token=None, **kw):
        return self.call("GET", path, token, **kw)[1]

    def post(self, path, token=None, body=None, **kw):
        return self.call("POST", path, token, body, **kw)[1]


class WebSocket:
    """The client side of RFC 6455, as much as reading Wufei's pushes needs: the handshake,
    then unmasked text frames from the server (control frames skipped)."""

    def __init__(self, base: str, path: str):
        u = urlsplit(base)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            check(bool(chunk), f"{base}{path.split('?')[0]}: closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0].decode()
        check(" 101 " in status + " ", f"WebSocket upgrade via {base} answered {status}")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        check(accept in head, f"WebSocket upgrade via {base}: wrong Sec-WebSocket-Accept")

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            check(bool(chunk), "WebSocket closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def message(self, timeout: float):
        """The next text message as JSON, or None after `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                payload = self._read(n)
                if b0 & 0x0F == 1:
                    return json.loads(payload)
                check(b0 & 0x0F != 8, "WebSocket closed by the server")
        except socket.timeout:
            return None

    def close(self) -> None:
        self.sock.close()


def png() -> bytes:
    """A small PNG with random pixels (every upload a different file)."""
    w, h = 16, 12
    rows = b"".join(b"\x00" + os.urandom(w * 3) for _ in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(api: Api, token: str, purpose: str) -> str:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png() + f"\r\n--{boundary}--\r\n".encode()
    # A request cut off by a killed instance leaves its key "in flight": a new upload
    # (a new key) is the client's way on; the orphan upload costs nothing.
    for _ in range(3):
        status, doc = api.call("POST", f"/v1/uploads?purpose={purpose}", token, raw=body,
                               ctype=f"multipart/form-data; boundary={boundary}",
                               key=f"up-{uuid.uuid4().hex}", ok=(201,), allow=(409,))
        if status == 201:
            return doc["id"]
    raise Failed(f"upload ({purpose}) refused three times: {doc}")


# ---------------------------------------------------------------------------------------
# Setup: staff through the CLI, residents through the WeChat double, recyclers through
# their application and review.


def cli(*args: str) -> str:
    res = subprocess.run([RUN, "exec", *args], capture_output=True, text=True)
    check(res.returncode == 0, f"{' '.join(args)} failed: {res.stdout}{res.stderr}")
    return res.stdout


def staff(api: Api, phone: str, password: str, role: str, district=None) -> str:
    args = ["wufei-api", "admin", "create", "--phone", phone, "--password", password, "--role", role]
    if district:
        args += ["--district", district]
    cli(*args)
    return api.post("/v1/auth/password", body={"phone": phone, "password": password})["access_token"]


def resident(api: Api, openid: str) -> tuple[str, str, str]:
    pair = api.post("/v1/auth/wechat", body={"code": f"ok-{openid}"})
    token = pair["access_token"]
    address = api.post("/v1/me/addresses", token, {
        "label": "家", "contact_name": "王女士", "contact_phone": "13912345678",
        "district_code": DISTRICT, "community": "星光花园", "detail": "3号楼2单元501",
        "lat": CENTRE[0], "lng": CENTRE[1]}, ok=(201,))["id"]
    return token, pair["user"]["id"], address


def recycler(api: Api, admin: str, phone: str) -> tuple[str, str]:
    password = "local recycler pw"
    applied = api.post("/v1/recycler-applications", None, {
        "name": f"回收员{phone[-4:]}", "phone": phone, "password": password,
        "vehicle": "tricycle", "district_codes": [DISTRICT]}, ok=(201,))
    session = api.post("/v1/auth/password", body={"phone": phone, "password": password})
    photo = upload(api, session["access_token"], "id_photo")
    api.call("PATCH", "/v1/recycler-applications/mine", session["access_token"], {"id_photo_id": photo})
    api.post(f"/v1/admin/recycler-applications/{applied['application']['id']}/approve", admin,
             {"slot_capacity": 20})
    session = api.post("/v1/auth/password", body={"phone": phone, "password": password})
    check(session["user"]["role"] == "recycler", f"{phone} is not a recycler after approval: {session['user']}")
    token = session["access_token"]
    api.post("/v1/recycler/shift", token, {"on_shift": True, "lat": CENTRE[0] + 0.01, "lng": CENTRE[1]})
    return token, session["user"]["id"]


class World:
    def __init__(self, api: Api, args):
        self.api = api
        self.args = args
        self.recyclers: dict[str, str] = {}  # user id -> token
        self.lock = threading.Lock()
        self.completed = 0

    def setup(self) -> None:
        api = self.api
        self.admin = staff(api, "13700000001", "local super admin pw", "super_admin")
        self.station = staff(api, "13700000002", "local station pw", "station_manager", DISTRICT)
        cats = api.get("/v1/catalog/categories")
        paper = next(c for c in cats if c["code"] == "paper")
        check(paper["unit"] == "kg" and isinstance(paper["points_per_unit"], int),
              f"paper is not an integer rate per kg: {paper}")
        self.paper, self.paper_rate = paper["id"], paper["points_per_unit"]
        self.residents = [resident(api, f"local-resident-{i}-{uuid.uuid4().hex[:6]}")
                          for i in range(self.args.residents)]
        for i in range(self.args.recyclers):
            token, uid = recycler(api, self.admin, f"1360000{i:04d}")
            self.recyclers[uid] = token
        # Bookable slots tomorrow and the day after (Asia/Shanghai), from the seeded template.
        today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()
        self.slots = []
        for d in (1, 2):
            date = (today + datetime.timedelta(days=d)).isoformat()
            for s in api.get(f"/v1/pickup-slots?address_id={self.residents[0][2]}&date={date}",
                             self.residents[0][0]):
                self.slots += [s["id"]] * min(s["remaining"], 10)
        check(len(self.slots) >= self.args.bookings + 1,
              f"only {len(self.slots)} bookable slot places for {self.args.bookings + 1} bookings")
        log(f"set up: {len(self.residents)} residents, {len(self.recyclers)} recyclers on shift, "
            f"paper at {self.paper_rate} points/kg")

    def book(self, n: int, kg: int, via=None) -> dict:
        token, uid, address = self.residents[n % len(self.residents)]
        slot = self.slots.pop(0)
        p = self.api.post("/v1/pickups", token, {
            "address_id": address, "slot_id": slot,
            "items": [{"category_id": self.paper, "estimated_weight_g": kg * 1000}], "note": "敲门"},
            key=f"book-{n}", ok=(201,), via=via)
        check(p["status"] in ("pending_dispatch", "offered"), f"new pickup is {p['status']}")
        return {"id": p["id"], "resident": token, "user": uid, "kg": kg, "points": kg * self.paper_rate}

    def heartbeat(self) -> None:
        for token in self.recyclers.values():
            self.api.post("/v1/recycler/location", token, {"lat": CENTRE[0] + 0.01, "lng": CENTRE[1]})

    def drive(self, p: dict, timeout: float = 120) -> None:
        """Takes pickup `p` from booked to completed, reading its state before every step,
        as a client that may have lost an answer does."""
        api, pid = self.api, p["id"]
        deadline = time.monotonic() + timeout
        while True:
            check(time.monotonic() < deadline, f"pickup {pid} not completed within {timeout} s")
            cur = api.get(f"/v1/pickups/{pid}", p["resident"])
            status = cur["status"]
            if status in ("completed", "settled"):
                with self.lock:
                    self.completed += 1
                return
            if status in ("pending_dispatch", "offered"):
                found = None
                for token in self.recyclers.values():
                    for o in api.get("/v1/recycler/offers", token):
                        if o["pickup_id"] == pid:
                            found = (token, o["id"])
                if found:
                    api.post(f"/v1/recycler/offers/{found[1]}/accept", found[0], allow=(409,))
                else:
                    time.sleep(0.3)
                continue
            rec = (cur.get("recycler") or {}).get("id")
            check(rec in self.recyclers, f"pickup {pid} is {status} with recycler {cur.get('recycler')}")
            token = self.recyclers[rec]
            if status == "accepted":
                api.post(f"/v1/recycler/pickups/{pid}/depart", token, allow=(409,))
            elif status == "en_route":
                api.post(f"/v1/recycler/pickups/{pid}/arrive", token, allow=(409,))
            elif status == "arrived":
                photos = [upload(api, token, "pickup_photo") for _ in range(2)]
                api.post(f"/v1/recycler/pickups/{pid}/complete", token, {
                    "items": [{"category_id": self.paper, "weight_g": p["kg"] * 1000}],
                    "photo_ids": photos}, allow=(409,))
            else:
                raise Failed(f"pickup {pid} in unexpected state {status}: {cur['timeline']}")

    def settled(self, p: dict, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            cur = self.api.get(f"/v1/pickups/{p['id']}", p["resident"])
            if cur["status"] == "settled":
                return cur
            check(time.monotonic() < deadline,
                  f"pickup {p['id']} still {cur['status']} {timeout} s after completion")
            time.sleep(0.3)


# ---------------------------------------------------------------------------------------
# Journeys


def balance(api: Api, token: str) -> int:
    return api.get("/v1/points/account", token)["balance"]


def journey_points(w: World) -> dict:
    api = w.api
    log("journey 1: resident books, recycler collects, worker settles, resident redeems")
    before = balance(api, w.residents[0][0])
    # The recyclers' sockets are on api-2 and the booking goes to api-1: the offer reaches
    # them through Redis pub/sub. One more socket goes through the proxy's upgrade.
    api2 = api.urls[1]
    sockets = [WebSocket(api2, f"/v1/ws?access_token={t}") for t in w.recyclers.values()]
    proxied = WebSocket(api.proxy, f"/v1/ws?access_token={next(iter(w.recyclers.values()))}")
    for ws in sockets + [proxied]:
        hello = ws.message(10)
        check(hello is not None and hello.get("type") == "hello", f"first WebSocket message: {hello}")
    proxied.close()
    p = w.book(0, 5, via=api.urls[0])
    pushed, deadline = None, time.monotonic() + 15
    while pushed is None and time.monotonic() < deadline:
        for ws in sockets:
            msg = ws.message(0.2)
            if msg and msg.get("type") == "offer" and p["id"] in json.dumps(msg):
                pushed = msg
    for ws in sockets:
        ws.close()
    check(pushed is not None, f"no offer for {p['id']} reached a recycler's socket on api-2 within 15 s")
    w.drive(p)
    done = w.settled(p, 60)
    after = balance(api, w.residents[0][0])
    check(after - before == p["points"], f"balance moved {after - before}, expected {p['points']}")
    item = api.post("/v1/admin/mall/items", w.admin, {
        "name": "环保帆布袋", "kind": "goods", "description": "可重复使用", "points": 30, "stock": 5,
        "per_person_limit": None, "district_code": DISTRICT, "station": "古楼街道回收站"}, ok=(201,))
    r = api.post("/v1/mall/redemptions", w.residents[0][0], {"item_id": item["id"], "quantity": 1},
                 key=f"redeem-{uuid.uuid4().hex}", ok=(201,))
    check(r["status"] == "reserved" and r["pickup_code"], f"redemption: {r}")
    check(balance(api, w.residents[0][0]) == after - 30, "redemption did not debit 30 points")
    handed = api.post("/v1/mall/fulfilments", w.station, {"pickup_code": r["pickup_code"]})
    check(handed["status"] == "fulfilled", f"fulfilment: {handed}")
    log(f"journey 1 ok: offer pushed from api-1 to a socket on api-2 (WebSocket through the proxy too); "
        f"pickup {p['id']} settled ({p['points']} points, "
        f"{len(done['timeline'])} timeline rows), redeemed 30, handed out with code {r['pickup_code']}")
    p["redeemed"] = 30
    return p


def merchant(w: World) -> str:
    api = w.api
    pair = api.post("/v1/auth/wechat", body={"code": f"ok-local-merchant-{uuid.uuid4().hex[:6]}"})
    licence = upload(api, pair["access_token"], "licence")
    app = api.post("/v1/merchant-applications", pair["access_token"], {
        "company_name": "聊城市再生建材有限公司", "credit_code": "91371502MA3C123457",
        "contact_name": "王经理", "contact_phone": "13812345678", "district_code": DISTRICT,
        "address": "东昌府区再生产业园 8 号", "licence_id": licence}, key=f"apply-{uuid.uuid4().hex}", ok=(201,))
    api.post(f"/v1/admin/merchant-applications/{app['id']}/approve", w.admin)
    return api.post("/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})["access_token"]


def publish(w: World, token: str, word: str) -> str:
    api = w.api
    listing = api.post("/v1/market/listings", token, {
        "product_type": "recycled_coarse_aggregate", "title": f"再生粗骨料 {word}",
        "description": "建筑垃圾再生骨料（粗），粒径 5-31.5mm，可用于 C30 混凝土", "spec": "5-31.5mm C30",
        "unit": "t", "price_fen": 4500, "stock": 100, "min_order": 5,
        "plant": {"lat": CENTRE[0], "lng": CENTRE[1], "address": "再生产业园 8 号", "district_code": DISTRICT},
        "delivery_radius_km": 50}, key=f"listing-{word}", ok=(201,))
    api.post(f"/v1/market/listings/{listing['id']}/submit", token, key=f"submit-{word}")
    published = api.post(f"/v1/admin/market/listings/{listing['id']}/approve", w.admin)
    check(published["status"] == "published", f"approved listing is {published['status']}")
    return listing["id"]


def searchable(w: World, word: str, lid: str, timeout: float) -> float:
    started = time.monotonic()
    while True:
        # Alternating instances, and the proxy every third time.
        via = w.api.proxy if int((time.monotonic() - started) * 10) % 3 == 0 else None
        page = w.api.get(f"/v1/market/listings?q={word}", via=via)
        if any(i["id"] == lid for i in page["items"]):
            return time.monotonic() - started
        check(time.monotonic() - started < timeout, f"listing {lid} ({word}) not searchable within {timeout} s: {page}")
        time.sleep(0.2)


def meili_documents() -> int:
    """Documents in this deployment's listings index, asked of Meilisearch itself."""
    url, key, prefix = os.environ["MEILI_URL"], os.environ["MEILI_MASTER_KEY"], os.environ["WUFEI_MEILI_INDEX_PREFIX"]
    req = urllib.request.Request(f"{url}/indexes?limit=100", headers={"authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=10) as res:
        indexes = json.loads(res.read())["results"]
    ours = [i["uid"] for i in indexes if i["uid"].startswith(prefix)]
    check(bool(ours), f"no index under {prefix} in Meilisearch: {[i['uid'] for i in indexes]}")
    total = 0
    for uid in ours:
        req = urllib.request.Request(f"{url}/indexes/{uid}/stats", headers={"authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=10) as res:
            stats = json.loads(res.read())
        if "listing" in uid:
            total += stats["numberOfDocuments"]
    return total


def journey_market(w: World) -> tuple[str, list[str]]:
    log("journey 2: merchant application, listing, review, search through Meilisearch")
    token = merchant(w)
    word = f"J{uuid.uuid4().hex[:8]}"
    lid = publish(w, token, word)
    took = searchable(w, word, lid, 30)
    docs = meili_documents()
    check(docs >= 1, "Meilisearch holds no listing")
    log(f"journey 2 ok: listing {lid} searchable after {took:.1f} s; Meilisearch holds {docs} listing(s)")
    return token, [lid]


def psql(sql: str) -> str:
    res = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XtAc", sql], capture_output=True, text=True)
    check(res.returncode == 0, f"psql: {sql}: {res.stderr}")
    return res.stdout.strip()


def redis(*args: str) -> list[str]:
    hostport = os.environ["REDIS_URL"].removeprefix("redis://").split("/")[0]
    host, port = hostport.rsplit(":", 1)
    res = subprocess.run(["redis-cli", "-h", host, "-p", port, *args], capture_output=True, text=True)
    check(res.returncode == 0, f"redis-cli {' '.join(args)}: {res.stderr}")
    return [l for l in res.stdout.splitlines() if l]


def held_by(consumer: str) -> list[tuple[str, str]]:
    """(stream, entry id) of every job delivered to `consumer` and not yet acknowledged,
    over this deployment's queue streams."""
    prefix = os.environ["WUFEI_REDIS_PREFIX"]
    held = []
    for key in redis("--scan", "--pattern", f"{prefix}:q:*"):
        if redis("type", key) != ["stream"]:
            continue
        if not redis("xinfo", "groups", key):
            continue
        lines = redis("xpending", key, "workers", "-", "+", "1000", consumer)
        check(len(lines) % 4 == 0 and not any(l.startswith(("ERR", "NOGROUP", "WRONGTYPE")) for l in lines),
              f"xpending {key}: {lines}")
        # Four lines per entry: id, consumer, idle ms, deliveries.
        held += [(key[len(prefix) + 3:], lines[i]) for i in range(0, len(lines), 4)]
    return held


def metric(url: str, name: str, labels: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as res:
        text = res.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(l in line for l in labels.split(",") if l):
            total += float(line.rsplit(" ", 1)[1])
    return total


def journey_kill(w: World, first: dict, merchant_token: str, listings: list[str]) -> None:
    api, n = w.api, w.args.bookings
    log(f"journey 3: {n} pickups through both apis and workers; SIGKILL api-2 and worker-1 mid-run")
    pickups = [w.book(i + 1, random.randint(1, 6)) for i in range(n)]
    kill_at = max(1, n // 4)
    killed = threading.Event()
    published: list[tuple[str, str]] = []  # (word, listing id) published around the kill
    killer_failed: list[BaseException] = []

    run_dir = os.environ["WUFEI_LOCAL_RUN_DIR"]
    with open(os.path.join(run_dir, "pids", "worker-1.pid")) as f:
        consumer = f"worker-local-worker-1-{f.read().strip()}"
    held_at_kill: list[tuple[str, str]] = []

    def signal(name: str, sig: str) -> None:
        res = subprocess.run([RUN, "kill", name, sig], capture_output=True, text=True)
        check(res.returncode == 0, f"kill {name} {sig}: {res.stderr}")

    def publish_one() -> None:
        word = f"K{uuid.uuid4().hex[:8]}"
        published.append((word, publish(w, merchant_token, word)))

    def killer() -> None:
        try:
            while w.completed < kill_at:
                time.sleep(0.02)
            at = w.completed
            signal("api-2", "KILL")
            # worker-1 dies with work in hand: it is frozen (SIGSTOP) while jobs keep coming
            # (the pickups being completed, and a listing published now), so that Redis hands
            # its pending blocking read some; what it holds is read from the consumer group
            # before the SIGKILL. Jobs take milliseconds, so a SIGKILL at a random moment
            # would rarely find one. Frozen again (after a SIGCONT) until it holds some.
            for attempt in range(1, 11):
                signal("worker-1", "STOP")
                publish_one()
                time.sleep(1.2)
                held_at_kill.extend(held_by(consumer))
                if held_at_kill:
                    break
                signal("worker-1", "CONT")
                time.sleep(0.3 * attempt)
            signal("worker-1", "KILL")
            log(f"SIGKILLed api-2 after {at} of {n} completions, and worker-1 frozen "
                f"({w.completed} completions by then, {attempt} freeze(s)), holding {len(held_at_kill)} "
                f"unacknowledged job(s): {', '.join(sorted(t for t, _ in held_at_kill))}")
        except BaseException as e:  # noqa: BLE001 (handed to the main thread)
            killer_failed.append(e)
        finally:
            killed.set()

    kill_thread = threading.Thread(target=killer, daemon=True)
    kill_thread.start()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(w.drive, p) for p in pickups]
        for f in futures:
            f.result()
        check(killed.wait(120), "the kill never happened")
        # One more listing after the kill, indexed by the surviving worker.
        publish_one()
    kill_thread.join(timeout=5)
    if killer_failed:
        raise killer_failed[0]
    w.heartbeat()
    log(f"all {n} pickups completed in {time.monotonic() - started:.1f} s; waiting for settlement")
    for p in pickups:
        w.settled(p, 120)
    log(f"all settled {time.monotonic() - started:.1f} s after the first booking")
    took = [searchable(w, word, lid, 60) for word, lid in published]
    log(f"the {len(published)} listings published around the kill are searchable "
        f"(the last found {max(took):.1f} s after the settlements were checked)")
    check(bool(held_at_kill), "worker-1 held no job when it was killed: the kill proved nothing; run again")
    prefix = os.environ["WUFEI_REDIS_PREFIX"]
    deadline = time.monotonic() + 60
    while True:
        pending = [(t, e) for t, e in held_at_kill
                   if redis("xpending", f"{prefix}:q:{t}", "workers", e, e, "10")]
        if not pending:
            break
        check(time.monotonic() < deadline, f"jobs of the dead worker still pending after 60 s: {pending}")
        time.sleep(0.5)
    log(f"the {len(held_at_kill)} job(s) worker-1 died holding were taken over and acknowledged")

    # ----- nothing lost, nothing done twice -----
    everyone = [first] + pickups
    for p in everyone:
        cur = api.get(f"/v1/pickups/{p['id']}", p["resident"])
        tos = [e["to"] for e in cur["timeline"]]
        for state in ("accepted", "en_route", "arrived", "completed", "settled"):
            check(tos.count(state) == 1, f"pickup {p['id']}: {tos.count(state)} transitions to {state}: {tos}")
    by_user: dict[str, list[dict]] = {}
    for p in everyone:
        by_user.setdefault(p["user"], []).append(p)
    for uid, mine in by_user.items():
        token = mine[0]["resident"]
        lines = api.get("/v1/points/entries?limit=100", token)["items"]
        settlements = [l for l in lines if l["kind"] == "settlement"]
        sources = sorted(l["source"] for l in settlements)
        check(sources == sorted(f"pickup:{p['id']}" for p in mine),
              f"resident {uid}: settlement sources {sources} for pickups {[p['id'] for p in mine]}")
        for p in mine:
            got = [l["points"] for l in settlements if l["source"] == f"pickup:{p['id']}"]
            check(got == [p["points"]], f"pickup {p['id']}: credited {got}, expected [{p['points']}]")
        expected = sum(p["points"] - p.get("redeemed", 0) for p in mine)
        check(balance(api, token) == expected, f"resident {uid}: balance {balance(api, token)}, expected {expected}")
    issued = sum(p["points"] for p in everyone)
    books = api.get("/v1/admin/points/reconciliation", w.admin)
    check(books["balanced"] is True, f"reconciliation not balanced: {books}")
    district = next(d for d in books["districts"] if d["district_code"] == DISTRICT)
    check(district["issued"] == issued, f"reconciliation: issued {district['issued']}, expected {issued}")
    # The scratch database, directly.
    ids = ",".join(f"'{p['id']}'" for p in everyone)
    settled_tx = int(psql(f"SELECT count(*) FROM ledger_transactions WHERE source_key IN "
                          f"({','.join(repr('pickup:' + p['id']) for p in everyone)})"))
    check(settled_tx == len(everyone), f"{settled_tx} ledger transactions for {len(everyone)} settled pickups")
    accepted = psql(f"SELECT count(*) FROM offers WHERE status = 'accepted' AND pickup_id IN ({ids})")
    check(int(accepted) == len(everyone), f"{accepted} accepted offers for {len(everyone)} pickups")
    records = psql(f"SELECT count(*), coalesce(sum(weight_g), 0) FROM recycling_records WHERE pickup_id IN ({ids})")
    count, grams = (int(x) for x in records.split("|"))
    check(count == len(everyone) and grams == sum(p["kg"] for p in everyone) * 1000,
          f"recycling ledger: {count} rows, {grams} g for {len(everyone)} pickups")
    worker2 = os.environ["WUFEI_LOCAL_WORKER_URLS"].split()[1]
    dead = metric(worker2, "wufei_queue_jobs", 'state="dead"')
    check(dead == 0, f"{dead} dead-lettered jobs")
    log(f"journey 3 ok: {len(everyone)} pickups, each accepted, completed and settled once; "
        f"{issued} points issued = Σ weights × rate = reconciliation = ledger; recycling ledger "
        f"{grams} g in {count} rows; no dead letters")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=24)
    parser.add_argument("--residents", type=int, default=4)
    parser.add_argument("--recyclers", type=int, default=3)
    parser.add_argument("--no-kill", action="store_true", help="journeys 1 and 2 only")
    args = parser.parse_args()
    urls = os.environ["WUFEI_LOCAL_API_URLS"].split()
    check(len(urls) >= 2, f"needs two api instances, have {urls}")
    if not args.no_kill:
        check(len(os.environ["WUFEI_LOCAL_WORKER_URLS"].split()) >= 2, "needs two workers")
    api = Api(urls, os.environ["WUFEI_LOCAL_URL"])
    started = time.monotonic()
    w = World(api, args)
    w.setup()
    first = journey_points(w)
    merchant_token, listings = journey_market(w)
    if not args.no_kill:
        journey_kill(w, first, merchant_token, listings)
    log("requests served per instance: " + ", ".join(f"{u} {c}" for u, c in api.served.items()))
    log(f"all journeys passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print(f"journey: FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
