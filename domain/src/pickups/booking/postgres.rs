//! A booking on PostgreSQL: ONE statement (`batch.sql`) that checks it and writes it,
//! shared with the other bookings of its slot waiting in this process at the same moment.
//!
//! Every booking of a slot updates that slot's row, so the database writes them one after
//! another anyway; letting a rush queue on the row there is the costly way (a backend
//! each, the row re-checked by every one that waited). So each process queues its
//! bookings by slot (`queue.rs`): the first to find its slot's writer free takes
//! every booking of that slot then waiting and writes them in one statement, on a task of
//! its own, so a client that hangs up cannot cancel the others' write. What a batch could
//! not write (a booking that failed a check; a batch that no longer fits) goes through
//! the one-booking statement, which takes what room is left and says what is wrong.
//!
//! The statement lives in `batch.sql`: its text is the same for every batch (the bookings
//! travel as JSON arrays), so it stays prepared. The column lists it answers with come
//! from the entities, filled in once when [`Bookings`] is made.

use std::sync::Arc;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, IdenStatic, Iterable};
use uuid::Uuid;

use super::{
    batch::{BATCH_BYTES, BatchRecord, chunks_within},
    checks::{Checked, MAX_COUNT, MAX_ITEMS, MAX_PHOTOS, MAX_WEIGHT_G, check_booking, found},
    draft::Request,
    queue::SlotQueue,
};
use crate::{
    entities::{address, category, pickup_slot},
    error::{Error, Result},
    pickups::capacity::slot_full,
};

/// A process's bookings on PostgreSQL: the queue that gathers the bookings of a slot
/// arriving together, and the statement that writes them. Owned by the platform, one per
/// process.
pub struct Bookings {
    queue: SlotQueue<Request, Outcome>,
    sql: Arc<str>,
}

impl Default for Bookings {
    fn default() -> Self {
        Self {
            queue: SlotQueue::default(),
            sql: batch_sql().into(),
        }
    }
}

/// `batch.sql` with its column lists and limits filled in.
fn batch_sql() -> String {
    include_str!("batch.sql")
        .replace("{max_weight_g}", &MAX_WEIGHT_G.to_string())
        .replace("{max_count}", &MAX_COUNT.to_string())
        .replace(
            "{address_columns}",
            &prefixed_columns::<address::Column>("(ok.addr)", "a_"),
        )
        .replace(
            "{slot_columns}",
            &prefixed_columns::<pickup_slot::Column>("s", "s_"),
        )
        .replace(
            "{category_columns}",
            &prefixed_columns::<category::Column>("c", "c_"),
        )
}

