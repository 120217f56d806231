//! The recycler's day: open offers, accept, reject, depart, arrive, no-show with proof, and
//! completion with the weigh ticket, which stages the event settlement consumes. Also
//! manual dispatch by administrators and station managers, and their monitor. One file
//! per action.

mod assign;
mod complete;
mod lists;
mod offers;
mod steps;

use sea_orm::{ConnectionTrait, EntityTrait};

pub(crate) use self::complete::{record_weighed, validate_weighed};
pub use self::{
    assign::{AssignInput, assign_manually},
    complete::{CompleteInput, WeighedItem, complete},
    lists::{MonitorQuery, assigned, monitor},
    offers::{OfferView, RejectInput, accept, open_offers, reject},
    steps::{NoShowInput, arrive, depart, no_show},
};
use crate::{
    auth::{Principal, Role},
    entities::recycler,
    error::{Error, Result},
};

/// The caller as an approved recycler (403 otherwise).
pub async fn approved_recycler(
    db: &impl ConnectionTrait,
    who: &Principal,
) -> Result<recycler::Model> {
    who.require_role(&[Role::Recycler])?;
    recycler::Entity::find_by_id(who.user_id)
        .one(db)
        .await?
        .filter(|r| r.status == "approved")
        .ok_or_else(|| Error::forbidden("this needs an approved recycler"))
}
