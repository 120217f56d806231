//! The elder-friendly mode (适老化): larger type, wider spacing, higher contrast. A form
//! in every page's header posts here; the choice is remembered for a year in a cookie that
//! only changes how pages look, so it needs no consent and carries nothing personal.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration},
    http::{StatusCode, header},
    web,
};

use super::render::{Ctx, ELDER_COOKIE, error_page, local_path, same_origin};

/// `POST /display` with `elder=1|0` and `back` (where to return).
pub async fn switch(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::new(&req);
    if !same_origin(&req, &ctx) {
        return error_page(&ctx, StatusCode::FORBIDDEN);
    }
    let form = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| web::Query::<Vec<(String, String)>>::from_query(b).ok())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let on = field("elder") == Some("1");
    let back = local_path(field("back").unwrap_or("/")).to_string();
    let mut cookie = Cookie::build(ELDER_COOKIE, if on { "1" } else { "0" })
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(true)
        .finish();
    cookie.set_max_age(if on {
        Duration::days(365)
    } else {
        Duration::ZERO
    });
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish()
}