/// `table.column AS "{pre}column"` for every column of `C`, comma-separated.
fn prefixed_columns<C: IdenStatic + Iterable>(table: &str, pre: &str) -> String {
    C::iter()
        .map(|col| format!("{table}.\"{0}\" AS \"{pre}{0}\"", col.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What became of a booking in the queue.
pub(crate) enum Outcome {
    /// Written; what it was checked against, and whether with its first round.
    Written(Box<(Checked, bool)>),
    /// Written alone and refused: a check failed (the caller finds out which).
    Refused,
    /// Not written with the batch it was in: it goes on its own.
    Alone,
    /// Written alone, and its statement failed.
    Failed(Error),
}

/// Writes booking `r`, in `bookings`' queue when there is one (else alone): the one
/// statement that checks and writes it (with its first round, if that applies); if that
/// refuses, the reads that say why ([`check_booking`]). When they find nothing wrong,
/// what the statement found and they cannot see is the slot's room: 409 `slot_full`.
/// Returns what was checked and whether the first round was written.
pub(super) async fn book(
    db: &DatabaseConnection,
    bookings: Option<&Bookings>,
    r: &Request,
) -> Result<(Checked, bool)> {
    // The checks that need no row are left to the diagnosis, which states them all.
    let distinct: std::collections::HashSet<Uuid> =
        r.input.items.iter().map(|i| i.category_id).collect();
    let shaped = (1..=MAX_ITEMS).contains(&r.input.items.len())
        && distinct.len() == r.input.items.len()
        && r.input.photo_ids.len() <= MAX_PHOTOS;
    if shaped {
        let written = match bookings {
            Some(b) => {
                let (conn, sql) = (db.clone(), b.sql.clone());
                b.queue
                    .submit(r.input.slot_id, r.clone(), move |batch| async move {
                        insert_bookings(&conn, &sql, batch).await
                    })
                    .await
            }
            None => None,
        };
        match written {
            Some(Outcome::Written(written)) => return Ok(*written),
            Some(Outcome::Failed(e)) => return Err(e),
            Some(Outcome::Refused) => {}
            // Not written with the others, the writer failed, or there is no queue: on
            // its own.
            Some(Outcome::Alone) | None => {
                let sql = match bookings {
                    Some(b) => b.sql.clone(),
                    None => batch_sql().into(),
                };
                if let Some(written) = insert_one(db, &sql, r).await? {
                    return Ok(written);
                }
            }
        }
    }
    let checked = check_booking(db, &r.who, r.rules, &r.input).await?;
    Err(slot_full(checked.needs_van))
}

/// Writes the bookings of one slot (the queue hands over those waiting together) with
/// [`insert_batch`], at most [`BATCH_BYTES`] of them a statement. Answers each, in order.
/// What a batch of several did not write (a booking that failed a check; all, when they
/// did not fit or the statement failed, which is logged) goes on its own, which takes the
/// room left and reports what is wrong.
async fn insert_bookings(db: &DatabaseConnection, sql: &str, batch: Vec<Request>) -> Vec<Outcome> {
    if let [r] = batch.as_slice() {
        return vec![match insert_one(db, sql, r).await {
            Ok(Some(written)) => Outcome::Written(Box::new(written)),
            Ok(None) => Outcome::Refused,
            Err(e) => Outcome::Failed(e),
        }];
    }
    let records: Vec<BatchRecord> = batch
        .iter()
        .enumerate()
        .map(|(k, r)| BatchRecord::of(k, r))
        .collect();
    let mut written: Vec<Outcome> = batch.iter().map(|_| Outcome::Alone).collect();
    let lead = batch
        .iter()
        .map(|r| r.rules.booking_lead)
        .max()
        .unwrap_or_default();
    let slot = batch[0].input.slot_id;
    for chunk in chunks_within(&records, BATCH_BYTES) {
        match insert_batch(db, sql, slot, lead, chunk).await {
            Ok(done) => {
                for (k, checked, with_round) in done {
                    if let Some(w) = written.get_mut(k) {
                        *w = Outcome::Written(Box::new((checked, with_round)));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, bookings = chunk.len(), "booking batch failed; writing each alone");
            }
        }
    }
    written
}

/// One booking alone: [`insert_batch`] with a batch of one. `None` when it failed a check
/// or the slot had no room.
async fn insert_one(
    db: &DatabaseConnection,
    sql: &str,
    r: &Request,
) -> Result<Option<(Checked, bool)>> {
    let records = [BatchRecord::of(0, r)];
    let written = insert_batch(db, sql, r.input.slot_id, r.rules.booking_lead, &records).await?;
    Ok(written
        .into_iter()
        .next()
        .map(|(_, checked, with_round)| (checked, with_round)))
}

/// Bookings of ONE slot as one statement (`sql`, made from `batch.sql`). A booking passes
/// only when every check holds:
///
/// - the address is the caller's and not deleted;
/// - every item's category is active and its estimate is in range for its unit (weight
///   for `kg`, count otherwise), and every photo is the caller's `pickup_photo` upload;
/// - the slot serves the address (same district; a community slot only its community) and
///   is still open (`starts_at` after now plus the booking lead).
///
/// The slot's capacity (and van capacity) is then taken for all that passed by one
/// conditional update, which holds only if they all fit, and the pickups (each address
/// snapshot made from the address row, as `AddressView` serialises it), their items,
/// timeline rows and dispatch jobs are inserted from its result: all of it is written or
/// none. A booking with a first round ([`super::ahead::FirstRound`]) whose pickup is where that
/// round was read for (slot, district, position; the pickup's need of a van picks the
/// round) and whose slot is not near is written offered instead: with the round's
/// timeline row, offers and jobs, and without its dispatch job. The bookings, their items,
/// their photos and their rounds travel as four JSON arrays, so the statement's text is
/// the same for every batch and stays prepared. Returns `(place in the batch, what it was
/// checked against, whether with its first round)` for each booking written, in order:
/// none when they did not fit. Items must be 1 to [`MAX_ITEMS`] distinct
/// categories and photos at most [`MAX_PHOTOS`], checked by the caller: the
/// statement counts matches against them.
async fn insert_batch(
    db: &DatabaseConnection,
    sql: &str,
    slot: Uuid,
    lead: Duration,
    records: &[BatchRecord],
) -> Result<Vec<(usize, Checked, bool)>> {
    let array = |rows: Vec<&str>| format!("[{}]", rows.join(","));
    let bookings = array(records.iter().map(|r| r.booking.as_str()).collect());
    // Every record's rows of one kind, as one array.
    let all = |rows: fn(&BatchRecord) -> &[String]| {
        array(records.iter().flat_map(rows).map(String::as_str).collect())
    };
    let (items, photos, rounds) = (all(|r| &r.items), all(|r| &r.photos), all(|r| &r.rounds));
    let mut args = crate::db::SqlArgs::default();
    args.arg(bookings);
    args.arg(items);
    args.arg(photos);
    args.arg(slot);
    args.arg(Utc::now() + lead);
    args.arg(rounds);
    let rows = db.query_all_raw(args.statement(sql.to_owned())).await?;
    written_of(&rows, records.len())
}

/// What the batch statement answers: one row per item of each booking written, in order
/// of the bookings, each with what the booking was checked against.
fn written_of(
    rows: &[sea_orm::QueryResult],
    bookings: usize,
) -> Result<Vec<(usize, Checked, bool)>> {
    let mut written: Vec<(usize, Checked, bool)> = Vec::with_capacity(bookings);
    for row in rows {
        let k = usize::try_from(row.try_get::<i32>("", "k")?)
            .map_err(|e| Error::Internal(anyhow::anyhow!("booking batch row: {e}")))?;
        let cats = found::<category::Model>(row, "c_")?;
        match written.last_mut() {
            // Rows come ordered by booking, one per item.
            Some((last, checked, _)) if *last == k => checked.cats.extend(cats),
            _ => {
                let (Some(addr), Some(slot)) = (found(row, "a_")?, found(row, "s_")?) else {
                    continue;
                };
                written.push((
                    k,
                    Checked {
                        addr,
                        needs_van: row.try_get("", "needs_van")?,
                        cats: cats.into_iter().collect(),
                        slot,
                    },
                    row.try_get("", "with_round")?,
                ));
            }
        }
    }
    Ok(written)
}
