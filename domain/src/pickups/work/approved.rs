//! Who may do the recycler's day: an approved recycler.

use sea_orm::{ConnectionTrait, EntityTrait};

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
        .filter(|r| r.status == recycler::Status::Approved)
        .ok_or_else(|| Error::forbidden("this needs an approved recycler"))
}
