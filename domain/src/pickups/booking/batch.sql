-- Bookings of ONE slot as one statement (see postgres.rs, `insert_batch`). Each CTE is
-- one step; a step after `ok` only ever sees the bookings every check passed.
--
-- $1 bookings, $2 their items, $3 their photos, $6 their first rounds: JSON arrays, one
-- object per row, each tagged with `k`, the booking's place in the batch.
-- $4 the slot, $5 now plus the booking lead (the slot must start after it).
-- The placeholders in braces are filled in once, when the statement is made: the column
-- lists of the rows the statement answers with, and the items' limits.

-- The bookings, their items and their photos.
WITH b AS (
  SELECT * FROM json_to_recordset($1::json) AS b (k int, id uuid, user_id uuid,
    address_id uuid, note text, photo_ids text, at timestamptz, event_id uuid,
    from_status text, to_status text, actor_id uuid, actor_role text, reason text,
    job_id uuid, topic text, payload text, run_at timestamptz, wait_payload text,
    far timestamptz, retry_at timestamptz, manual_before_secs float8, n_items int,
    n_photos int)),
it AS (SELECT * FROM json_to_recordset($2::json) AS i (k int, item_id uuid,
  category_id uuid, weight int4, count int4)),
ph AS (SELECT * FROM json_to_recordset($3::json) AS f (k int, upload_id uuid)),
-- The slot, if it is still open.
sl AS (SELECT * FROM pickup_slots WHERE id = $4 AND starts_at > $5),
-- Each item whose category is active and whose estimate is in range for its unit.
c AS (
  SELECT cat.*, it.k AS bk, it.item_id, it.weight, it.count
  FROM it JOIN categories cat ON cat.id = it.category_id
  WHERE cat.active AND CASE WHEN cat.unit = 'kg'
    THEN it.weight BETWEEN 1 AND {max_weight_g}
    ELSE it.count BETWEEN 1 AND {max_count} END),
-- The bookings that pass every check: the caller's live address, a slot that serves it,
-- every item valid, every photo the caller's pickup_photo upload; with whether one
-- needs a van.
ok AS (
  SELECT b.*, a AS addr, v.van FROM b
  JOIN addresses a ON a.id = b.address_id AND a.user_id = b.user_id
    AND NOT a.deleted
  JOIN sl ON sl.district_code = a.district_code
    AND (sl.community_id IS NULL OR sl.community_id = a.community_id)
  CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(bool_or(c.needs_van), false)
    AS van FROM c WHERE c.bk = b.k) v
  WHERE v.n = b.n_items AND (b.n_photos = 0 OR (SELECT count(*) FROM ph
    JOIN uploads u ON u.id = ph.upload_id WHERE ph.k = b.k
    AND u.owner_id = b.user_id AND u.purpose = 'pickup_photo') = b.n_photos)),
n AS (SELECT count(*) AS n, count(*) FILTER (WHERE van) AS vans FROM ok),
-- The slot's capacity for all of them at once, only if they all fit.
s AS (
  UPDATE pickup_slots AS t SET booked = t.booked + n.n,
    van_booked = t.van_booked + n.vans
  FROM n
  WHERE t.id = $4 AND n.n > 0 AND t.starts_at > $5
    AND t.booked + n.n <= t.capacity AND t.van_booked + n.vans <= t.van_capacity
  RETURNING t.*),
-- The first rounds, and those that apply: read for the pickup where it is (district,
-- position), of its need of a van, and its slot not near.
r AS (SELECT * FROM json_to_recordset($6::json) AS r (k int, van bool,
  slot_id uuid, district_code text, lat float8, lng float8, far timestamptz,
  round int, event_id uuid, from_status text, to_status text, actor_id uuid,
  actor_role text, reason text, at timestamptz, offers json, jobs json)),
ro AS (
  SELECT r.*, ok.id AS pickup_id FROM ok
  JOIN r ON r.k = ok.k AND r.van = ok.van
    AND r.district_code = (ok.addr).district_code
    AND r.lat = (ok.addr).lat AND r.lng = (ok.addr).lng
  JOIN s ON s.id = r.slot_id AND s.starts_at > r.far),
