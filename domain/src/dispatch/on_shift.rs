//! A recycler came on shift (or back on the map): the pickups waiting in their districts
//! are dispatched again.

use chrono::Utc;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{dispatcher::Dispatcher, tries::IfNobody};
use crate::{db::SqlArgs, error::Result, pickups::Status};

/// Waiting pickups one recycler's coming on shift dispatches again, soonest slot first.
const ON_SHIFT_BATCH: u64 = 100;

impl Dispatcher {
    /// A recycler came on shift: dispatches again the waiting pickups of the districts they
    /// serve (pending, not in manual dispatch, slot not near; at most 100,
    /// soonest slot first). Each round is an ordinary one, so the pickup may go to another
    /// recycler who ranks better; one that still finds nobody is left to its scheduled
    /// retry. Returns how many pickups it tried.
    #[tracing::instrument(skip(self))]
    pub async fn recycler_on_shift(&self, recycler_id: Uuid) -> Result<usize> {
        let manual_before = self.policy.manual_before_delta();
        let backend = self.db.get_database_backend();
        let mut a = SqlArgs::default();
        let sql = format!(
            "SELECT p.id FROM pickups p \
             JOIN recycler_districts d ON d.district_code = p.district_code \
               AND d.recycler_id = {} \
             JOIN pickup_slots s ON s.id = p.slot_id \
             WHERE p.status = {} AND p.manual_dispatch = {} AND s.starts_at > {} \
             ORDER BY s.starts_at, p.id LIMIT {ON_SHIFT_BATCH}",
            a.arg(recycler_id),
            a.arg(Status::PendingDispatch.as_str()),
            a.arg(false),
            a.arg(Utc::now() + manual_before),
        );
        let rows = self.db.query_all_raw(a.statement_for(backend, sql)).await?;
        let mut tried = 0;
        for row in rows {
            let id: Uuid = row.try_get("", "id")?;
            self.dispatch_as(id, None, IfNobody::Leave).await?;
            tried += 1;
        }
        Ok(tried)
    }
}
