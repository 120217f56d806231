//! `Idempotency-Key` records. A POST that creates or moves value calls [`begin`] before it
//! acts and [`complete`] with its response after. The key is scoped to the caller, so two
//! users can never see each other's responses. Same key and same request replays the first
//! response; same key and another request is refused (422); a second request while the first
//! is still running is refused (409). A 5xx is not recorded ([`abandon`]), so the client may
//! retry with the same key.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::{
    db,
    entities::idempotency_key::{self, State},
    error::{Error, Result},
};

/// How long a key is remembered.
pub const KEY_TTL_HOURS: i64 = 24;

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What [`begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First time: go ahead, then call [`complete`] or [`abandon`].
    Proceed,
    /// Seen and finished: answer this.
    Replay(StoredResponse),
}

/// Fingerprint of a request: method, path with query, and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// Checks a client's key: 1 to 255 visible ASCII characters.
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::BadRequest {
            code: "invalid_idempotency_key",
            message: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
        });
    }
    Ok(())
}

/// Claims `key` for `caller`'s request with fingerprint `hash`.
pub async fn begin(
    db: &impl ConnectionTrait,
    caller: &str,
    key: &str,
    hash: &str,
) -> Result<Begin> {
    validate_key(key)?;
    for _ in 0..2 {
        let now = Utc::now();
        let inserted = idempotency_key::ActiveModel {
            caller: Set(caller.into()),
            key: Set(key.into()),
            request_hash: Set(hash.into()),
            state: Set(State::InFlight),
            response_status: Set(None),
            response_content_type: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            expires_at: Set(now + Duration::hours(KEY_TTL_HOURS)),
        }
        .insert(db)
        .await;
        match inserted {
            Ok(_) => return Ok(Begin::Proceed),
            Err(e) if db::is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(existing) =
            idempotency_key::Entity::find_by_id((caller.to_string(), key.to_string()))
                .one(db)
                .await?
        else {
            continue;
        };
        if existing.expires_at <= now {
            idempotency_key::Entity::delete_many()
                .filter(idempotency_key::Column::Caller.eq(caller))
                .filter(idempotency_key::Column::Key.eq(key))
                .filter(idempotency_key::Column::ExpiresAt.lte(now))
                .exec(db)
                .await?;
            continue;
        }
        if existing.request_hash != hash {
            return Err(Error::Unprocessable {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was used for a different request".into(),
            });
        }
        return match (existing.state, existing.response_status) {
            (State::Completed, Some(status)) => Ok(Begin::Replay(StoredResponse {
                status: status as u16,
                content_type: existing.response_content_type.unwrap_or_default(),
                body: existing.response_body.unwrap_or_default(),
            })),
            _ => Err(Error::conflict(
                "idempotency_request_in_flight",
                "a request with this Idempotency-Key is still being processed",
            )),
        };
    }
    Err(Error::conflict(
        "idempotency_request_in_flight",
        "a request with this Idempotency-Key is still being processed",
    ))
}

/// Records the response of a request begun with [`begin`].
pub async fn complete(
    db: &impl ConnectionTrait,
    caller: &str,
    key: &str,
    response: StoredResponse,
) -> Result<()> {
    idempotency_key::Entity::update_many()
        .set(idempotency_key::ActiveModel {
            state: Set(State::Completed),
            response_status: Set(Some(response.status as i16)),
            response_content_type: Set(Some(response.content_type)),
            response_body: Set(Some(response.body)),
            ..Default::default()
        })
        .filter(idempotency_key::Column::Caller.eq(caller))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a key whose request failed without a recordable answer.
pub async fn abandon(db: &impl ConnectionTrait, caller: &str, key: &str) -> Result<()> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Caller.eq(caller))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::State.eq(State::InFlight))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes expired keys; returns how many.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