-- The pickups (offered, in round 1, when their first round applies), each with the
-- address as AddressView serialises it.
p AS (
  INSERT INTO pickups (id, resident_id, address_id, address_snapshot,
    district_code, community_id, lat, lng, slot_id, status, needs_van, note,
    photo_ids, completion_photo_ids, manual_dispatch, dispatch_round,
    late_cancellation, created_at, updated_at)
  SELECT ok.id, ok.user_id, (ok.addr).id,
    (SELECT row_to_json(v)::text FROM (SELECT (ok.addr).id, (ok.addr).label,
      (ok.addr).contact_name, (ok.addr).contact_phone, (ok.addr).district_code,
      (ok.addr).community, (ok.addr).community_id, (ok.addr).detail,
      (ok.addr).lat, (ok.addr).lng) v),
    (ok.addr).district_code, (ok.addr).community_id, (ok.addr).lat,
    (ok.addr).lng, s.id, coalesce(ro.to_status, ok.to_status), ok.van, ok.note,
    ok.photo_ids, '[]', false, coalesce(ro.round, 0), false, ok.at, ok.at
  FROM ok CROSS JOIN s LEFT JOIN ro ON ro.k = ok.k RETURNING id),
i AS (
  INSERT INTO pickup_items (id, pickup_id, category_id, estimated_weight_g,
    estimated_count)
  SELECT c.item_id, p.id, c.id, c.weight, c.count
  FROM c JOIN ok ON ok.k = c.bk JOIN p ON p.id = ok.id),
-- Their timeline rows: booked, and offered when the first round applies.
e AS (
  INSERT INTO pickup_events (id, pickup_id, from_status, to_status, actor_id,
    actor_role, reason, created_at)
  SELECT ok.event_id, p.id, ok.from_status, ok.to_status, ok.actor_id,
    ok.actor_role, ok.reason, ok.at
  FROM ok JOIN p ON p.id = ok.id
  UNION ALL
  SELECT ro.event_id, p.id, ro.from_status, ro.to_status, ro.actor_id,
    ro.actor_role, ro.reason, ro.at
  FROM ro JOIN p ON p.id = ro.pickup_id),
-- The first rounds' offers and jobs.
rf AS (
  INSERT INTO offers (id, pickup_id, recycler_id, round, status, expires_at,
    created_at)
  SELECT x.id, p.id, x.recycler_id, x.round, x.status, x.expires_at, x.created_at
  FROM ro JOIN p ON p.id = ro.pickup_id CROSS JOIN LATERAL
    json_to_recordset(ro.offers) AS x (id uuid, recycler_id uuid, round int,
    status text, expires_at timestamptz, created_at timestamptz)),
rj AS (
  INSERT INTO outbox (id, topic, payload, run_at, created_at)
  SELECT x.id, x.topic, x.payload, x.run_at, x.created_at
  FROM ro JOIN p ON p.id = ro.pickup_id CROSS JOIN LATERAL
    json_to_recordset(ro.jobs) AS x (id uuid, topic text, payload text,
    run_at timestamptz, created_at timestamptz)),
-- The dispatch job of each pickup without a first round: due at once, or, when it
-- waits (nobody on shift) and its slot is far, as its next try.
o AS (
  INSERT INTO outbox (id, topic, payload, run_at, created_at)
  SELECT ok.job_id, ok.topic,
    CASE WHEN ok.far IS NOT NULL AND s.starts_at > ok.far
      THEN ok.wait_payload ELSE ok.payload END,
    CASE WHEN ok.far IS NOT NULL AND s.starts_at > ok.far
      THEN least(ok.retry_at,
        s.starts_at - make_interval(secs => ok.manual_before_secs))
      ELSE ok.run_at END,
    ok.at
  FROM ok JOIN p ON p.id = ok.id CROSS JOIN s LEFT JOIN ro ON ro.k = ok.k
  WHERE ro.k IS NULL)
-- One row per item of each booking written, in order: what it was checked against.
SELECT ok.k, ok.van AS needs_van, ro.k IS NOT NULL AS with_round, {address_columns},
  {slot_columns}, {category_columns}
FROM ok CROSS JOIN s JOIN c ON c.bk = ok.k LEFT JOIN ro ON ro.k = ok.k
ORDER BY ok.k
