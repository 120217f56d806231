//! Configuration: one typed struct, loaded once at start-up from defaults, then an optional
//! `wufei.toml`, then the environment (later wins), validated, and passed down. Nothing reads
//! the environment anywhere else. Secrets are wrapped in [`Secret`] so they never reach a log.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Deserializer, Serialize};

/// A value that must never be printed. `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Pretty when stdout is a terminal, JSON otherwise.
    Auto,
    /// One JSON object per line (production).
    Json,
    /// Human-readable.
    Pretty,
}

/// Every setting Wufei reads. Environment names are given per field; a `wufei.toml` in the
/// working directory (or the file named by `WUFEI_CONFIG`) may set any field by its name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `WUFEI_BIND`: the address the HTTP server listens on.
    pub bind: String,
    /// `WUFEI_WORKER_BIND`: where `wufei-worker` answers `/healthz`, `/readyz` and `/metrics`
    /// (its job outcomes, the queue's depth) for probes and Prometheus; keep it private.
    pub worker_bind: String,
    /// `WUFEI_DATA_DIR`: the SQLite file, uploaded files and the embedded search index.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`; unset means `sqlite://<data_dir>/wufei.db`.
    pub database_url: Option<String>,
    /// `WUFEI_DATABASE_MAX_CONNECTIONS`: pool size (PostgreSQL; SQLite uses its own bound).
    pub database_max_connections: u32,
    /// `REDIS_URL`: Redis for queues, geo, pub/sub, cache and rate limits; unset means the
    /// embedded adapters and the worker loops run inside `wufei-api`.
    pub redis_url: Option<String>,
    /// `WUFEI_REDIS_PREFIX`: prefix of every Redis key, so several deployments (or tests)
    /// can share one Redis.
    pub redis_prefix: String,
    /// `WUFEI_REDIS_TIMEOUT_MS`: how long a request waits for one Redis command (rate limit,
    /// geo index, publish) before going on without it; while Redis is unreachable a circuit
    /// breaker fails such commands at once (see `ports::redis_conn`).
    pub redis_timeout_ms: u64,
    /// `MEILI_URL`: Meilisearch for search (the marketplace); unset means the embedded
    /// engine, tantivy under `<data dir>/search`, which only the one process owning the data
    /// dir can open.
    pub meili_url: Option<String>,
    /// `MEILI_MASTER_KEY`: Meilisearch key (a key allowed to manage indexes, documents,
    /// settings and tasks).
    pub meili_master_key: Option<Secret>,
    /// `WUFEI_MEILI_INDEX_PREFIX`: prefix of every Meilisearch index name (letters, digits,
    /// `-` and `_`), so several deployments (or tests) can share one server.
    pub meili_index_prefix: String,
    /// `WUFEI_JWT_SECRET`: HMAC key for access tokens (at least 32 bytes). Unset: generated
    /// once and kept in `<data_dir>/jwt.secret`. Every API instance must share it.
    pub jwt_secret: Option<Secret>,
    /// `WUFEI_DEVICE_SECRET_KEY`: the key smart devices' secrets are sealed with at rest (at
    /// least 32 bytes of random text, the same on every instance); generated into
    /// `<data dir>/device.key` when unset.
    pub device_secret_key: Option<Secret>,
    /// `WUFEI_DEVICE_SECRET_PREVIOUS_KEYS`: earlier device-secret keys, comma-separated, still
    /// accepted while every secret is sealed again under the current one at start (rotation).
    pub device_secret_previous_keys: Option<Secret>,
    /// `WUFEI_JWT_ISSUER`: the `iss` claim written and required.
    pub jwt_issuer: String,
    /// `WUFEI_JWT_AUDIENCE`: the `aud` claim written and required.
    pub jwt_audience: String,
    /// `WUFEI_ACCESS_TOKEN_TTL_SECS`: access token lifetime.
    pub access_token_ttl_secs: u64,
    /// `WUFEI_REFRESH_TOKEN_TTL_SECS`: refresh token lifetime.
    pub refresh_token_ttl_secs: u64,
    /// `WECHAT_APPID`: the mini-program's app id.
    pub wechat_appid: Option<String>,
    /// `WECHAT_SECRET`: the mini-program's app secret.
    pub wechat_secret: Option<Secret>,
    /// `WECHAT_API_BASE`: base URL of WeChat's server API (a local double in tests).
    pub wechat_api_base: String,
    /// `WUFEI_WECHAT_TEMPLATE_<KIND>` (e.g. `WUFEI_WECHAT_TEMPLATE_PICKUP_STATUS`), or in
    /// `wufei.toml` a table `[wechat_templates]` with `pickup_status = "<template id>"`:
    /// the subscription-message template sent for each notification kind. A kind without a
    /// template is delivered to the in-app inbox only.
    pub wechat_templates: BTreeMap<String, String>,
    /// `WUFEI_WECHAT_PAGE`: the mini-program page a subscription message opens, unless the
    /// notification names its own.
    pub wechat_page: String,
    /// `WUFEI_PUBLIC_URL`: the public pages' own address (`https://wufei.example.gov.cn`),
    /// for canonical links, Open Graph tags, the sitemap and the same-origin check of their
    /// forms; unset means the address the request came to (its `Host`).
    pub public_url: Option<String>,
    /// `WUFEI_MAP_TILE_URL`: a tile server for the public pages' maps, with `{z}`, `{x}`
    /// and `{y}` (GCJ-02 tiles, as Wufei's positions are GCJ-02); unset means the maps draw
    /// the points on a plain background, and the pages request nothing from elsewhere.
    pub map_tile_url: Option<String>,
    /// `WUFEI_SEED_DEMO`: `1` seeds demo accounts and mall items on an empty database.
    #[serde(deserialize_with = "flag")]
    pub seed_demo: bool,
    /// `WUFEI_LOG_FORMAT`: `auto`, `json` or `pretty`.
    pub log_format: LogFormat,
    /// `WUFEI_MAX_JSON_BYTES`: the largest JSON body accepted.
    pub max_json_bytes: usize,
    /// `WUFEI_MAX_UPLOAD_BYTES`: the largest uploaded file accepted.
    pub max_upload_bytes: usize,
    /// `WUFEI_RATE_LIMIT_PER_CLIENT`: requests per minute per client address.
    pub rate_limit_per_client: u32,
    /// `WUFEI_RATE_LIMIT_PER_USER`: requests per minute per signed-in user.
    pub rate_limit_per_user: u32,
    /// `WUFEI_LOGIN_ATTEMPTS`: failed password logins per phone (and per client) per
    /// 15 minutes before further attempts are refused with 429.
    pub login_attempts: u32,
    /// `WUFEI_TRUST_FORWARDED_FOR`: take the client address from `X-Forwarded-For` (only
    /// behind a proxy that sets it).
    #[serde(deserialize_with = "flag")]
    pub trust_forwarded_for: bool,
    /// `WUFEI_S3_BUCKET`: store files in this S3-compatible bucket instead of the data dir.
    pub s3_bucket: Option<String>,
    /// `WUFEI_S3_ENDPOINT`: the object store's URL (MinIO, OSS, COS …); unset means AWS.
    pub s3_endpoint: Option<String>,
    /// `WUFEI_S3_REGION`: the bucket's region.
    pub s3_region: String,
    /// `WUFEI_S3_ACCESS_KEY_ID`: object store credentials.
    pub s3_access_key_id: Option<String>,
    /// `WUFEI_S3_SECRET_ACCESS_KEY`: object store credentials.
    pub s3_secret_access_key: Option<Secret>,
    /// `WUFEI_QUEUE_VISIBILITY_TIMEOUT_SECS`: how long a job may run before another worker
    /// takes it over.
    pub queue_visibility_timeout_secs: u64,
    /// `WUFEI_QUEUE_MAX_ATTEMPTS`: deliveries before a job is dead-lettered.
    pub queue_max_attempts: u32,
    /// `WUFEI_SHUTDOWN_GRACE_SECS`: how long shutdown waits for in-flight requests and jobs.
    pub shutdown_grace_secs: u64,
    /// `WUFEI_WORKERS`: HTTP worker threads (0 = one per core).
    pub http_workers: usize,
    /// `WUFEI_BOOKING_LEAD_MINUTES`: a pickup slot can be booked until this many minutes
    /// before it starts (0..=10080).
    pub booking_lead_minutes: u32,
    /// `WUFEI_CANCEL_CUTOFF_MINUTES`: cancelling is free until this long before the slot;
    /// later it is recorded as a late cancellation.
    pub cancel_cutoff_minutes: u32,
    /// `WUFEI_DISPUTE_WINDOW_HOURS`: how long after completion a resident may dispute the
    /// recorded weights.
    pub dispute_window_hours: u32,
    /// `WUFEI_OFFER_WINDOW_SECS`: how long a recycler has to accept an offer.
    pub offer_window_secs: u32,
    /// `WUFEI_BROADCAST_TOP_K`: recyclers offered at once in broadcast districts.
    pub broadcast_top_k: u32,
    /// `WUFEI_DISPATCH_MAX_OFFERS`: offers made for one pickup (assign mode: one at a time)
    /// before it goes to manual dispatch.
    pub dispatch_max_offers: u32,
    /// `WUFEI_DISPATCH_RADIUS_M`: recyclers farther than this are not offered a pickup.
    pub dispatch_radius_m: u32,
    /// `WUFEI_LOCATION_FRESH_SECS`: a recycler whose last heartbeat is older is not dispatched to.
    pub location_fresh_secs: u32,
    /// `WUFEI_MANUAL_DISPATCH_BEFORE_MINUTES`: a pickup still without a recycler this long
    /// before its slot goes to manual dispatch.
    pub manual_dispatch_before_minutes: u32,
    /// `WUFEI_DISPATCH_RETRY_SECS`: a pickup nobody can take yet is dispatched again this
    /// long after (1..=86400), until its slot is near.
    pub dispatch_retry_secs: u32,
    /// `WUFEI_POINTS_EXPIRY_DAYS`: points expire this many days after they were earned
    /// (1..=3650).
    pub points_expiry_days: u32,
    /// `WUFEI_POINTS_DISTRICT_BUDGET`: the points budget a district's programme account gets
    /// when it is first used; administrators add more over `/v1/admin/points/budgets`.
    pub points_district_budget: i64,
    /// `WUFEI_QR_TOKEN_TTL_SECS`: how long a resident's QR token for smart devices is valid
    /// (30..=3600).
    pub qr_token_ttl_secs: u32,
    /// `WUFEI_DEVICE_CLOCK_SKEW_SECS`: a device's `X-Wufei-Timestamp` may differ from the
    /// server's clock by at most this much (1..=3600).
    pub device_clock_skew_secs: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 20,
            redis_url: None,
            redis_prefix: "wufei".into(),
            redis_timeout_ms: 100,
            worker_bind: "127.0.0.1:9091".into(),
            meili_url: None,
            meili_master_key: None,
            meili_index_prefix: "wufei_".into(),
            jwt_secret: None,
            device_secret_key: None,
            device_secret_previous_keys: None,
            jwt_issuer: "wufei".into(),
            jwt_audience: "wufei-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            wechat_appid: None,
            wechat_secret: None,
            wechat_api_base: "https://api.weixin.qq.com".into(),
            wechat_templates: BTreeMap::new(),
            wechat_page: "pages/index/index".into(),
            public_url: None,
            map_tile_url: None,
            seed_demo: false,
            log_format: LogFormat::Auto,
            max_json_bytes: 256 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            rate_limit_per_client: 600,
            rate_limit_per_user: 600,
            login_attempts: 5,
            trust_forwarded_for: false,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            queue_visibility_timeout_secs: 60,
            queue_max_attempts: 8,
            shutdown_grace_secs: 30,
            http_workers: 0,
            booking_lead_minutes: 60,
            cancel_cutoff_minutes: 120,
            dispute_window_hours: 48,
            offer_window_secs: 60,
            broadcast_top_k: 5,
            dispatch_max_offers: 3,
            dispatch_radius_m: 15_000,
            location_fresh_secs: 600,
            manual_dispatch_before_minutes: 30,
            dispatch_retry_secs: 600,
            points_expiry_days: 365,
            points_district_budget: 100_000_000,
            qr_token_ttl_secs: 120,
            device_clock_skew_secs: 300,
        }
    }
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("configuration could not be read: {0}")]
    Read(#[from] Box<figment::Error>),
    /// A value was read but is not acceptable.
    #[error("configuration value {name} is invalid: {reason}")]
    Invalid {
        /// The environment variable (or file key) at fault.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Environment variables read without the `WUFEI_` prefix, by the names clients know.
const PLAIN_ENV: [&str; 7] = [
    "DATABASE_URL",
    "REDIS_URL",
    "MEILI_URL",
    "MEILI_MASTER_KEY",
    "WECHAT_APPID",
    "WECHAT_SECRET",
    "WECHAT_API_BASE",
];

impl Settings {
    /// [`Self::redis_timeout_ms`] as a duration.
    pub fn redis_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.redis_timeout_ms)
    }

    /// Loads defaults < `wufei.toml` (or `$WUFEI_CONFIG`) < environment, and validates.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var("WUFEI_CONFIG").unwrap_or_else(|_| "wufei.toml".into());
        Self::from_figment(
            Figment::from(Serialized::defaults(Settings::default()))
                .merge(Toml::file(file))
                .merge(
                    Env::prefixed("WUFEI_")
                        .ignore(&["CONFIG"])
                        .filter(|k| !k.as_str().starts_with("test_"))
                        .map(|k| env_key(k.as_str()).into()),
                )
                .merge(Env::raw().only(&PLAIN_ENV)),
        )
    }

    /// Extracts and validates settings from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every value that could only fail later and obscurely.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name, reason: &str| ConfigError::Invalid {
            name,
            reason: reason.to_string(),
        };
        self.bind
            .parse::<SocketAddr>()
            .map_err(|e| invalid("WUFEI_BIND", &format!("{e} (expected host:port)")))?;
        self.worker_bind
            .parse::<SocketAddr>()
            .map_err(|e| invalid("WUFEI_WORKER_BIND", &format!("{e} (expected host:port)")))?;
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("unix://"))
        {
            return Err(invalid(
                "REDIS_URL",
                "must start with redis://, rediss:// or unix://",
            ));
        }
        if let Some(url) = &self.meili_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid("MEILI_URL", "must start with http:// or https://"));
        }
        if let Some(key) = &self.meili_master_key
            && !key.expose().bytes().all(|b| (0x21..0x7f).contains(&b))
        {
            return Err(invalid(
                "MEILI_MASTER_KEY",
                "printable ASCII without spaces only",
            ));
        }
        if self.meili_index_prefix.len() > 200
            || !self
                .meili_index_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "WUFEI_MEILI_INDEX_PREFIX",
                "letters, digits, - and _ only (at most 200)",
            ));
        }
        if let Some(secret) = &self.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(invalid("WUFEI_JWT_SECRET", "must be at least 32 bytes"));
        }
        if let Some(key) = &self.device_secret_key
            && key.expose().trim().len() < 32
        {
            return Err(invalid(
                "WUFEI_DEVICE_SECRET_KEY",
                "must be at least 32 bytes",
            ));
        }
        if let Some(keys) = &self.device_secret_previous_keys
            && keys
                .expose()
                .split(',')
                .any(|k| !k.trim().is_empty() && k.trim().len() < 32)
        {
            return Err(invalid(
                "WUFEI_DEVICE_SECRET_PREVIOUS_KEYS",
                "each key must be at least 32 bytes",
            ));
        }
        if !(self.wechat_api_base.starts_with("http://")
            || self.wechat_api_base.starts_with("https://"))
        {
            return Err(invalid("WECHAT_API_BASE", "must be an http(s) URL"));
        }
        for (kind, template) in &self.wechat_templates {
            if kind.is_empty()
                || !kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(invalid(
                    "WUFEI_WECHAT_TEMPLATE_<KIND>",
                    &format!("{kind:?} is not a notification kind (lowercase snake_case)"),
                ));
            }
            if template.trim().is_empty() {
                return Err(invalid(
                    "WUFEI_WECHAT_TEMPLATE_<KIND>",
                    &format!("the template id for {kind} is empty"),
                ));
            }
        }
        if self.wechat_page.trim().is_empty() || self.wechat_page.starts_with('/') {
            return Err(invalid(
                "WUFEI_WECHAT_PAGE",
                "must be a mini-program page path such as pages/index/index",
            ));
        }
        if let Some(url) = &self.public_url
            && (!(url.starts_with("http://") || url.starts_with("https://")) || url.ends_with('/'))
        {
            return Err(invalid(
                "WUFEI_PUBLIC_URL",
                "must start with http:// or https:// and not end with /",
            ));
        }
        if let Some(url) = &self.map_tile_url
            && (!(url.starts_with("http://")
                || url.starts_with("https://")
                || url.starts_with('/'))
                || !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)))
        {
            return Err(invalid(
                "WUFEI_MAP_TILE_URL",
                "must be an http(s) URL or a path with {z}, {x} and {y}",
            ));
        }
        if self.access_token_ttl_secs == 0 || self.access_token_ttl_secs > 24 * 3600 {
            return Err(invalid(
                "WUFEI_ACCESS_TOKEN_TTL_SECS",
                "must be between 1 and 86400",
            ));
        }
        if self.refresh_token_ttl_secs < self.access_token_ttl_secs {
            return Err(invalid(
                "WUFEI_REFRESH_TOKEN_TTL_SECS",
                "must not be shorter than the access token lifetime",
            ));
        }
        if !(10..=10_000).contains(&self.redis_timeout_ms) {
            return Err(invalid(
                "WUFEI_REDIS_TIMEOUT_MS",
                "must be between 10 and 10000",
            ));
        }
        if self.database_max_connections == 0 {
            return Err(invalid(
                "WUFEI_DATABASE_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        if self.max_json_bytes < 1024 || self.max_upload_bytes < 1024 {
            return Err(invalid(
                "WUFEI_MAX_JSON_BYTES",
                "body limits must be at least 1024 bytes",
            ));
        }
        if self.rate_limit_per_client == 0 || self.rate_limit_per_user == 0 {
            return Err(invalid("WUFEI_RATE_LIMIT_PER_CLIENT", "must be at least 1"));
        }
        if self.login_attempts == 0 {
            return Err(invalid("WUFEI_LOGIN_ATTEMPTS", "must be at least 1"));
        }
        if !(1..=3650).contains(&self.points_expiry_days) {
            return Err(invalid(
                "WUFEI_POINTS_EXPIRY_DAYS",
                "must be between 1 and 3650",
            ));
        }
        if self.points_district_budget < 0 {
            return Err(invalid(
                "WUFEI_POINTS_DISTRICT_BUDGET",
                "must not be negative",
            ));
        }
        if !(30..=3600).contains(&self.qr_token_ttl_secs) {
            return Err(invalid(
                "WUFEI_QR_TOKEN_TTL_SECS",
                "must be between 30 and 3600",
            ));
        }
        if !(1..=3600).contains(&self.device_clock_skew_secs) {
            return Err(invalid(
                "WUFEI_DEVICE_CLOCK_SKEW_SECS",
                "must be between 1 and 3600",
            ));
        }
        if self.offer_window_secs == 0 || self.broadcast_top_k == 0 || self.dispatch_max_offers == 0
        {
            return Err(invalid(
                "WUFEI_OFFER_WINDOW_SECS",
                "offer window, broadcast size and offers per pickup must be at least 1",
            ));
        }
        if !(1..=86_400).contains(&self.dispatch_retry_secs) {
            return Err(invalid(
                "WUFEI_DISPATCH_RETRY_SECS",
                "must be between 1 and 86400",
            ));
        }
        if self.queue_max_attempts == 0 || self.queue_visibility_timeout_secs == 0 {
            return Err(invalid(
                "WUFEI_QUEUE_MAX_ATTEMPTS",
                "queue attempts and visibility timeout must be at least 1",
            ));
        }
        if self.booking_lead_minutes > 7 * 24 * 60 {
            return Err(invalid(
                "WUFEI_BOOKING_LEAD_MINUTES",
                "must be at most 10080 (a week)",
            ));
        }
        Ok(())
    }

    /// How long before a slot starts booking closes ([`Self::booking_lead_minutes`]).
    pub fn booking_lead(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::minutes(i64::from(self.booking_lead_minutes))
    }

    /// The database URL in force: `DATABASE_URL`, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("wufei.db").display()
            ),
        }
    }

    /// Whether this process uses the embedded footprint (no Redis).
    pub fn embedded(&self) -> bool {
        self.redis_url.is_none()
    }
}

