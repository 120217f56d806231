//! `/tasks`: the plan's task board, filtered by section, lead unit and status.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use wufei_domain::{
    Platform,
    disclosure::tasks::{self, TaskFilter, TaskView},
};

use super::{
    labels::{self, TASK_STATUSES},
    lists::{Choice, choices},
    render::{Ctx, Shell, page, query},
};

/// A task as the board reads.
pub struct TaskRow {
    /// Its section.
    pub section: String,
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
    /// Lead units.
    pub lead_units: String,
    /// Responsible units.
    pub responsible_units: String,
    /// Deadline as the plan writes it.
    pub deadline: String,
    /// Status code (a style class).
    pub status: &'static str,
    /// Status name.
    pub status_name: &'static str,
}

impl TaskRow {
    fn of(t: &TaskView) -> Self {
        Self {
            section: t.section.clone(),
            title: t.title.clone(),
            text: t.text.clone(),
            lead_units: t.lead_units.join("、"),
            responsible_units: t.responsible_units.join("、"),
            deadline: t.deadline.clone().unwrap_or_else(|| "—".into()),
            status: t.status.as_str(),
            status_name: labels::task_status(t.status),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/tasks.html")]
struct TasksPage {
    shell: Shell,
    rows: Vec<TaskRow>,
    total: usize,
    sections: Vec<Choice>,
    units: Vec<Choice>,
    statuses: Vec<Choice>,
}

/// `GET /tasks`: the plan's tasks, filtered by section, lead unit and status.
pub async fn board(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let mut filter: TaskFilter = query(&req)?;
        for f in [
            &mut filter.section,
            &mut filter.lead_unit,
            &mut filter.status,
        ] {
            if f.as_deref().is_some_and(str::is_empty) {
                *f = None;
            }
        }
        let all = tasks::list(&platform.db, &TaskFilter::default()).await?;
        let shown = tasks::list(&platform.db, &filter).await?;
        let mut sections: Vec<&str> = all.iter().map(|t| t.top_section.as_str()).collect();
        sections.dedup();
        let mut units: Vec<&str> = all
            .iter()
            .flat_map(|t| t.lead_units.iter().map(String::as_str))
            .collect();
        units.sort_unstable();
        units.dedup();
        Ok(TasksPage {
            shell: ctx.shell(
                "tasks",
                "任务清单",
                "聊城市“无废城市”建设实施方案的任务清单：牵头单位、完成时限和进展。",
            ),
            total: all.len(),
            rows: shown.iter().map(TaskRow::of).collect(),
            sections: choices(sections.iter().map(|s| (*s, *s)), filter.section.as_deref()),
            units: choices(units.iter().map(|u| (*u, *u)), filter.lead_unit.as_deref()),
            statuses: choices(TASK_STATUSES, filter.status.as_deref()),
        })
    }
    .await;
    page(&ctx, &req, result)
}
