//! Slot templates: the daily windows (Asia/Shanghai wall-clock times) from which concrete
//! slots are generated, with the weekdays they apply on. A template is city-wide (neither
//! district nor community), for one district, or for one community (its district recorded
//! beside it). Editing a template never touches slots already generated (see
//! [`super::generate`]). Super administrators manage every template; district
//! administrators those of their district, and may read the city-wide ones.

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, Role},
    entities::{community, district, slot_template},
    error::{Error, Result},
    validate::Check,
};

/// Most windows a template may have.
pub const MAX_WINDOWS: usize = 12;
/// Largest capacity (pickups) of one window.
pub const MAX_CAPACITY: i64 = 500;

/// One daily window of a template, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Local start (on the minute).
    pub start: NaiveTime,
    /// Local end, after `start`.
    pub end: NaiveTime,
    /// Pickups per slot.
    pub capacity: i32,
    /// Of which at most this many need a van.
    pub van_capacity: i32,
}

/// The van capacity of a window stored before `van_capacity` existed, or created without
/// one: a quarter of the capacity, at least 1.
pub fn default_van_capacity(capacity: i32) -> i32 {
    (capacity / 4).max(1).min(capacity.max(0))
}

/// A window as stored and as clients send and see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Local start, `HH:MM` (Asia/Shanghai).
    pub start: String,
    /// Local end, `HH:MM`, after `start`.
    pub end: String,
    /// Pickups per slot, 1..=500.
    pub capacity: i64,
    /// Of which need a van, 0..=capacity; omitted: capacity / 4, at least 1.
    pub van_capacity: Option<i64>,
}

fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    if s.len() != 5 {
        return None;
    }
    NaiveTime::parse_from_str(s, "%H:%M")
        .ok()
        .filter(|t| t.second() == 0)
}

/// Checks windows sent by a client; field errors are named `windows[i].start` and so on.
pub fn check_windows(check: &mut Check, specs: &[WindowSpec]) -> Vec<Window> {
    if specs.is_empty() || specs.len() > MAX_WINDOWS {
        check.fail(
            "windows",
            "out_of_range",
            format!("give between 1 and {MAX_WINDOWS} windows"),
        );
    }
    let mut out = Vec::with_capacity(specs.len());
    for (i, w) in specs.iter().enumerate() {
        let f = |name: &str| format!("windows[{i}].{name}");
        let start = parse_hhmm(&w.start);
        let end = parse_hhmm(&w.end);
        check.ensure(start.is_some(), f("start"), "invalid", "must be HH:MM");
        check.ensure(end.is_some(), f("end"), "invalid", "must be HH:MM");
        let capacity = check.range(&f("capacity"), w.capacity, 1, MAX_CAPACITY);
        let van_capacity = match w.van_capacity {
            Some(v) => check.range(&f("van_capacity"), v, 0, capacity.into()),
            None => default_van_capacity(capacity),
        };
        if let (Some(start), Some(end)) = (start, end) {
            if start < end {
                out.push((
                    i,
                    Window {
                        start,
                        end,
                        capacity,
                        van_capacity,
                    },
                ));
            } else {
                check.fail(f("end"), "invalid", "must be after start");
            }
        }
    }
    out.sort_by_key(|(_, w)| w.start);
    for pair in out.windows(2) {
        let ((_, a), (j, b)) = (pair[0], pair[1]);
        if b.start < a.end {
            check.fail(
                format!("windows[{j}].start"),
                "overlap",
                "windows must not overlap",
            );
        }
    }
    out.into_iter().map(|(_, w)| w).collect()
}

/// Reads a template's stored windows (old rows may lack `van_capacity`).
pub fn stored_windows(t: &slot_template::Model) -> Result<Vec<Window>> {
    let specs: Vec<WindowSpec> = serde_json::from_str(&t.windows)
        .map_err(|e| Error::Internal(anyhow::anyhow!("slot template {} windows: {e}", t.id)))?;
    specs
        .iter()
        .map(|w| {
            let (Some(start), Some(end)) = (parse_hhmm(&w.start), parse_hhmm(&w.end)) else {
                return Err(Error::Internal(anyhow::anyhow!(
                    "slot template {} has a bad window {w:?}",
                    t.id
                )));
            };
            let capacity = i32::try_from(w.capacity).unwrap_or(0).max(0);
            Ok(Window {
                start,
                end,
                capacity,
                van_capacity: w.van_capacity.map_or_else(
                    || default_van_capacity(capacity),
                    |v| i32::try_from(v).unwrap_or(0).clamp(0, capacity),
                ),
            })
        })
        .collect()
}

