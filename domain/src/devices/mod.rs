//! Smart devices (recycling bins, kitchen-waste scales): administrators register them and
//! rotate their secrets; devices post HMAC-signed deposit events that credit a resident's
//! points ([`deposit`]).
//!
//! A device's secret is random (256 bits, hex), shown once when the device is registered or
//! its secret rotated, and stored in `devices.secret` sealed under a configured key
//! ([`sealing`]): the server needs it to check each signature (an HMAC cannot be checked
//! against a hash of its key). No other answer carries it, and these routes are not under
//! `Idempotency-Key` so no stored replay holds it either.

pub mod deposit;
pub mod sealing;

pub use sealing::DeviceKeys;

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, Role},
    entities::{device, district},
    error::{Error, Result},
    paging::{Page, PageRequest},
    validate::Check,
};

pub use crate::entities::device::Kind;

/// The category code a kitchen-waste scale takes.
pub const KITCHEN_WASTE: &str = "kitchen_waste";

/// A device as administrators see it (never with its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    /// Id (the `{device_id}` of the deposit URL).
    pub id: Uuid,
    /// `recycling_bin` or `kitchen_waste_scale`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// The district whose points budget pays its deposits.
    pub district_code: String,
    /// Where it stands.
    pub station: String,
    /// Whether it may post deposits.
    pub active: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// Its last accepted deposit.
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl From<device::Model> for DeviceView {
    fn from(d: device::Model) -> Self {
        Self {
            id: d.id,
            kind: d.kind.as_str().into(),
            name: d.name,
            district_code: d.district_code,
            station: d.station,
            active: d.active,
            created_at: d.created_at,
            last_seen_at: d.last_seen_at,
        }
    }
}

/// A device with its secret: the answer to registering it or rotating its secret, the
/// only time the secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeviceWithSecret {
    /// The device.
    #[serde(flatten)]
    pub device: DeviceView,
    /// The HMAC-SHA256 key (64 hex characters) it signs deposits with. Shown only now.
    pub secret: String,
}

/// A device to register.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// `recycling_bin` or `kitchen_waste_scale`.
    pub kind: String,
    /// Name (1–128 characters).
    pub name: String,
    /// Its district (district administrators: their own).
    pub district_code: String,
    /// Where it stands (up to 200 characters).
    #[serde(default)]
    pub station: Option<String>,
}

/// Changes to a device.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    /// New name.
    pub name: Option<String>,
    /// New station.
    pub station: Option<String>,
    /// `false` refuses its deposits from now on; `true` accepts them again.
    pub active: Option<bool>,
}

const MAX_STATION: usize = 200;

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Registers a device with a fresh secret (super administrators anywhere, district
/// administrators in their district). Audited (without the secret).
#[tracing::instrument(skip(db, keys, who, new), fields(actor = %who.user_id))]
pub async fn register(
    db: &impl TransactionTrait,
    keys: &DeviceKeys,
    who: &Principal,
    new: NewDevice,
) -> Result<DeviceWithSecret> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let kind = Kind::parse(&new.kind);
    check.ensure(
        kind.is_some(),
        "kind",
        "invalid",
        "must be recycling_bin or kitchen_waste_scale",
    );
    let name = check.text("name", &new.name, 1, 128);
    let station = check.text(
        "station",
        new.station.as_deref().unwrap_or(""),
        0,
        MAX_STATION,
    );
    check.finish()?;
    let kind = kind.ok_or_else(|| Error::Internal(anyhow::anyhow!("kind checked above")))?;
    who.require_district(&new.district_code)?;
    let txn = db.begin().await?;
    if district::Entity::find_by_id(new.district_code.clone())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(Error::field("district_code", "unknown", "no such district"));
    }
    let secret = new_secret();
    let id = Uuid::now_v7();
    let d = device::ActiveModel {
        id: Set(id),
        kind: Set(kind),
        name: Set(name),
        district_code: Set(new.district_code.clone()),
        station: Set(station),
        secret: Set(keys.seal(id, &secret)),
        active: Set(true),
        created_at: Set(Utc::now()),
        last_seen_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "device.create",
        "device",
        &d.id.to_string(),
        serde_json::json!({
            "kind": d.kind.as_str(),
            "name": d.name,
            "district_code": d.district_code,
            "station": d.station,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(DeviceWithSecret {
        device: d.into(),
        secret,
    })
}

/// Devices, newest first (district administrators: their district's; others may filter by
/// district).
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Principal,
    district_code: Option<&str>,
    page: PageRequest,
) -> Result<Page<DeviceView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = device::Entity::find()
        .order_by_desc(device::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        q = q
            .filter(device::Column::DistrictCode.eq(who.district_code.clone().unwrap_or_default()));
    }
    if let Some(d) = district_code {
        q = q.filter(device::Column::DistrictCode.eq(d));
    }
    if let Some(b) = page.before {
        q = q.filter(device::Column::Id.lt(b));
    }
    let rows = q.all(db).await?;
    let more = rows.len() as u64 > page.limit;
    let items: Vec<DeviceView> = rows
        .into_iter()
        .take(page.limit as usize)
        .map(DeviceView::from)
        .collect();
    let next_cursor = if more {
        items.last().map(|v| v.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The device if the caller may administer it (404 otherwise, so a district administrator
/// learns nothing of other districts' devices).
async fn find_own(txn: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<device::Model> {
    who.require_role(&[Role::Admin])?;
    device::Entity::find_by_id(id)
        .one(txn)
        .await?
        .filter(|d| who.may_administer_district(&d.district_code))
        .ok_or(Error::NotFound { what: "device" })
}

/// Renames, moves to another station, deactivates or reactivates a device. Audited.
#[tracing::instrument(skip(db, who, patch), fields(actor = %who.user_id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: DevicePatch,
) -> Result<DeviceView> {
    let mut check = Check::new();
    let name = patch.name.as_deref().map(|n| check.text("name", n, 1, 128));
    let station = patch
        .station
        .as_deref()
        .map(|s| check.text("station", s, 0, MAX_STATION));
    check.finish()?;
    let txn = db.begin().await?;
    let d = find_own(&txn, who, id).await?;
    let mut changed = audit::Changes::default();
    let mut am: device::ActiveModel = d.clone().into();
    if let Some(n) = changed.track("name", &d.name, name) {
        am.name = Set(n);
    }
    if let Some(s) = changed.track("station", &d.station, station) {
        am.station = Set(s);
    }
    if let Some(a) = changed.track("active", &d.active, patch.active) {
        am.active = Set(a);
    }
    let d = if changed.is_empty() {
        d
    } else {
        let d = am.update(&txn).await?;
        audit::record(
            &txn,
            Some(who.user_id),
            "device.update",
            "device",
            &id.to_string(),
            changed.into_detail(),
        )
        .await?;
        d
    };
    txn.commit().await?;
    Ok(d.into())
}

/// Gives a device a new secret (the old one stops working at once). Audited.
#[tracing::instrument(skip(db, keys, who), fields(actor = %who.user_id))]
pub async fn rotate_secret(
    db: &impl TransactionTrait,
    keys: &DeviceKeys,
    who: &Principal,
    id: Uuid,
) -> Result<DeviceWithSecret> {
    let txn = db.begin().await?;
    let d = find_own(&txn, who, id).await?;
    let secret = new_secret();
    let mut am: device::ActiveModel = d.into();
    am.secret = Set(keys.seal(id, &secret));
    let d = am.update(&txn).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "device.rotate_secret",
        "device",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(DeviceWithSecret {
        device: d.into(),
        secret,
    })
}
