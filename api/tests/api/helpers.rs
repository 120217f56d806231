//! Test support: spawns the application on port 0 with its own database (a temp SQLite file,
//! or a fresh PostgreSQL database plus a Redis key prefix when `WUFEI_TEST_DATABASE_URL`
//! and `WUFEI_TEST_REDIS_URL` are set), and a local double of WeChat's server API.

use std::{path::PathBuf, sync::Once};

use actix_web::{App, HttpResponse, HttpServer, web};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use wufei_api::Application;
use wufei_domain::{
    Platform,
    auth::{AdminScope, Role, users},
    config::{LogFormat, Secret, Settings},
};

/// Which footprint a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Footprint {
    /// SQLite and the embedded adapters.
    Embedded,
    /// PostgreSQL and Redis.
    Production,
}

/// A running application.
pub struct TestApp {
    pub address: String,
    pub platform: Platform,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    _wechat: actix_web::dev::ServerHandle,
}

static INIT: Once = Once::new();

fn init() {
    INIT.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if std::env::var("TEST_LOG").is_ok() {
            wufei_api::telemetry::init(LogFormat::Pretty);
        }
    });
}

/// The production footprint's connection strings, when the environment names them.
pub fn production_env() -> Option<(String, String)> {
    Some((
        std::env::var("WUFEI_TEST_DATABASE_URL").ok()?,
        std::env::var("WUFEI_TEST_REDIS_URL").ok()?,
    ))
}