/// Reads a template's weekdays (1 = Monday … 7 = Sunday).
pub fn stored_weekdays(t: &slot_template::Model) -> Result<Vec<u8>> {
    serde_json::from_str(&t.weekdays)
        .map_err(|e| Error::Internal(anyhow::anyhow!("slot template {} weekdays: {e}", t.id)))
}

fn windows_json(windows: &[Window]) -> String {
    serde_json::to_string(&windows.iter().map(spec_of).collect::<Vec<_>>()).unwrap_or_default()
}

fn spec_of(w: &Window) -> WindowSpec {
    WindowSpec {
        start: w.start.format("%H:%M").to_string(),
        end: w.end.format("%H:%M").to_string(),
        capacity: w.capacity.into(),
        van_capacity: Some(w.van_capacity.into()),
    }
}

fn check_weekdays(check: &mut Check, days: Option<&[i64]>) -> Vec<u8> {
    let Some(days) = days else {
        return (1..=7).collect();
    };
    let mut out: Vec<u8> = Vec::new();
    for (i, d) in days.iter().enumerate() {
        match u8::try_from(*d).ok().filter(|d| (1..=7).contains(d)) {
            Some(d) if out.contains(&d) => {
                check.fail(format!("weekdays[{i}]"), "duplicate", "listed twice")
            }
            Some(d) => out.push(d),
            None => check.fail(
                format!("weekdays[{i}]"),
                "out_of_range",
                "must be 1 (Monday) to 7 (Sunday)",
            ),
        }
    }
    check.ensure(
        !days.is_empty(),
        "weekdays",
        "required",
        "give at least one weekday",
    );
    out.sort_unstable();
    out
}

/// A template as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlotTemplateView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Its district; `null` for the city-wide template(s).
    pub district_code: Option<String>,
    /// Its community, for a community template.
    pub community_id: Option<Uuid>,
    /// Daily windows in Asia/Shanghai time, earliest first.
    pub windows: Vec<WindowSpec>,
    /// ISO weekdays it applies on (1 = Monday … 7 = Sunday).
    pub weekdays: Vec<u8>,
    /// Whether slots are generated from it.
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

fn view(t: slot_template::Model) -> Result<SlotTemplateView> {
    let windows = stored_windows(&t)?.iter().map(spec_of).collect();
    let weekdays = stored_weekdays(&t)?;
    Ok(SlotTemplateView {
        id: t.id,
        name: t.name,
        district_code: t.district_code,
        community_id: t.community_id,
        windows,
        weekdays,
        active: t.active,
        created_at: t.created_at,
    })
}

fn require_admin(who: &Principal) -> Result<()> {
    who.require_role(&[Role::Admin])
}

/// Whether `who` may change `t`: super administrators any; district administrators those
/// of their district.
fn require_manage(who: &Principal, district: Option<&str>) -> Result<()> {
    require_admin(who)?;
    match district {
        Some(d) => who.require_district(d),
        None => who.require_super_admin(),
    }
}

/// Templates the caller administers or is governed by: all for super administrators; for a
/// district administrator those of the district and the city-wide ones.
pub async fn list(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<SlotTemplateView>> {
    require_admin(who)?;
    let mut q = slot_template::Entity::find().order_by_asc(slot_template::Column::CreatedAt);
    if !who.is_super_admin() {
        let mut cond = Condition::any().add(slot_template::Column::DistrictCode.is_null());
        if let Some(d) = &who.district_code {
            cond = cond.add(slot_template::Column::DistrictCode.eq(d.clone()));
        }
        q = q.filter(cond);
    }
    q.all(db).await?.into_iter().map(view).collect()
}

/// A new template.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSlotTemplate {
    /// Name (1–64 characters).
    pub name: String,
    /// Its district; omitted with `community_id` too: city-wide (super administrators only).
    pub district_code: Option<String>,
    /// Its community (which must be in `district_code` when both are given).
    pub community_id: Option<Uuid>,
    /// Daily windows: on the minute, start before end, not overlapping, at most 12.
    pub windows: Vec<WindowSpec>,
    /// ISO weekdays (1 = Monday … 7 = Sunday); omitted: every day.
    pub weekdays: Option<Vec<i64>>,
}

