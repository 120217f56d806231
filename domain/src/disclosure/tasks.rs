//! The plan's tasks (三 重点建设任务, 四 智慧平台, 五 无废文化) with their lead and responsible
//! units, deadlines and progress. City-wide administrators post progress updates (status,
//! text, optional evidence); a task's status is its latest update's. Audited.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    entities::{
        plan_task::{self as task, Status},
        plan_task_update as update, upload,
    },
    error::{Error, Result},
    validate::Check,
};

/// A progress update.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpdateView {
    /// Id.
    pub id: Uuid,
    /// The status it set.
    pub status: Status,
    /// What was done.
    pub text: String,
    /// An upload backing it (administrators read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_id: Option<Uuid>,
    /// When.
    pub created_at: chrono::DateTime<Utc>,
}

/// A task.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// Id (1–95, in the plan's order).
    pub id: i32,
    /// Section number (`三(三)4(3)`).
    pub section: String,
    /// Its top section (`三(三)`).
    pub top_section: String,
    /// Title.
    pub title: String,
    /// The plan's text of the task.
    pub text: String,
    /// Lead units (牵头单位).
    pub lead_units: Vec<String>,
    /// Responsible units (责任单位).
    pub responsible_units: Vec<String>,
    /// The deadline as the plan words it (`到2025年底`).
    pub deadline: Option<String>,
    /// The deadline as a date (a year reads as its last day).
    pub deadline_date: Option<chrono::NaiveDate>,
    /// `not_reported`, `not_started`, `in_progress`, `completed` or `delayed`.
    pub status: Status,
    /// When its status last changed.
    pub updated_at: Option<chrono::DateTime<Utc>>,
    /// Its updates, newest first (on the single task).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates: Option<Vec<UpdateView>>,
}

fn units(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

fn view(t: task::Model, updates: Option<Vec<UpdateView>>) -> TaskView {
    TaskView {
        id: t.id,
        lead_units: units(&t.lead_units),
        responsible_units: units(&t.responsible_units),
        section: t.section,
        top_section: t.top_section,
        title: t.title,
        text: t.text,
        deadline: t.deadline,
        deadline_date: t.deadline_date,
        status: t.status,
        updated_at: t.updated_at,
        updates,
    }
}

/// Filters of the task board.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct TaskFilter {
    /// A section and everything under it (`三`, `三(三)`, `三(三)4`).
    pub section: Option<String>,
    /// Tasks this unit leads (exactly as the plan writes it, `市住房城乡建设局`).
    pub lead_unit: Option<String>,
    /// `not_reported`, `not_started`, `in_progress`, `completed` or `delayed`.
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
}

fn parse_status(field: &str, s: &str, allow_unreported: bool) -> Result<Status> {
    let st = match s {
        "not_reported" if allow_unreported => Status::NotReported,
        "not_started" => Status::NotStarted,
        "in_progress" => Status::InProgress,
        "completed" => Status::Completed,
        "delayed" => Status::Delayed,
        _ => {
            return Err(Error::field(
                field,
                "invalid",
                "must be not_started, in_progress, completed or delayed",
            ));
        }
    };
    Ok(st)
}

/// Is `section` this section or one under it? (`三(三)` covers `三(三)4(3)`, not `三(三十)`.)
fn under(section: &str, prefix: &str) -> bool {
    section == prefix
        || section.strip_prefix(prefix).is_some_and(|rest| {
            rest.starts_with('(')
                || (rest.starts_with(|c: char| c.is_ascii_digit())
                    && !prefix.ends_with(|c: char| c.is_ascii_digit()))
        })
}

/// The task board, in the plan's order.
pub async fn list(db: &impl ConnectionTrait, filter: &TaskFilter) -> Result<Vec<TaskView>> {
    let status = filter
        .status
        .as_deref()
        .map(|s| parse_status("status", s, true))
        .transpose()?;
    let mut q = task::Entity::find().order_by_asc(task::Column::Id);
    if let Some(s) = status {
        q = q.filter(task::Column::Status.eq(s));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .filter(|t| {
            filter
                .section
                .as_deref()
                .is_none_or(|s| under(&t.section, s))
        })
        .map(|t| view(t, None))
        .filter(|t| {
            filter
                .lead_unit
                .as_deref()
                .is_none_or(|u| t.lead_units.iter().any(|l| l == u))
        })
        .collect())
}

/// One task with its updates.
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<TaskView> {
    let t = task::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "task" })?;
    let updates = update::Entity::find()
        .filter(update::Column::TaskId.eq(id))
        .order_by_desc(update::Column::Id)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|u| UpdateView {
            id: u.id,
            status: u.status,
            text: u.text,
            evidence_id: u.evidence_id,
            created_at: u.created_at,
        })
        .collect();
    Ok(view(t, Some(updates)))
}

/// A progress update to post.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdate {
    /// `not_started`, `in_progress`, `completed` or `delayed`.
    #[schema(value_type = Status)]
    pub status: String,
    /// What was done, 2–2000 characters.
    pub text: String,
    /// An upload of the caller's backing it.
    pub evidence_id: Option<Uuid>,
}

/// Posts a progress update (city-wide administrators); the task takes its status. Audited.
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id))]
pub async fn post_update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: i32,
    new: NewUpdate,
) -> Result<TaskView> {
    who.require_super_admin()?;
    let status = parse_status("status", &new.status, false)?;
    let mut check = Check::new();
    let text = check.text("text", &new.text, 2, 2000);
    check.finish()?;
    let txn = db.begin().await?;
    task::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "task" })?;
    if let Some(e) = new.evidence_id {
        let owned = upload::Entity::find_by_id(e)
            .filter(upload::Column::OwnerId.eq(who.user_id))
            .one(&txn)
            .await?
            .is_some();
        if !owned {
            return Err(Error::field(
                "evidence_id",
                "invalid",
                "must be your own upload",
            ));
        }
    }
    let now = Utc::now();
    update::ActiveModel {
        id: Set(Uuid::now_v7()),
        task_id: Set(id),
        status: Set(status),
        text: Set(text.clone()),
        evidence_id: Set(new.evidence_id),
        author_id: Set(who.user_id),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(status.as_str()))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "plan_task.update",
        "plan_task",
        &id.to_string(),
        serde_json::json!({ "status": status.as_str(), "text": text }),
    )
    .await?;
    let answer = get(&txn, id).await?;
    txn.commit().await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::under;

    #[test]
    fn sections_nest() {
        assert!(under("三(三)4(3)", "三"));
        assert!(under("三(三)4(3)", "三(三)"));
        assert!(under("三(三)4(3)", "三(三)4"));
        assert!(under("三(三)4(3)", "三(三)4(3)"));
        assert!(!under("三(三)4(3)", "三(三)4(3"));
        assert!(!under("三(三)14(1)", "三(三)1"));
        assert!(!under("四(一)", "三"));
    }
}
