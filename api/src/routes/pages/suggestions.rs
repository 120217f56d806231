//! Suggestions (意见建议): the published ones with their replies, and a form to send one.
//! The form posts to this page, which calls the same `suggestions::submit` as
//! `POST /v1/suggestions` (its masking and its throttling per client address included),
//! then redirects to the list with a thank-you (post/redirect/get).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use serde::Deserialize;
use wufei_domain::{
    Error, Platform,
    entities::suggestion::Category,
    voice::suggestions::{self, NewSuggestion, SuggestionFilter, SuggestionView},
};

use super::{
    lists::{Choice, choices, district_choices, district_name, districts, next_link, page_query},
    render::{Ctx, Fault, Shell, error_page, fail, page, query, same_origin},
};
use crate::middleware::client_addr;

/// A published suggestion as the list reads.
pub struct SuggestionRow {
    /// Its category's name.
    pub category: &'static str,
    /// District name, if it names one.
    pub district: String,
    /// The text (masked on the way in).
    pub text: String,
    /// Sent on.
    pub sent: String,
    /// The reply, with the unit and date.
    pub reply: Option<(String, String, String)>,
}

fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

impl SuggestionRow {
    fn of(s: &SuggestionView, ds: &[(String, String)]) -> Self {
        Self {
            category: s.category_name,
            district: s
                .district_code
                .as_deref()
                .map(|d| district_name(ds, d))
                .unwrap_or_default(),
            text: s.text.clone(),
            sent: date(s.created_at),
            reply: s.reply.clone().map(|r| {
                (
                    r,
                    s.reply_unit.clone().unwrap_or_default(),
                    s.replied_at.map(date).unwrap_or_default(),
                )
            }),
        }
    }
}

/// The form's fields as sent, shown again with the errors when they are refused.
#[derive(Default, Deserialize)]
pub struct Form {
    /// Category code.
    #[serde(default)]
    pub category: String,
    /// District code, or empty.
    #[serde(default)]
    pub district_code: String,
    /// The suggestion.
    #[serde(default)]
    pub text: String,
    /// How to reach the sender, or empty.
    #[serde(default)]
    pub contact: String,
}

#[derive(Template)]
#[template(path = "pages/suggestions.html")]
struct SuggestionsPage {
    shell: Shell,
    rows: Vec<SuggestionRow>,
    next: Option<String>,
    filter_categories: Vec<Choice>,
    replied: Vec<Choice>,
    sent: bool,
    form: Form,
    form_categories: Vec<Choice>,
    form_districts: Vec<Choice>,
    errors: Vec<(String, String)>,
}

/// The query of the list.
#[derive(Deserialize)]
struct ListQuery {
    category: Option<String>,
    replied: Option<String>,
    cursor: Option<String>,
    sent: Option<String>,
}

fn categories() -> impl Iterator<Item = (&'static str, &'static str)> {
    Category::ALL.into_iter().map(|c| (c.as_str(), c.name()))
}

async fn render(
    req: &HttpRequest,
    ctx: &Ctx,
    platform: &Platform,
    form: Form,
    errors: Vec<(String, String)>,
) -> Result<SuggestionsPage, Fault> {
    let q: ListQuery = query(req)?;
    let category = match q.category.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Category::parse(c).ok_or(Fault::BadRequest)?),
    };
    let replied = match q.replied.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(Fault::BadRequest),
    };
    let filter = SuggestionFilter {
        category,
        district_code: None,
        replied,
    };
    let list =
        suggestions::list_public(&platform.db, &filter, page_query(q.cursor).parse()?).await?;
    let ds = districts(platform).await?;
    Ok(SuggestionsPage {
        shell: ctx.shell(
            "suggestions",
            "意见建议",
            "对无废城市建设和上门回收服务的意见建议，以及有关部门的答复；也可以在这里提交您的建议。",
        ),
        rows: list.items.iter().map(|s| SuggestionRow::of(s, &ds)).collect(),
        next: next_link(req, list.next_cursor.as_deref()),
        filter_categories: choices(categories(), category.map(Category::as_str)),
        replied: choices(
            [("true", "已答复"), ("false", "待答复")],
            q.replied.as_deref(),
        ),
        sent: q.sent.as_deref() == Some("1"),
        form_categories: choices(categories(), Some(form.category.as_str())),
        form_districts: district_choices(&ds, Some(form.district_code.as_str())),
        form,
        errors,
    })
}

/// `GET /suggestions`: published suggestions with replies, and the form.
pub async fn list(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = render(&req, &ctx, &platform, Form::default(), vec![]).await;
    page(&ctx, &req, result)
}

/// What a field's refusal reads as on the page.
fn field_label(field: &str) -> &'static str {
    match field {
        "category" => "类别",
        "district_code" => "区县",
        "text" => "建议内容",
        "contact" => "联系方式",
        _ => "表单",
    }
}

/// `POST /suggestions`: sends the form's suggestion anonymously, then redirects to the
/// list with a thank-you; a refused form comes back with its errors and what was typed.
pub async fn send(
    req: HttpRequest,
    platform: web::Data<Platform>,
    body: web::Bytes,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    if !same_origin(&req, &ctx) {
        return error_page(&ctx, StatusCode::FORBIDDEN);
    }
    let Some(form) = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| web::Query::<Form>::from_query(b).ok())
        .map(web::Query::into_inner)
    else {
        return error_page(&ctx, StatusCode::BAD_REQUEST);
    };
    let mut errors = Vec::new();
    let category = Category::parse(&form.category);
    if category.is_none() {
        errors.push(("category".to_string(), "请选择类别".to_string()));
    }
    if form.text.trim().is_empty() {
        errors.push(("text".to_string(), "请填写建议内容".to_string()));
    }
    if let (Some(category), true) = (category, errors.is_empty()) {
        let new = NewSuggestion {
            category,
            district_code: Some(form.district_code.clone()).filter(|d| !d.is_empty()),
            text: form.text.clone(),
            contact: Some(form.contact.clone()).filter(|c| !c.trim().is_empty()),
            lat: None,
            lng: None,
            address: None,
        };
        let client = client_addr(&req, platform.settings.trust_forwarded_for);
        match suggestions::submit(&platform.db, platform.limiter.as_ref(), None, &client, new).await
        {
            Ok(_) => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/suggestions?sent=1#sent"))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish();
            }
            Err(Error::Validation { fields, .. }) => {
                errors.extend(fields.into_iter().map(|f| {
                    let label = field_label(&f.field);
                    let why = match f.code.as_str() {
                        "too_long" => "太长了，请精简后再提交",
                        "required" => "不能为空",
                        _ => "填写有误，请检查",
                    };
                    (f.field.clone(), format!("{label}{why}"))
                }));
            }
            Err(e) => return fail(&ctx, Fault::Domain(e)),
        }
    }
    match render(&req, &ctx, &platform, form, errors).await {
        Ok(p) => match askama::Template::render(&p) {
            Ok(html) => HttpResponse::build(StatusCode::BAD_REQUEST)
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(html),
            Err(e) => fail(&ctx, Fault::Domain(Error::Internal(e.into()))),
        },
        Err(f) => fail(&ctx, f),
    }
}
