//! Access tokens that stop at once. An access token is checked by its signature alone, so
//! a suspension, a role change or "sign out everywhere" writes `users.tokens_valid_after`
//! and bumps the [`GENERATION`] (see [`crate::ports::generations`]); every request with a
//! token reads the generation (in-process embedded, one Redis `GET` in production) and, when
//! it moved, the instance reloads the few accounts revoked within an access token's
//! lifetime. A token issued before its account's `tokens_valid_after` is refused.
//!
//! If the generation cannot be read (Redis away), the account's row is read instead, so
//! the check never passes unchecked. A bump that could not be written after its commit is
//! caught by the reload every [`RELOAD_EVERY`].

use std::{
    collections::HashMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    entities::user,
    error::{Error, Result},
    ports::generations::Generations,
};

/// The generation bumped after every revocation.
pub const GENERATION: &str = "revocations";

/// How often an instance reloads the revocations even when it heard of no change.
pub const RELOAD_EVERY: Duration = Duration::from_secs(30);

#[derive(Default)]
struct State {
    generation: Option<u64>,
    loaded_at: Option<Instant>,
    /// Account → the first millisecond its tokens are good from.
    valid_after_ms: HashMap<Uuid, i64>,
}

/// This process's view of the revoked accounts.
#[derive(Default)]
pub struct Revocations {
    state: RwLock<State>,
}

fn revoked() -> Error {
    Error::unauthenticated(
        "token_revoked",
        "this session was ended (the account was suspended, its role changed, or it signed out everywhere); sign in again",
    )
}

impl Revocations {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses a token of `user` issued at `issued_ms` (unix milliseconds) if the account's
    /// tokens were revoked after that.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        generations: &dyn Generations,
        access_ttl_secs: u64,
        user: Uuid,
        issued_ms: i64,
    ) -> Result<()> {
        let Ok(generation) = generations.current(GENERATION).await else {
            let row: Option<Option<DateTime<Utc>>> = user::Entity::find_by_id(user)
                .select_only()
                .column(user::Column::TokensValidAfter)
                .into_tuple()
                .one(db)
                .await?;
            return match row.flatten() {
                Some(t) if issued_ms < t.timestamp_millis() => Err(revoked()),
                _ => Ok(()),
            };
        };
        let fresh = {
            let s = self.read();
            s.generation == Some(generation)
                && s.loaded_at.is_some_and(|at| at.elapsed() < RELOAD_EVERY)
        };
        if !fresh {
            self.reload(db, generation, access_ttl_secs).await?;
        }
        match self.read().valid_after_ms.get(&user) {
            Some(t) if issued_ms < *t => Err(revoked()),
            _ => Ok(()),
        }
    }

    /// Loads the accounts revoked within the last access-token lifetime (older revocations
    /// no longer matter: every token they stopped has expired).
    async fn reload(
        &self,
        db: &impl ConnectionTrait,
        generation: u64,
        access_ttl_secs: u64,
    ) -> Result<()> {
        let since = Utc::now()
            - chrono::Duration::seconds(i64::try_from(access_ttl_secs).unwrap_or(i64::MAX) + 60);
        let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::TokensValidAfter)
            .filter(user::Column::TokensValidAfter.gt(since))
            .into_tuple()
            .all(db)
            .await?;
        let map = rows
            .into_iter()
            .filter_map(|(id, t)| Some((id, t?.timestamp_millis())))
            .collect();
        let mut s = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Never step back to an older generation another request already loaded.
        if s.generation.is_none_or(|g| g <= generation) {
            *s = State {
                generation: Some(generation),
                loaded_at: Some(Instant::now()),
                valid_after_ms: map,
            };
        }
        Ok(())
    }
}

/// Tells every instance that revocations changed (after the commit). A failure is logged:
/// instances still see it within [`RELOAD_EVERY`].
pub async fn announce(generations: &dyn Generations) {
    if let Err(e) = generations.bump(GENERATION).await {
        tracing::warn!(error = %e, "revocation generation not bumped; instances reload within 30 s");
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use chrono::Utc;
    use sea_orm::{EntityTrait, sea_query::Expr};

    use super::{GENERATION, Revocations};
    use crate::{
        auth::{Role, users},
        entities::user,
        error::Error,
        ports::{
            PortError,
            generations::{Generations, embedded::EmbeddedGenerations},
        },
    };

    /// A generations port whose backend is away.
    struct Away;

    #[async_trait]
    impl Generations for Away {
        async fn current(&self, _: &str) -> Result<u64, PortError> {
            Err(PortError::backend("redis", "away"))
        }
        async fn bump(&self, _: &str) -> Result<u64, PortError> {
            Err(PortError::backend("redis", "away"))
        }
    }

    #[tokio::test]
    async fn a_token_from_before_the_revocation_is_refused_with_or_without_the_generation() {
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        crate::seed::reference(&db).await.unwrap();
        let u = users::create_staff(
            &db,
            users::NewStaff {
                phone: "13600000088".into(),
                password: "a staff password".into(),
                role: Role::Recycler,
                admin_scope: None,
                district_code: None,
                nickname: String::new(),
            },
        )
        .await
        .unwrap();
        let generations = EmbeddedGenerations::new();
        let revocations = Revocations::default();
        let before = Utc::now().timestamp_millis() - 5;
        revocations
            .check(&db, &generations, 900, u.id, before)
            .await
            .unwrap();

        user::Entity::update_many()
            .col_expr(user::Column::TokensValidAfter, Expr::value(Utc::now()))
            .exec(&db)
            .await
            .unwrap();
        generations.bump(GENERATION).await.unwrap();
        let refused = |r: Result<(), Error>| {
            matches!(
                r,
                Err(Error::Unauthenticated {
                    code: "token_revoked",
                    ..
                })
            )
        };
        assert!(refused(
            revocations
                .check(&db, &generations, 900, u.id, before)
                .await
        ));
        assert!(refused(
            revocations.check(&db, &Away, 900, u.id, before).await
        ));
        let after = Utc::now().timestamp_millis() + 1;
        assert!(
            revocations
                .check(&db, &generations, 900, u.id, after)
                .await
                .is_ok()
        );
        assert!(
            revocations
                .check(&db, &Away, 900, u.id, after)
                .await
                .is_ok()
        );
    }
}
