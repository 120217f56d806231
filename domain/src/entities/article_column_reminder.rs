//! The `article_column_reminders` table: one row per column (category and scope: a
//! district code or `city`) and the publication it has been waiting on since, so each
//! staleness episode is reminded of once. Schema owned by `wufei-migrations`
//! (`m20261207_000019_articles`).

use sea_orm::entity::prelude::*;

/// One reminder sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_column_reminders")]
pub struct Model {
    /// The column's category.
    #[sea_orm(primary_key, auto_increment = false)]
    pub category: String,
    /// `city` or a district code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The column's last publication when the reminder went out.
    #[sea_orm(primary_key, auto_increment = false)]
    pub since: DateTimeUtc,
    /// When it went out.
    pub created_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