/// A fresh PostgreSQL database next to the one `base` names; returns its URL.
pub async fn fresh_postgres(base: &str) -> String {
    let name = format!("wufei_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(base)
        .await
        .expect("connect to WUFEI_TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let cut = base.rfind('/').expect("database URL has a path");
    format!("{}/{name}", &base[..cut])
}

/// Settings for a test app with everything local.
pub async fn test_settings(
    footprint: Footprint,
    data_dir: PathBuf,
    wechat_base: String,
) -> Settings {
    let mut s = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir,
        jwt_secret: Some(Secret::new("test-secret-test-secret-test-secret-0001")),
        wechat_appid: Some("wx-test-app".into()),
        wechat_secret: Some(Secret::new("wechat-app-secret")),
        wechat_api_base: wechat_base,
        http_workers: 2,
        shutdown_grace_secs: 2,
        ..Settings::default()
    };
    if footprint == Footprint::Production {
        let (db, redis) =
            production_env().expect("production footprint needs WUFEI_TEST_* variables");
        s.database_url = Some(fresh_postgres(&db).await);
        s.redis_url = Some(redis);
        s.redis_prefix = format!("wufei-test-{}", uuid::Uuid::new_v4().simple());
    }
    s
}

impl TestApp {
    /// Spawns the app on `footprint` with default test settings.
    pub async fn spawn(footprint: Footprint) -> TestApp {
        Self::spawn_with(footprint, |_| {}).await
    }

    /// Spawns the app after letting the test adjust its settings.
    pub async fn spawn_with(footprint: Footprint, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (wechat_base, wechat) = spawn_wechat_double().await;
        let mut settings = test_settings(footprint, dir.path().join("data"), wechat_base).await;
        adjust(&mut settings);
        let app = Application::build(settings).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let platform = app.platform().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            platform,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            _dir: dir,
            _wechat: wechat,
        }
    }

    /// A second instance of the same deployment: the same database, Redis and key prefix
    /// as `self` (production footprint only), as a load balancer's second pod would be.
    pub async fn spawn_beside(&self) -> TestApp {
        let theirs = &self.platform.settings;
        let (database_url, redis_url, redis_prefix) = (
            theirs.database_url.clone(),
            theirs.redis_url.clone(),
            theirs.redis_prefix.clone(),
        );
        assert!(
            redis_url.is_some(),
            "spawn_beside needs the production footprint"
        );
        // Embedded settings create no database; the shared one is filled in instead.
        Self::spawn_with(Footprint::Embedded, move |s| {
            s.database_url = database_url;
            s.redis_url = redis_url;
            s.redis_prefix = redis_prefix;
        })
        .await
    }

    /// The WebSocket URL of `path`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{}", self.address.replacen("http://", "ws://", 1), path)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut r = self.client.get(self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut r = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("request")
    }

    /// Creates a password account directly.
    pub async fn create_user(
        &self,
        phone: &str,
        password: &str,
        role: Role,
        scope: Option<AdminScope>,
        district: Option<&str>,
    ) {
        users::create_staff(
            &self.platform.db,
            users::NewStaff {
                phone: phone.into(),
                password: password.into(),
                role,
                admin_scope: scope,
                district_code: district.map(str::to_string),
                nickname: String::new(),
            },
        )
        .await
        .expect("create user");
    }

    /// Logs in with a password; returns the token pair.
    pub async fn login(&self, phone: &str, password: &str) -> Value {
        let res = self
            .post_json(
                "/v1/auth/password",
                None,
                &json!({ "phone": phone, "password": password }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "login failed");
        res.json().await.expect("json")
    }

    /// Logs a resident in through the WeChat double (`openid` picks the person).
    pub async fn wechat_login(&self, openid: &str) -> Value {
        let res = self
            .post_json(
                "/v1/auth/wechat",
                None,
                &json!({ "code": format!("ok-{openid}") }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "wechat login failed");
        res.json().await.expect("json")
    }
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let body: Value = res.json().await.expect("problem body");
    assert_eq!(body["code"], code, "code in {body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body
}

/// The session key the double hands out; it must never reach a client.
pub const SESSION_KEY: &str = "SESSION-KEY-MUST-NOT-LEAK";

/// A local double of WeChat's `jscode2session`. Codes: `ok-<openid>` succeeds; `invalid`,
/// `used`, `busy`, `limited`, `blocked` answer WeChat's documented error codes; `http500`
/// fails at the HTTP level. It checks appid, secret and grant type like WeChat does.
pub async fn spawn_wechat_double() -> (String, actix_web::dev::ServerHandle) {
    async fn session(q: web::Query<std::collections::HashMap<String, String>>) -> HttpResponse {
        if q.get("appid").map(String::as_str) != Some("wx-test-app")
            || q.get("secret").map(String::as_str) != Some("wechat-app-secret")
            || q.get("grant_type").map(String::as_str) != Some("authorization_code")
        {
            return HttpResponse::Ok().json(json!({ "errcode": 40013, "errmsg": "invalid appid" }));
        }
        let code = q.get("js_code").cloned().unwrap_or_default();
        let err = |c: i64, m: &str| HttpResponse::Ok().json(json!({ "errcode": c, "errmsg": m }));
        match code.as_str() {
            "invalid" => err(40029, "invalid code"),
            "used" => err(40163, "code been used"),
            "busy" => err(-1, "system error"),
            "limited" => err(45011, "api minute-quota reach limit"),
            "blocked" => err(40226, "high risk user"),
            "http500" => HttpResponse::InternalServerError().finish(),
            c => match c.strip_prefix("ok-") {
                Some(openid) => HttpResponse::Ok().json(json!({
                    "openid": openid, "session_key": SESSION_KEY, "unionid": format!("union-{openid}")
                })),
                None => err(40029, "invalid code"),
            },
        }
    }
    let server =
        HttpServer::new(|| App::new().route("/sns/jscode2session", web::get().to(session)))
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("bind double");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

/// Runs the scenario `$scenario` (an `async fn(Footprint)`) as two tests in a module
/// `$name`: `on_sqlite` always, and `on_postgres_redis` when the production variables are
/// set (otherwise it prints that it skipped).
#[macro_export]
macro_rules! on_both {
    ($name:ident, $scenario:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                $scenario($crate::helpers::Footprint::Embedded).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres_redis() {
                if $crate::helpers::production_env().is_none() {
                    eprintln!(
                        "skipped: {} on PostgreSQL/Redis (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)",
                        stringify!($name)
                    );
                    return;
                }
                $scenario($crate::helpers::Footprint::Production).await;
            }
        }
    };
}