/// The settings key a `WUFEI_`-prefixed variable sets (prefix already removed).
/// `WECHAT_TEMPLATE_<KIND>` nests into the `wechat_templates` map under `<kind>`.
fn env_key(key: &str) -> String {
    let key = key.to_ascii_lowercase();
    if let Some(kind) = key.strip_prefix("wechat_template_") {
        return format!("wechat_templates.{kind}");
    }
    match key.as_str() {
        "workers" => "http_workers".into(),
        _ => key,
    }
}

/// Accepts `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (environment variables are
/// strings; `WUFEI_SEED_DEMO=1` must work).
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Str(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bool(b) => Ok(b),
        Raw::Int(i) => Ok(i != 0),
        Raw::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected a flag (1/0, true/false), got {other:?}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        for (k, v) in pairs {
            fig = fig.merge((*k, *v));
        }
        Settings::from_figment(fig)
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        let s = with(&[]).unwrap();
        assert!(s.embedded());
        assert!(s.effective_database_url().starts_with("sqlite://"));
    }

    #[test]
    fn seed_demo_accepts_one() {
        assert!(with(&[("seed_demo", "1")]).unwrap().seed_demo);
        assert!(!with(&[("seed_demo", "0")]).unwrap().seed_demo);
        assert!(with(&[("seed_demo", "maybe")]).is_err());
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        let err = with(&[("bind", "nonsense")]).unwrap_err().to_string();
        assert!(err.contains("WUFEI_BIND"), "{err}");
        let err = with(&[("database_url", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
        let err = with(&[("jwt_secret", "short")]).unwrap_err().to_string();
        assert!(err.contains("WUFEI_JWT_SECRET"), "{err}");
        let err = with(&[("meili_url", "meili:7700")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("MEILI_URL"), "{err}");
        let err = with(&[("meili_index_prefix", "a b")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("WUFEI_MEILI_INDEX_PREFIX"), "{err}");
    }

    #[test]
    fn wechat_templates_come_from_per_kind_variables() {
        assert_eq!(
            env_key("WECHAT_TEMPLATE_PICKUP_STATUS"),
            "wechat_templates.pickup_status"
        );
        assert_eq!(env_key("WORKERS"), "http_workers");
        let s = Settings::from_figment(
            Figment::from(Serialized::defaults(Settings::default()))
                .merge((env_key("WECHAT_TEMPLATE_PICKUP_STATUS"), "tmpl-1"))
                .merge((env_key("WECHAT_TEMPLATE_OFFER"), "tmpl-2")),
        )
        .unwrap();
        assert_eq!(s.wechat_templates["pickup_status"], "tmpl-1");
        assert_eq!(s.wechat_templates["offer"], "tmpl-2");
        assert_eq!(s.wechat_page, "pages/index/index");
        let err = with(&[("wechat_templates.offer", " ")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("WECHAT_TEMPLATE"), "{err}");
    }

    #[test]
    fn booking_lead_defaults_to_an_hour_and_is_bounded() {
        assert_eq!(
            with(&[]).unwrap().booking_lead(),
            chrono::TimeDelta::minutes(60)
        );
        let s = Settings::from_figment(
            Figment::from(Serialized::defaults(Settings::default()))
                .merge(("booking_lead_minutes", 15)),
        )
        .unwrap();
        assert_eq!(s.booking_lead(), chrono::TimeDelta::minutes(15));
        let err = Settings {
            booking_lead_minutes: 20_000,
            ..Settings::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(err.contains("WUFEI_BOOKING_LEAD_MINUTES"), "{err}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = with(&[("jwt_secret", "0123456789abcdef0123456789abcdef-secret")]).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
    }
}

/// The README's configuration table and the settings cannot drift apart.
#[cfg(test)]
mod readme {
    use std::collections::BTreeSet;

    /// The variables the settings document: the first back-quoted name of each field's
    /// doc comment in `Settings`.
    fn settings_variables() -> BTreeSet<String> {
        let src = include_str!("config.rs");
        let start = src.find("pub struct Settings {").unwrap_or(0);
        let body = &src[start..];
        let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
        let mut names = BTreeSet::new();
        let mut doc_starts = true;
        for line in body.lines().map(str::trim) {
            match line.strip_prefix("/// ") {
                Some(doc) if doc_starts => {
                    doc_starts = false;
                    if let Some(name) = doc.strip_prefix('`').and_then(|d| d.split('`').next()) {
                        names.insert(name.to_owned());
                    }
                }
                Some(_) => {}
                None => doc_starts = true,
            }
        }
        names
    }

    /// The variables named in the first cell of each row of the README's table under
    /// "## Configuration".
    fn readme_variables() -> BTreeSet<String> {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## Configuration")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_default();
        section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .flat_map(|l| {
                let cell = l.split(" |").next().unwrap_or_default();
                format!("`{cell}")
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|n| {
                n.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_<>".contains(c))
            })
            .collect()
    }

    #[test]
    fn the_readme_table_names_every_setting_and_nothing_else() {
        let settings = settings_variables();
        let readme = readme_variables();
        assert!(settings.len() > 40, "the parser found {settings:?}");
        let missing: Vec<_> = settings.difference(&readme).collect();
        let unknown: Vec<_> = readme.difference(&settings).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "README.md's configuration table lacks {missing:?} and names unknown {unknown:?}"
        );
    }
}
