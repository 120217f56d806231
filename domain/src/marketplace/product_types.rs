//! Product types: reference data seeded with the schema (recycled coarse and fine
//! aggregate, recycled and permeable brick, road-base mixture, recycled concrete block),
//! each with the units it is traded in and the standards it is made to. Super
//! administrators add more; codes never change.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use crate::{
    audit,
    auth::Principal,
    entities::market_product_type::{self as product_type, Entity as ProductTypes},
    error::{Error, Result},
    validate::Check,
};

/// Units a product type may be traded in.
pub const UNITS: [&str; 6] = ["t", "m3", "m2", "piece", "thousand_pieces", "kg"];

/// A product type.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProductType {
    /// Code (`recycled_coarse_aggregate` …).
    pub code: String,
    /// Name (再生粗骨料 …).
    pub name: String,
    /// Units it is traded in (`t`, `m3`, `m2`, `piece`, `thousand_pieces`, `kg`).
    pub units: Vec<String>,
    /// Standards it is made to (`GB/T 25177` …).
    pub standards: Vec<String>,
}

impl From<product_type::Model> for ProductType {
    fn from(p: product_type::Model) -> Self {
        Self {
            code: p.code,
            name: p.name,
            units: serde_json::from_str(&p.units).unwrap_or_default(),
            standards: serde_json::from_str(&p.standards).unwrap_or_default(),
        }
    }
}

/// Every product type, in their order.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<ProductType>> {
    Ok(ProductTypes::find()
        .order_by_asc(product_type::Column::Position)
        .order_by_asc(product_type::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(ProductType::from)
        .collect())
}

/// Product type `code`, or a 422 on `field`.
pub async fn known(db: &impl ConnectionTrait, field: &str, code: &str) -> Result<ProductType> {
    ProductTypes::find_by_id(code.to_string())
        .one(db)
        .await?
        .map(ProductType::from)
        .ok_or_else(|| Error::field(field, "unknown", "no such product type"))
}

/// 422 on `field` unless `unit` is one of `ty`'s units.
pub fn check_unit(check: &mut Check, field: &str, ty: &ProductType, unit: &str) {
    check.ensure(
        ty.units.iter().any(|u| u == unit),
        field,
        "invalid",
        format!("must be one of {} for {}", ty.units.join(", "), ty.code),
    );
}

/// A new product type.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProductType {
    /// Code: 3–40 lowercase letters, digits and `_`, starting with a letter.
    #[schema(pattern = "^[a-z][a-z0-9_]{2,39}$")]
    pub code: String,
    /// Name, 1–64 characters.
    pub name: String,
    /// Units, 1–6 of `t`, `m3`, `m2`, `piece`, `thousand_pieces`, `kg`.
    pub units: Vec<String>,
    /// Standards, up to 8, each 1–64 characters.
    #[serde(default)]
    pub standards: Vec<String>,
}

fn valid_code(code: &str) -> bool {
    let b = code.as_bytes();
    (3..=40).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Adds a product type (super administrators). Audited.
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Principal,
    new: NewProductType,
) -> Result<ProductType> {
    who.require_super_admin()?;
    let mut check = Check::new();
    check.ensure(
        valid_code(&new.code),
        "code",
        "invalid",
        "3–40 lowercase letters, digits and _, starting with a letter",
    );
    let name = check.text("name", &new.name, 1, 64);
    check.ensure(
        (1..=6).contains(&new.units.len()) && new.units.iter().all(|u| UNITS.contains(&u.as_str())),
        "units",
        "invalid",
        format!("1 to 6 of {}", UNITS.join(", ")),
    );
    check.ensure(
        new.standards.len() <= 8,
        "standards",
        "too_long",
        "at most 8",
    );
    let standards: Vec<String> = new
        .standards
        .iter()
        .enumerate()
        .map(|(i, s)| check.text(&format!("standards[{i}]"), s, 1, 64))
        .collect();
    check.finish()?;
    if ProductTypes::find_by_id(new.code.clone()).count(db).await? > 0 {
        return Err(Error::conflict(
            "already_exists",
            "a product type with this code exists",
        ));
    }
    let position = i32::try_from(ProductTypes::find().count(db).await?).unwrap_or(i32::MAX);
    let row = product_type::ActiveModel {
        code: Set(new.code),
        name: Set(name),
        units: Set(serde_json::to_string(&new.units).unwrap_or_default()),
        standards: Set(serde_json::to_string(&standards).unwrap_or_default()),
        position: Set(position),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        Some(who.user_id),
        "market_product_type.create",
        "market_product_type",
        &row.code,
        serde_json::json!({ "name": row.name, "units": row.units }),
    )
    .await?;
    Ok(row.into())
}
