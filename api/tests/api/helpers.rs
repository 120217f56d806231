//! Test support: spawns the application on port 0 with its own database (a temp SQLite file,
//! or a fresh PostgreSQL database plus a Redis key prefix when `WUFEI_TEST_DATABASE_URL`
//! and `WUFEI_TEST_REDIS_URL` are set), and a local double of WeChat's server API.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        Arc, Mutex, Once,
        atomic::{AtomicUsize, Ordering},
    },
};

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
    /// What the WeChat double saw; tests steer it too.
    pub wechat: WechatDouble,
    _dir: tempfile::TempDir,
    _wechat: actix_web::dev::ServerHandle,
    _worker: Option<tokio::task::JoinSet<()>>,
    server: actix_web::dev::ServerHandle,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
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
        // The production footprint searches on Meilisearch when CI started one; each test
        // gets indexes of its own under a random prefix.
        if let Ok(url) = std::env::var("WUFEI_TEST_MEILI_URL") {
            s.meili_url = Some(url);
            s.meili_master_key = std::env::var("WUFEI_TEST_MEILI_KEY").ok().map(Secret::new);
            s.meili_index_prefix = format!("t{}_", uuid::Uuid::new_v4().simple());
        }
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
        let (wechat_base, wechat, double) = spawn_wechat_double().await;
        let mut settings = test_settings(footprint, dir.path().join("data"), wechat_base).await;
        adjust(&mut settings);
        let production = settings.redis_url.is_some();
        let app = Application::build(settings).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let platform = app.platform().clone();
        // In production the loops run in wufei-worker; the test plays that worker.
        let worker = production.then(|| {
            platform.spawn_background("test-worker", tokio_util::sync::CancellationToken::new())
        });
        let server = app.handle();
        let running = tokio::spawn(app.run_until_stopped());
        TestApp {
            server,
            running: Some(running),
            address,
            platform,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            wechat: double,
            _dir: dir,
            _wechat: wechat,
            _worker: worker,
        }
    }

    /// Stops the server as SIGTERM would (in-flight requests finish, the in-process loops
    /// stop) and waits until it has.
    pub async fn stop(&mut self) {
        self.server.stop(true).await;
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        self._worker.take();
    }

    /// Stops the in-process worker loops of the production footprint (they stop when the
    /// returned set is dropped), for a test that plays its workers itself.
    pub fn take_worker(&mut self) -> Option<tokio::task::JoinSet<()>> {
        self._worker.take()
    }

    /// Runs the worker loops (relay, runner, scheduler) as a separate `wufei-worker` would,
    /// on a platform of its own built from the same settings. In the embedded footprint the
    /// API already runs them, so this returns an empty set there. The loops stop when the
    /// returned set is dropped.
    pub async fn start_worker(&self, name: &str) -> tokio::task::JoinSet<()> {
        if self.platform.settings.embedded() {
            return tokio::task::JoinSet::new();
        }
        let platform = Platform::build((*self.platform.settings).clone())
            .await
            .expect("build worker platform");
        platform.spawn_background(name, tokio_util::sync::CancellationToken::new())
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

    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut r = self.client.patch(self.url(path)).json(body);
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
/// The JSON body of `res`, after asserting its status (the body is in the message).
pub async fn ok(res: Response, status: StatusCode) -> serde_json::Value {
    let got = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

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

/// The state of the WeChat double, shared with the test: what was sent, how often a token
/// was fetched, and switches that make it refuse or fail.
#[derive(Clone, Default)]
pub struct WechatDouble(Arc<DoubleState>);

#[derive(Default)]
struct DoubleState {
    token_fetches: AtomicUsize,
    send_attempts: AtomicUsize,
    /// The only token the double accepts (each fetch issues a new one, as WeChat does).
    current_token: Mutex<Option<String>>,
    sent: Mutex<Vec<Value>>,
    refusing: Mutex<HashSet<String>>,
    failing: Mutex<HashSet<String>>,
    /// While set, `subscribe/send` does not answer (a WeChat that hangs).
    hanging: std::sync::atomic::AtomicBool,
}

impl WechatDouble {
    /// How many times `/cgi-bin/token` issued a token.
    pub fn token_fetches(&self) -> usize {
        self.0.token_fetches.load(Ordering::SeqCst)
    }

    /// How many `subscribe/send` calls arrived (accepted or not).
    pub fn send_attempts(&self) -> usize {
        self.0.send_attempts.load(Ordering::SeqCst)
    }

    /// The subscription messages accepted, in order.
    pub fn sent(&self) -> Vec<Value> {
        self.0.sent.lock().unwrap().clone()
    }

    /// Messages to `openid` answer 43101 (the user has not subscribed).
    pub fn refuse(&self, openid: &str) {
        self.0.refusing.lock().unwrap().insert(openid.into());
    }

    /// Messages to `openid` answer -1 (system busy).
    pub fn fail(&self, openid: &str) {
        self.0.failing.lock().unwrap().insert(openid.into());
    }

    /// While `on`, `subscribe/send` counts the attempt and then does not answer (for up to
    /// a minute), as a WeChat that hangs.
    pub fn hang(&self, on: bool) {
        self.0.hanging.store(on, Ordering::SeqCst);
    }

    /// Revokes the token in use: the next send with it answers 40001.
    pub fn expire_token(&self) {
        *self.0.current_token.lock().unwrap() = None;
    }
}

/// A local double of WeChat's server API.
///
/// `/sns/jscode2session` codes: `ok-<openid>` succeeds; `invalid`, `used`, `busy`,
/// `limited`, `blocked` answer WeChat's documented error codes; `http500` fails at the HTTP
/// level. `/cgi-bin/token` issues a new token on each call and revokes the old one.
/// `/cgi-bin/message/subscribe/send` answers 40001 for any token but the current one,
/// 43101 for [`WechatDouble::refuse`]d openids, -1 for [`WechatDouble::fail`]ed ones, and
/// otherwise records the message. Like WeChat it checks appid, secret and grant type.
pub async fn spawn_wechat_double() -> (String, actix_web::dev::ServerHandle, WechatDouble) {
    async fn token(
        state: web::Data<WechatDouble>,
        q: web::Query<std::collections::HashMap<String, String>>,
    ) -> HttpResponse {
        if q.get("appid").map(String::as_str) != Some("wx-test-app")
            || q.get("secret").map(String::as_str) != Some("wechat-app-secret")
            || q.get("grant_type").map(String::as_str) != Some("client_credential")
        {
            return HttpResponse::Ok().json(json!({ "errcode": 40013, "errmsg": "invalid appid" }));
        }
        let n = state.0.token_fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("ACCESS-TOKEN-{n}");
        *state.0.current_token.lock().unwrap() = Some(token.clone());
        HttpResponse::Ok().json(json!({ "access_token": token, "expires_in": 7200 }))
    }
    async fn send(
        state: web::Data<WechatDouble>,
        q: web::Query<std::collections::HashMap<String, String>>,
        body: web::Json<Value>,
    ) -> HttpResponse {
        state.0.send_attempts.fetch_add(1, Ordering::SeqCst);
        let hung_at = std::time::Instant::now();
        while state.0.hanging.load(Ordering::SeqCst)
            && hung_at.elapsed() < std::time::Duration::from_secs(60)
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let err = |c: i64, m: &str| HttpResponse::Ok().json(json!({ "errcode": c, "errmsg": m }));
        let current = state.0.current_token.lock().unwrap().clone();
        if current.is_none() || q.get("access_token") != current.as_ref() {
            return err(
                40001,
                "invalid credential, access_token is invalid or not latest",
            );
        }
        let touser = body["touser"].as_str().unwrap_or_default().to_string();
        if state.0.refusing.lock().unwrap().contains(&touser) {
            return err(43101, "user refuse to accept the msg");
        }
        if state.0.failing.lock().unwrap().contains(&touser) {
            return err(-1, "system error");
        }
        state.0.sent.lock().unwrap().push(body.into_inner());
        err(0, "ok")
    }
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
    let double = WechatDouble::default();
    let data = web::Data::new(double.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/sns/jscode2session", web::get().to(session))
            .route("/cgi-bin/token", web::get().to(token))
            .route("/cgi-bin/message/subscribe/send", web::post().to(send))
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .expect("bind double");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle, double)
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