/// Creates a template; slots follow at the next generation.
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id))]
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewSlotTemplate,
) -> Result<SlotTemplateView> {
    require_admin(who)?;
    let mut check = Check::new();
    let name = check.text("name", &new.name, 1, 64);
    let windows = check_windows(&mut check, &new.windows);
    let weekdays = check_weekdays(&mut check, new.weekdays.as_deref());
    check.finish()?;

    let txn = db.begin().await?;
    let mut district_code = new.district_code.clone();
    if let Some(cid) = new.community_id {
        let c = community::Entity::find_by_id(cid)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::field("community_id", "unknown", "no such community"))?;
        match &district_code {
            Some(d) if *d != c.district_code => {
                return Err(Error::field(
                    "community_id",
                    "not_in_district",
                    format!("the community belongs to district {}", c.district_code),
                ));
            }
            Some(_) => {}
            None => district_code = Some(c.district_code),
        }
    }
    require_manage(who, district_code.as_deref())?;
    if let Some(d) = &district_code
        && district::Entity::find_by_id(d.clone())
            .one(&txn)
            .await?
            .is_none()
    {
        return Err(Error::field("district_code", "unknown", "no such district"));
    }
    let t = slot_template::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        district_code: Set(district_code),
        community_id: Set(new.community_id),
        windows: Set(windows_json(&windows)),
        active: Set(true),
        created_at: Set(Utc::now()),
        weekdays: Set(serde_json::to_string(&weekdays).unwrap_or_default()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "slot_template.create",
        "slot_template",
        &t.id.to_string(),
        serde_json::json!({
            "name": t.name,
            "district_code": t.district_code,
            "community_id": t.community_id,
            "windows": t.windows,
            "weekdays": t.weekdays,
        }),
    )
    .await?;
    txn.commit().await?;
    view(t)
}

/// Changes to a template; they apply to days not generated yet.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotTemplatePatch {
    /// New name.
    pub name: Option<String>,
    /// New windows (replace the old ones).
    pub windows: Option<Vec<WindowSpec>>,
    /// New weekdays.
    pub weekdays: Option<Vec<i64>>,
    /// `false` stops generating from it.
    pub active: Option<bool>,
}

