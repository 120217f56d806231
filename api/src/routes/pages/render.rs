//! What every page shares: the request's context (the site's address, elder mode), the
//! page shell the base template draws, rendering with `ETag`/304, and the error pages.
//! A refusal or failure is a page too (400, 404, 429, 500, 503), never a stack trace or a
//! problem document: people read these, not programs.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use serde::de::DeserializeOwned;
use wufei_domain::{Error, Platform};

use super::assets::{CSS, ICON};
use crate::{cache, problem::ApiError};

/// The cookie that remembers elder mode (适老化: larger type, higher contrast).
pub const ELDER_COOKIE: &str = "wufei_elder";

/// The site's name, after every title.
pub const SITE: &str = "聊城市无废城市建设信息公开";

/// What a page needs from its request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The site's address, without a trailing `/` (`WUFEI_PUBLIC_URL`, or the request's
    /// scheme and `Host`).
    pub base: String,
    /// The request's path.
    pub path: String,
    /// The path with its query string, for the elder-mode switch to come back to.
    pub here: String,
    /// Elder mode is on.
    pub elder: bool,
    /// The pages' `Content-Security-Policy`: this server only (and the tile server, when
    /// one is configured), no script at all.
    pub csp: String,
}

impl Ctx {
    /// The context of `req`.
    pub fn new(req: &HttpRequest) -> Self {
        let settings = req
            .app_data::<web::Data<Platform>>()
            .map(|p| p.settings.clone());
        let configured = settings.as_ref().and_then(|s| s.public_url.clone());
        let base = configured.unwrap_or_else(|| {
            // The forwarded headers name the address only behind a proxy we trust; otherwise
            // a client could make the canonical links (which caches keep) point elsewhere.
            if settings.as_ref().is_some_and(|s| s.trust_forwarded_for) {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            } else {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                format!("http://{host}")
            }
        });
        let tiles = settings
            .as_ref()
            .and_then(|s| s.map_tile_url.as_deref())
            .and_then(|u| u.split_once("://"))
            .map(|(scheme, rest)| {
                format!(" {scheme}://{}", rest.split('/').next().unwrap_or_default())
            })
            .unwrap_or_default();
        let csp = format!(
            "default-src 'none'; style-src 'self'; img-src 'self'{tiles}; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'self'"
        );
        let path = req.path().to_string();
        let here = match req.query_string() {
            "" => path.clone(),
            q => format!("{path}?{q}"),
        };
        let elder = req.cookie(ELDER_COOKIE).is_some_and(|c| c.value() == "1");
        Self {
            base,
            path,
            here,
            elder,
            csp,
        }
    }

    /// The shell of a page titled `title`, in navigation section `nav`.
    pub fn shell(
        &self,
        nav: &'static str,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Shell {
        Shell {
            title: title.into(),
            description: description.into(),
            canonical: format!("{}{}", self.base, self.path),
            base: self.base.clone(),
            here: self.here.clone(),
            nav,
            elder: self.elder,
            css: CSS.path(),
            icon: ICON.path(),
            site: SITE,
        }
    }
}

impl Ctx {
    /// Adds the pages' security headers to `res`.
    pub fn secure(&self, res: &mut HttpResponse) {
        if let Ok(v) = header::HeaderValue::from_str(&self.csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
        res.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        );
        res.headers_mut().insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
}

/// What the base template draws around every page.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The page's own title (the site's name follows it in `<title>`).
    pub title: String,
    /// `<meta name="description">` and `og:description`.
    pub description: String,
    /// The canonical address (no query string: filtered views are the same page).
    pub canonical: String,
    /// The site's address.
    pub base: String,
    /// Path and query, for the elder-mode switch.
    pub here: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    /// Elder mode.
    pub elder: bool,
    /// The style sheet's hashed path.
    pub css: String,
    /// The icon's hashed path.
    pub icon: String,
    /// The site's name.
    pub site: &'static str,
}

/// A link of the navigation.
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// It is the current section.
    pub current: bool,
}

impl Shell {
    /// The navigation, the current section marked.
    pub fn nav_links(&self) -> Vec<NavLink> {
        NAV.iter()
            .map(|(key, href, label)| NavLink {
                href,
                label,
                current: *key == self.nav,
            })
            .collect()
    }
}

/// The navigation, in order: section key, path, label.
pub const NAV: [(&str, &str, &str); 10] = [
    ("home", "/", "首页"),
    ("articles", "/articles", "信息公开"),
    ("indicators", "/indicators", "指标进展"),
    ("tasks", "/tasks", "任务清单"),
    ("cells", "/cells", "无废细胞"),
    ("facilities", "/facilities", "设施地图"),
    ("stats", "/stats", "数据统计"),
    ("open-data", "/open-data", "开放数据"),
    ("suggestions", "/suggestions", "意见建议"),
    ("market", "/market", "再生产品"),
];

