//! What recyclers and administrators list: a recycler's assigned work, and the
//! administrators' monitor of their districts' pickups.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use super::approved::approved_recycler;
use crate::{
    auth::{Principal, Role},
    entities::pickup,
    error::{Error, Result},
    paging::{Page, PageRequest},
    pickups::{status::Status, views::PickupView, views::page_of_views},
};

/// The caller's assigned work: pickups in hand and those done today, by slot.
pub async fn assigned(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<PickupView>> {
    approved_recycler(db, who).await?;
    let mut q = pickup::Entity::find()
        .filter(pickup::Column::RecyclerId.eq(who.user_id))
        .order_by_desc(pickup::Column::Id)
        .limit(page.limit + 1);
    if let Some(b) = page.before {
        q = q.filter(pickup::Column::Id.lt(b));
    }
    page_of_views(db, q.all(db).await?, page.limit).await
}

/// Filters of the administrators' pickup monitor.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct MonitorQuery {
    /// Only this state.
    pub status: Option<String>,
    /// Only this district (district administrators: always theirs).
    pub district_code: Option<String>,
    /// Only pickups waiting for manual dispatch.
    pub manual: Option<bool>,
    /// Items per page.
    pub limit: Option<u64>,
    /// Cursor.
    pub cursor: Option<String>,
}

/// The monitor: pickups of the districts the caller administers, newest first.
pub async fn monitor(
    db: &impl ConnectionTrait,
    who: &Principal,
    q: MonitorQuery,
) -> Result<Page<PickupView>> {
    who.require_role(&[Role::Admin, Role::StationManager])?;
    let page = crate::paging::PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    }
    .parse()?;
    let mut find = pickup::Entity::find()
        .order_by_desc(pickup::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        let own = who.district_code.clone().unwrap_or_default();
        if q.district_code.as_ref().is_some_and(|d| *d != own) {
            return Err(Error::forbidden("you administer another district"));
        }
        find = find.filter(pickup::Column::DistrictCode.eq(own));
    } else if let Some(d) = &q.district_code {
        find = find.filter(pickup::Column::DistrictCode.eq(d.as_str()));
    }
    if let Some(s) = &q.status {
        let status: Status = s
            .parse()
            .map_err(|_| Error::field("status", "invalid", "not a pickup state"))?;
        find = find.filter(pickup::Column::Status.eq(status));
    }
    if let Some(m) = q.manual {
        find = find.filter(pickup::Column::ManualDispatch.eq(m));
    }
    if let Some(b) = page.before {
        find = find.filter(pickup::Column::Id.lt(b));
    }
    page_of_views(db, find.all(db).await?, page.limit).await
}