/// Edits a template.
#[tracing::instrument(skip(db, who, patch), fields(actor = %who.user_id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: SlotTemplatePatch,
) -> Result<SlotTemplateView> {
    require_admin(who)?;
    let mut check = Check::new();
    let name = patch.name.as_deref().map(|n| check.text("name", n, 1, 64));
    let windows = patch
        .windows
        .as_deref()
        .map(|w| windows_json(&check_windows(&mut check, w)));
    let weekdays = patch
        .weekdays
        .as_deref()
        .map(|d| serde_json::to_string(&check_weekdays(&mut check, Some(d))).unwrap_or_default());
    check.finish()?;

    let txn = db.begin().await?;
    let t = slot_template::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound {
            what: "slot template",
        })?;
    require_manage(who, t.district_code.as_deref())?;
    let mut changed = crate::audit::Changes::default();
    let mut am: slot_template::ActiveModel = t.clone().into();
    if let Some(n) = changed.track("name", &t.name, name) {
        am.name = Set(n);
    }
    if let Some(w) = changed.track("windows", &t.windows, windows) {
        am.windows = Set(w);
    }
    if let Some(d) = changed.track("weekdays", &t.weekdays, weekdays) {
        am.weekdays = Set(d);
    }
    if let Some(a) = changed.track("active", &t.active, patch.active) {
        am.active = Set(a);
    }
    let t = if changed.is_empty() {
        t
    } else {
        let t = am.update(&txn).await?;
        audit::record(
            &txn,
            Some(who.user_id),
            "slot_template.update",
            "slot_template",
            &id.to_string(),
            changed.into_detail(),
        )
        .await?;
        t
    };
    txn.commit().await?;
    view(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: &str, end: &str, capacity: i64, van: Option<i64>) -> WindowSpec {
        WindowSpec {
            start: start.into(),
            end: end.into(),
            capacity,
            van_capacity: van,
        }
    }

    fn fields(check: Check) -> Vec<(String, String)> {
        match check.finish() {
            Ok(()) => vec![],
            Err(Error::Validation { fields, .. }) => {
                fields.into_iter().map(|f| (f.field, f.code)).collect()
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn good_windows_are_sorted_and_get_a_default_van_capacity() {
        let mut c = Check::new();
        let ws = check_windows(
            &mut c,
            &[
                w("14:00", "16:00", 20, None),
                w("09:00", "11:00", 3, Some(0)),
                w("16:00", "18:00", 10, None),
            ],
        );
        assert!(c.is_ok());
        assert_eq!(ws[0].start, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(ws[0].van_capacity, 0);
        assert_eq!(ws[1].van_capacity, 5);
        assert_eq!(ws[2].van_capacity, 2);
        assert_eq!(default_van_capacity(3), 1, "at least one");
    }

    #[test]
    fn bad_windows_are_named_field_by_field() {
        let mut c = Check::new();
        check_windows(
            &mut c,
            &[
                w("09:00", "11:00", 20, None),
                w("10:30", "12:00", 20, None),
                w("9:00", "25:00", 0, None),
                w("13:00", "12:00", 600, Some(3)),
                w("14:00", "15:00", 10, Some(11)),
                w("15:00:30", "16:00", 10, None),
            ],
        );
        let got = fields(c);
        for expected in [
            ("windows[1].start", "overlap"),
            ("windows[2].start", "invalid"),
            ("windows[2].end", "invalid"),
            ("windows[2].capacity", "out_of_range"),
            ("windows[3].capacity", "out_of_range"),
            ("windows[3].end", "invalid"),
            ("windows[4].van_capacity", "out_of_range"),
            ("windows[5].start", "invalid"),
        ] {
            assert!(
                got.contains(&(expected.0.to_string(), expected.1.to_string())),
                "{expected:?} missing from {got:?}"
            );
        }
    }

    #[test]
    fn too_many_or_no_windows_are_refused() {
        let mut c = Check::new();
        check_windows(&mut c, &[]);
        assert_eq!(
            fields(c),
            [("windows".to_string(), "out_of_range".to_string())]
        );
        let many: Vec<_> = (0..13)
            .map(|h| {
                w(
                    &format!("{:02}:00", h + 6),
                    &format!("{:02}:30", h + 6),
                    1,
                    None,
                )
            })
            .collect();
        let mut c = Check::new();
        check_windows(&mut c, &many);
        assert_eq!(fields(c).len(), 1);
    }

    #[test]
    fn old_rows_without_van_capacity_still_read() {
        let t = slot_template::Model {
            id: Uuid::nil(),
            name: "old".into(),
            district_code: None,
            community_id: None,
            windows: r#"[{"start":"09:00","end":"11:00","capacity":20}]"#.into(),
            active: true,
            created_at: Utc::now(),
            weekdays: "[1,2,3,4,5,6,7]".into(),
        };
        let ws = stored_windows(&t).unwrap();
        assert_eq!(ws[0].capacity, 20);
        assert_eq!(ws[0].van_capacity, 5);
        assert_eq!(stored_weekdays(&t).unwrap().len(), 7);
    }

    #[test]
    fn weekdays_are_checked() {
        let mut c = Check::new();
        assert_eq!(check_weekdays(&mut c, Some(&[6, 1])), vec![1, 6]);
        assert!(c.is_ok());
        check_weekdays(&mut c, Some(&[0, 8, 2, 2]));
        check_weekdays(&mut c, Some(&[]));
        assert_eq!(fields(c).len(), 4);
    }
}