/// Why a page could not be shown.
#[derive(Debug)]
pub enum Fault {
    /// No such page or object.
    NotFound,
    /// The query string or form is not one this page understands.
    BadRequest,
    /// From the domain.
    Domain(Error),
}

impl From<Error> for Fault {
    fn from(e: Error) -> Self {
        Fault::Domain(e)
    }
}

/// The query string of `req` as `T`; a string that does not parse is a 400 page. Unknown
/// parameters are ignored, as a person's bookmark may carry old ones.
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, Fault> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| Fault::BadRequest)
}

/// Renders `page` as a public, cacheable answer (`ETag`, 304), or the error page.
pub fn page<T: Template>(ctx: &Ctx, req: &HttpRequest, page: Result<T, Fault>) -> HttpResponse {
    match page.and_then(|p| {
        p.render()
            .map_err(|e| Fault::Domain(Error::Internal(e.into())))
    }) {
        Ok(html) => {
            let mut res = cache::public_body(
                req,
                html.into_bytes(),
                "text/html; charset=utf-8",
                cache::PUBLIC_MAX_AGE,
            );
            vary_on_cookie(&mut res);
            ctx.secure(&mut res);
            res
        }
        Err(fault) => fail(ctx, fault),
    }
}

/// Elder mode changes the page, so a shared cache must keep one copy per cookie.
pub fn vary_on_cookie(res: &mut HttpResponse) {
    res.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Cookie"));
}

/// The error page.
#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    message: &'static str,
}

/// The error page for `fault`, with its status (the API's status for the same domain
/// error, but 400 for what the API calls 422: a person reads "the request is wrong").
pub fn fail(ctx: &Ctx, fault: Fault) -> HttpResponse {
    let status = match fault {
        Fault::NotFound => StatusCode::NOT_FOUND,
        Fault::BadRequest => StatusCode::BAD_REQUEST,
        Fault::Domain(e) => {
            let e = ApiError::from(e);
            let status = e.status_code();
            if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
                tracing::error!(error = ?e, "page failed");
            }
            match status {
                StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                s => s,
            }
        }
    };
    error_page(ctx, status)
}

/// The error page for `status`.
pub fn error_page(ctx: &Ctx, status: StatusCode) -> HttpResponse {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => (
            "页面不存在",
            "您要找的页面不存在，或者已经撤下。请检查地址，或从下面的链接继续浏览。",
        ),
        StatusCode::BAD_REQUEST => (
            "无法理解的请求",
            "地址中的查询条件无效（例如页码过大或筛选值不存在）。请返回上一页重新选择条件。",
        ),
        StatusCode::FORBIDDEN => ("请求被拒绝", "请从本站页面提交表单。"),
        StatusCode::TOO_MANY_REQUESTS => ("提交太频繁", "您的提交太频繁，请稍后再试。"),
        StatusCode::SERVICE_UNAVAILABLE => ("服务暂时不可用", "系统正在恢复，请稍后刷新页面。"),
        _ => (
            "系统出错",
            "服务器处理这个请求时出错，我们已经记录。请稍后再试。",
        ),
    };
    let page = ErrorPage {
        shell: ctx.shell("", title, message),
        status: status.as_u16(),
        message,
    };
    let body = page.render().unwrap_or_else(|_| {
        format!(
            "<!doctype html><html lang=\"zh-CN\"><title>{}</title><h1>{}</h1></html>",
            status.as_u16(),
            status.as_u16()
        )
    });
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body);
    ctx.secure(&mut res);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static(crate::problem::UNAVAILABLE_RETRY_AFTER),
        );
    }
    res
}

/// The 404 page for a path no route knows, when a browser asks (its `Accept` names
/// `text/html`) and the path is not the JSON API's; anything else keeps the API's
/// problem+json answer (the edge turns this bare 404 into one).
pub async fn unknown(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let api = ["/v1/", "/open311/", "/docs/"]
        .iter()
        .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'));
    let browser = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if api || !browser {
        return HttpResponse::NotFound().finish();
    }
    error_page(&Ctx::new(&req), StatusCode::NOT_FOUND)
}

/// Whether a form POST came from one of this site's own pages: its `Origin` (or, when a
/// browser sends none, its `Referer`) names this site's host. The pages are anonymous, so
/// there is no session to ride; the check keeps other sites from posting suggestions (and
/// spending the sender's hourly allowance) through a visitor's browser, without a token
/// that would make every form page uncacheable.
pub fn same_origin(req: &HttpRequest, ctx: &Ctx) -> bool {
    let host_of = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        Some(
            rest.split('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        )
    };
    let ours = [
        host_of(&ctx.base),
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase),
    ];
    let claimed = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v != "null")
        .or_else(|| {
            req.headers()
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
        })
        .and_then(host_of);
    claimed.is_some_and(|c| ours.iter().flatten().any(|o| *o == c))
}

/// A local path to send the browser back to: starts with one `/`, no scheme or host.
pub fn local_path(back: &str) -> &str {
    let ok = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.bytes().any(|b| b.is_ascii_control());
    if ok { back } else { "/" }
}
