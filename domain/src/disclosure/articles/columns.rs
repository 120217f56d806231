//! Column freshness. Government websites are inspected for stale columns: news (工作动态)
//! older than two weeks, notices and policies older than six months. A column is a category
//! in one scope (city-wide, or one district); it exists once it has published something.
//! Administrators see each column's age against its limit; a daily job reminds the
//! column's administrators once per staleness episode, some days before the limit; the
//! public sees each column's last update.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionSession,
    TransactionTrait, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::{Principal, Role, users},
    entities::{
        article::{self, Category, Status},
        article_column_reminder as reminder,
    },
    error::Result,
    notifications::{self, NewNotification},
};

/// Days after which a column is stale, if it has a limit.
pub fn limit_days(c: Category) -> Option<i64> {
    match c {
        Category::News => Some(14),
        Category::Notice | Category::Policy => Some(182),
        Category::CellShowcase | Category::Science => None,
    }
}

/// How many days before its limit a column's administrators are reminded.
pub fn remind_before_days(c: Category) -> i64 {
    match c {
        Category::News => 3,
        _ => 30,
    }
}

/// How a column stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Well within its limit.
    Fresh,
    /// Within the reminder window before its limit.
    DueSoon,
    /// Past its limit.
    Stale,
    /// The column has no limit.
    NoLimit,
}

/// One column.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ColumnView {
    /// The category.
    pub category: Category,
    /// Its Chinese name.
    pub name: String,
    /// `city` or a district code.
    pub scope: String,
    /// When it last published something.
    pub last_published_at: DateTime<Utc>,
    /// Whole days since then (administrators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// Days after which it counts as stale; absent when it has no limit (administrators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_days: Option<i64>,
    /// How it stands (administrators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
}

/// Which columns the public asks about.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ColumnQuery {
    /// `city` (default) or a district code.
    #[param(max_length = 12)]
    pub scope: Option<String>,
}

/// Every column's last publication, by (category, scope).
async fn last_updates(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<(Category, String), DateTime<Utc>>> {
    let rows: Vec<(Category, Option<String>, Option<DateTime<Utc>>)> = article::Entity::find()
        .select_only()
        .column(article::Column::Category)
        .column(article::Column::DistrictCode)
        .column_as(article::Column::PublishedAt.max(), "last")
        .filter(article::Column::Status.eq(Status::Published))
        .group_by(article::Column::Category)
        .group_by(article::Column::DistrictCode)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, d, last)| Some(((c, d.unwrap_or_else(|| "city".into())), last?)))
        .collect())
}

fn freshness(c: Category, age_days: i64) -> Freshness {
    match limit_days(c) {
        None => Freshness::NoLimit,
        Some(limit) if age_days > limit => Freshness::Stale,
        Some(limit) if age_days >= limit - remind_before_days(c) => Freshness::DueSoon,
        Some(_) => Freshness::Fresh,
    }
}

fn column(
    c: Category,
    scope: String,
    last: DateTime<Utc>,
    now: Option<DateTime<Utc>>,
) -> ColumnView {
    let age = now.map(|n| (n - last).num_days());
    ColumnView {
        category: c,
        name: c.name().into(),
        scope,
        last_published_at: last,
        age_days: age,
        limit_days: now.and(limit_days(c)),
        freshness: age.map(|a| freshness(c, a)),
    }
}

/// The last update of each column of `scope` (`city` by default) that has one.
pub async fn public(db: &impl ConnectionTrait, q: &ColumnQuery) -> Result<Vec<ColumnView>> {
    let scope = q.scope.clone().unwrap_or_else(|| "city".into());
    Ok(last_updates(db)
        .await?
        .into_iter()
        .filter(|((_, s), _)| *s == scope)
        .map(|((c, s), last)| column(c, s, last, None))
        .collect())
}

/// The columns `who` administers, with their age and standing, stalest first.
pub async fn for_admin(
    db: &impl ConnectionTrait,
    who: &Principal,
    now: DateTime<Utc>,
) -> Result<Vec<ColumnView>> {
    who.require_role(&[Role::Admin])?;
    let mut out: Vec<ColumnView> = last_updates(db)
        .await?
        .into_iter()
        .filter(|((_, s), _)| who.is_super_admin() || who.district_code.as_deref() == Some(s))
        .map(|((c, s), last)| column(c, s, last, Some(now)))
        .collect();
    out.sort_by_key(|c| {
        (
            c.freshness != Some(Freshness::Stale),
            c.freshness != Some(Freshness::DueSoon),
            c.last_published_at,
        )
    });
    Ok(out)
}

/// Reminds each column's administrators once when it enters its reminder window (and
/// again only after it has published and aged again). Idempotent: the reminder row keyed by
/// the column and its last publication is claimed in the transaction that notifies.
/// Returns how many columns were reminded of.
pub async fn remind(db: &impl TransactionTrait, now: DateTime<Utc>) -> Result<u64> {
    let txn = db.begin().await?;
    let mut reminded = 0;
    for ((c, scope), last) in last_updates(&txn).await? {
        let Some(limit) = limit_days(c) else {
            continue;
        };
        let age = (now - last).num_days();
        if age < limit - remind_before_days(c) {
            continue;
        }
        let claimed = reminder::Entity::insert(reminder::ActiveModel {
            category: Set(c.as_str().into()),
            scope: Set(scope.clone()),
            since: Set(last),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                reminder::Column::Category,
                reminder::Column::Scope,
                reminder::Column::Since,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if claimed == 0 {
            continue;
        }
        reminded += 1;
        let district = (scope != "city").then_some(scope.as_str());
        let due = last + Duration::days(limit);
        for user_id in users::administrators_of(&txn, district).await? {
            notifications::notify(
                &txn,
                NewNotification {
                    user_id,
                    kind: "column".into(),
                    title: "栏目即将超期未更新".into(),
                    body: format!(
                        "「{}」栏目已 {age} 天未更新，请在 {} 前发布新内容。",
                        c.name(),
                        due.format("%Y-%m-%d")
                    ),
                    data: serde_json::json!({
                        "category": c.as_str(),
                        "scope": scope,
                        "age_days": age,
                        "limit_days": limit,
                    }),
                },
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(reminded)
}

#[cfg(test)]
mod tests {
    use super::{Category, Freshness, freshness};

    #[test]
    fn news_goes_stale_after_two_weeks_notices_after_six_months() {
        assert_eq!(freshness(Category::News, 10), Freshness::Fresh);
        assert_eq!(freshness(Category::News, 11), Freshness::DueSoon);
        assert_eq!(freshness(Category::News, 14), Freshness::DueSoon);
        assert_eq!(freshness(Category::News, 15), Freshness::Stale);
        assert_eq!(freshness(Category::Notice, 151), Freshness::Fresh);
        assert_eq!(freshness(Category::Policy, 152), Freshness::DueSoon);
        assert_eq!(freshness(Category::Policy, 183), Freshness::Stale);
        assert_eq!(freshness(Category::Science, 900), Freshness::NoLimit);
    }
}
