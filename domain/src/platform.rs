//! The platform: every long-lived dependency of a process (database, ports, services,
//! metrics), built once from [`Settings`] with the adapters of the chosen footprint, and
//! the background loops that run on it.

use std::{path::PathBuf, sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::{AuthService, TokenKeys, tokens, wechat::WechatClient},
    config::Settings,
    db,
    error::{Error, Result},
    jobs::{Jobs, Runner, handlers, outbox::OutboxSignal, relay::Relay, scheduler},
    metrics::Metrics,
    notifications::{self, access_token::AccessTokens},
    ports::{
        blob::{
            BlobStore,
            local::LocalBlobStore,
            s3::{S3BlobStore, S3Config},
        },
        generations::{Generations, embedded::EmbeddedGenerations, redis::RedisGenerations},
        geo::{GeoIndex, embedded::EmbeddedGeoIndex, redis::RedisGeoIndex},
        pubsub::{PubSub, embedded::EmbeddedPubSub, redis::RedisPubSub},
        queue::{Queue, QueuePolicy, embedded::EmbeddedQueue, redis::RedisQueue},
        rate_limit::{RateLimiter, embedded::EmbeddedRateLimiter, redis::RedisRateLimiter},
        redis_conn::RedisLink,
        search::{
            SearchIndex,
            embedded::EmbeddedSearch,
            meili::{MeiliConfig, MeiliSearch},
        },
    },
    seed, slots,
    uploads::{UploadLimits, UploadService},
};

/// Everything a process shares. Cheap to clone.
#[derive(Clone)]
pub struct Platform {
    /// The settings it was built from.
    pub settings: Arc<Settings>,
    /// The database.
    pub db: DatabaseConnection,
    /// The job queue.
    pub queue: Arc<dyn Queue>,
    /// The file store.
    pub blobs: Arc<dyn BlobStore>,
    /// Rate limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Live recycler positions.
    pub geo: Arc<dyn GeoIndex>,
    /// Real-time fan-out to WebSockets on every instance (see [`crate::realtime`]).
    pub pubsub: Arc<dyn PubSub>,
    /// Change counters shared by every instance (the public cache's invalidation).
    pub generations: Arc<dyn Generations>,
    /// The accounts whose access tokens were revoked, as this process last loaded them.
    pub revocations: Arc<crate::auth::revocations::Revocations>,
    /// Full-text search: Meilisearch when `MEILI_URL` is set, else the embedded engine
    /// under `<data dir>/search` (see [`crate::ports::search`]).
    pub search: Arc<dyn SearchIndex>,
    /// Logins and tokens.
    pub auth: AuthService,
    /// Uploaded files.
    pub uploads: UploadService,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Wakes the relay after commits that staged jobs.
    pub outbox_signal: OutboxSignal,
    /// The Redis client and the process's circuit breaker, in the production footprint.
    pub redis: Option<RedisLink>,
    /// WeChat's access token, shared by every task (and, through Redis, every instance).
    pub wechat_tokens: Arc<AccessTokens>,
    /// The keys smart devices' secrets are sealed with at rest.
    pub device_keys: Arc<crate::devices::DeviceKeys>,
    /// This process's bookings on PostgreSQL: the bookings of a slot that arrive together
    /// are written in one statement (see [`crate::pickups::booking::Bookings`]).
    pub bookings: Arc<crate::pickups::booking::Bookings>,
    /// The Redis adapters behind `limiter`, `geo` and `pubsub`, for
    /// [`Self::on_this_thread`].
    redis_adapters: Option<RedisAdapters>,
    /// Bounds the dispatches this process runs at once right after its own bookings.
    inline_dispatch: Arc<crate::dispatch::InlineDispatch>,
}

/// Deadline of a Redis command of the WeChat access-token cache (off the request path).
const WECHAT_TOKEN_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The adapters that the footprint decides between Redis and process memory.
struct Adapters {
    queue: Arc<dyn Queue>,
    limiter: Arc<dyn RateLimiter>,
    geo: Arc<dyn GeoIndex>,
    pubsub: Arc<dyn PubSub>,
    generations: Arc<dyn Generations>,
    redis: Option<(RedisLink, RedisAdapters)>,
}

/// The Redis adapters that talk over one multiplexed connection, kept as themselves so
/// that [`Platform::on_this_thread`] can put them on another.
#[derive(Clone)]
struct RedisAdapters {
    limiter: RedisRateLimiter,
    geo: RedisGeoIndex,
    pubsub: RedisPubSub,
    generations: RedisGenerations,
}

fn infra(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("{what}: {e}"))
}

impl Platform {
    /// Connects, migrates, seeds, and builds the adapters of the footprint `settings` asks for.
    pub async fn build(settings: Settings) -> Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| infra(&format!("data dir {}", settings.data_dir.display()), e))?;
        let db = prepare_database(&settings, settings.database_max_connections).await?;
        let device_keys = Arc::new(crate::devices::DeviceKeys::from_settings(&settings)?);
        let metrics = Metrics::new().map_err(|e| infra("metrics", e))?;
        let policy = QueuePolicy {
            visibility_timeout: Duration::from_secs(settings.queue_visibility_timeout_secs),
            max_attempts: settings.queue_max_attempts,
            ..QueuePolicy::default()
        };
        let Adapters {
            queue,
            limiter,
            geo,
            pubsub,
            generations,
            redis,
        } = match &settings.redis_url {
            Some(url) => {
                let link = RedisLink::new(
                    redis::Client::open(url.as_str()).map_err(|e| infra("REDIS_URL", e))?,
                );
                let conn = link.connect(settings.redis_timeout()).await?;
                let prefix = &settings.redis_prefix;
                let queue = RedisQueue::connect(&link, prefix.clone(), policy).await?;
                let parts = RedisAdapters {
                    limiter: RedisRateLimiter::new(conn.clone(), prefix.clone()),
                    generations: RedisGenerations::new(conn.clone(), prefix.clone()),
                    geo: RedisGeoIndex::new(conn.clone(), prefix.clone()),
                    pubsub: RedisPubSub::connect(link.client().clone(), conn, prefix.clone())
                        .await?,
                };
                Adapters {
                    queue: Arc::new(queue),
                    limiter: Arc::new(parts.limiter.clone()),
                    geo: Arc::new(parts.geo.clone()),
                    pubsub: Arc::new(parts.pubsub.clone()),
                    generations: Arc::new(parts.generations.clone()),
                    redis: Some((link, parts)),
                }
            }
            None => Adapters {
                queue: Arc::new({
                    let queue = EmbeddedQueue::new(db.clone(), policy);
                    if db::backend(&db) == sea_orm::DatabaseBackend::Sqlite {
                        // The one process on this file: what a killed one held runs again now.
                        queue.release_leases().await?;
                    }
                    queue
                }),
                limiter: Arc::new(EmbeddedRateLimiter::new()),
                geo: Arc::new(EmbeddedGeoIndex::new()),
                pubsub: Arc::new(EmbeddedPubSub::new()),
                generations: Arc::new(EmbeddedGenerations::new()),
                redis: None,
            },
        };
        let blobs: Arc<dyn BlobStore> = match &settings.s3_bucket {
            Some(bucket) => Arc::new(S3BlobStore::new(S3Config {
                bucket: bucket.clone(),
                endpoint: settings.s3_endpoint.clone(),
                region: settings.s3_region.clone(),
                access_key_id: settings.s3_access_key_id.clone(),
                secret_access_key: settings
                    .s3_secret_access_key
                    .as_ref()
                    .map(|s| s.expose().to_string()),
                allow_http: settings
                    .s3_endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
                prefix: String::new(),
            })?),
            None => Arc::new(LocalBlobStore::new(blob_root(&settings))?),
        };
        let search = search_engine(&settings)?;
        prepare_indexes(&settings, search.as_ref()).await?;
        let secret = tokens::load_or_create_secret(&settings)?;
        let keys = TokenKeys::new(&secret, &settings)?;
        let wechat = WechatClient::new(&settings)?;
        let (redis, redis_adapters) = redis.unzip();
        let wechat_tokens = Arc::new(match &redis {
            Some(link) => AccessTokens::redis(
                wechat.clone(),
                link.connect(WECHAT_TOKEN_REDIS_TIMEOUT).await?,
                &settings.redis_prefix,
            ),
            None => AccessTokens::in_memory(wechat.clone()),
        });
        let auth = AuthService::new(
            db.clone(),
            keys,
            wechat,
            limiter.clone(),
            settings.login_attempts,
        );
        let uploads = UploadService::new(
            db.clone(),
            blobs.clone(),
            UploadLimits {
                max_bytes: settings.max_upload_bytes,
                ..UploadLimits::default()
            },
        );
        Ok(Self {
            settings: Arc::new(settings),
            db,
            queue,
            blobs,
            limiter,
            geo,
            pubsub,
            generations,
            revocations: Arc::default(),
            search,
            auth,
            uploads,
            metrics,
            outbox_signal: OutboxSignal::default(),
            redis,
            wechat_tokens,
            device_keys,
            redis_adapters,
            inline_dispatch: Arc::default(),
            bookings: Arc::default(),
        })
    }

    /// This platform with a Redis connection of its own for the rate limiter, the geo index
    /// and publishing, driven by the runtime of the calling thread (the same platform in
    /// the embedded footprint, or if Redis cannot be reached now: it keeps the shared one).
    ///
    /// A multiplexed connection is driven by a task on the runtime that opened it, so the
    /// one [`Self::build`] opens lives on the main thread, and every command an HTTP worker
    /// thread sent over it crossed to that thread and back: two wake-ups of another thread
    /// per round trip, on a path that makes two or three per request (the rate limit, and
    /// for a booking the dispatch's geo lookup and push). wufei-api calls this once per
    /// HTTP worker thread, as the thread starts.
    pub async fn on_this_thread(&self) -> Platform {
        let (Some(link), Some(parts)) = (&self.redis, &self.redis_adapters) else {
            return self.clone();
        };
        let conn = match link.connect(self.settings.redis_timeout()).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "no Redis connection of its own for this thread; sharing the process's");
                return self.clone();
            }
        };
        let limiter: Arc<dyn RateLimiter> = Arc::new(parts.limiter.over(conn.clone()));
        Platform {
            auth: self.auth.with_limiter(limiter.clone()),
            limiter,
            geo: Arc::new(parts.geo.over(conn.clone())),
            generations: Arc::new(RedisGenerations::new(
                conn.clone(),
                self.settings.redis_prefix.clone(),
            )),
            pubsub: Arc::new(parts.pubsub.publishing_over(conn)),
            ..self.clone()
        }
    }

    /// Starts the relay, the job runner and the scheduler; they stop when `stop` is
    /// cancelled, finishing the jobs in hand. The runner handles, and the scheduler
    /// stages, what [`Self::jobs`] declares.
    pub fn spawn_background(&self, consumer: &str, stop: CancellationToken) -> JoinSet<()> {
        let jobs = self.jobs();
        let mut set = JoinSet::new();
        set.spawn(self.relay().run(stop.clone()));
        let runner = Runner::new(
            self.queue.clone(),
            consumer.to_string(),
            8,
            self.metrics.clone(),
        )
        .wake_after_jobs(self.outbox_signal.clone())
        .register_jobs(&jobs);
        let runner = if self.queue.in_database() {
            runner
        } else {
            runner.reporting_done(crate::jobs::outbox::Done::new(self.db.clone()))
        };
        set.spawn(runner.run(stop.clone()));
        set.spawn(scheduler::run(
            self.db.clone(),
            self.outbox_signal.clone(),
            jobs.periodic_topics(),
            stop,
        ));
        set
    }

    /// Every capability's jobs, each declared by its capability's `jobs()`: the one list
    /// a new capability with jobs joins.
    pub fn jobs(&self) -> Jobs {
        Jobs::default()
            .and(handlers::jobs(&self.db))
            .and(slots::jobs(&self.db))
            .and(crate::pickups::jobs(&self.db, &self.pubsub))
            .and(crate::dispatch::jobs(self.dispatcher()))
            .and(crate::points::jobs(&self.db, self.ledger_rules()))
            .and(crate::marketplace::jobs::jobs(
                &self.db,
                self.search.clone(),
            ))
            .and(crate::disclosure::jobs::jobs(&self.db, self.search.clone()))
            .and(crate::voice::jobs::jobs(&self.db))
            .and(crate::uploads::sweep::jobs(&self.db, self.blobs.clone()))
            .and(notifications::jobs(notifications::Deliver {
                db: self.db.clone(),
                tokens: self.wechat_tokens.clone(),
                templates: self.settings.wechat_templates.clone(),
                default_page: self.settings.wechat_page.clone(),
            }))
    }

    /// The ledger's rules from the settings.
    pub fn ledger_rules(&self) -> crate::ledger::Rules {
        crate::ledger::Rules::from_settings(&self.settings)
    }

    /// The dispatcher with the settings' policy, pushing offers as it makes them.
    pub fn dispatcher(&self) -> crate::dispatch::Dispatcher {
        crate::dispatch::Dispatcher::new(
            self.db.clone(),
            self.geo.clone(),
            crate::dispatch::Policy::from_settings(&self.settings),
        )
        .pushing_to(self.pubsub.clone())
    }

    /// Books a pickup as this process does: dispatch reads what the first round needs,
    /// the booking is written through this process's [`Self::bookings`], and the first
    /// round follows the commit here (see [`crate::dispatch::Dispatcher::book`]).
    pub async fn book(
        &self,
        who: &crate::auth::Principal,
        input: crate::pickups::booking::BookingInput,
    ) -> Result<crate::pickups::booking::Booked> {
        let with = crate::dispatch::Booking {
            bookings: &self.bookings,
            inline: &self.inline_dispatch,
            signal: &self.outbox_signal,
            rules: crate::pickups::Rules::from_settings(&self.settings),
        };
        self.dispatcher().book(with, who, input).await
    }

    /// The outbox relay of this process. Every process that commits jobs runs one (API
    /// instances too, woken at once by their own commits); on PostgreSQL they share the work
    /// with `SKIP LOCKED`.
    pub fn relay(&self) -> Relay {
        Relay::new(
            self.db.clone(),
            self.queue.clone(),
            self.outbox_signal.clone(),
        )
    }

    /// Checks each dependency; returns the names of those that failed.
    pub async fn readiness(&self) -> Vec<(&'static str, String)> {
        let mut failed = Vec::new();
        if let Err(e) = db::ping(&self.db).await {
            failed.push(("database", e.to_string()));
        }
        if let Err(e) = self.queue.ping().await {
            failed.push(("queue", e.to_string()));
        }
        if let Err(e) = self.blobs.ping().await {
            failed.push(("blob_store", e.to_string()));
        }
        if let Err(e) = self.search.ready().await {
            failed.push(("search", e.to_string()));
        }
        failed
    }
}

/// Connects to the settings' database (a pool of `max_connections`) and brings it up to
/// date: migrations, reference data, the next days' pickup slots (a fresh server offers
/// slots at once instead of after the first scheduler tick), when asked the demo data, and
/// every device secret sealed under the current key (see [`crate::devices::sealing`]).
/// One process at a time does this ([`db::StartupLock`]); others starting at the same
/// moment wait, then find it done.
pub async fn prepare_database(
    settings: &Settings,
    max_connections: u32,
) -> Result<DatabaseConnection> {
    let url = settings.effective_database_url();
    let db = db::connect(&url, max_connections).await?;
    let lock = db::StartupLock::acquire(&url).await?;
    db::migrate(&db).await?;
    seed::reference(&db).await?;
    crate::disclosure::seed::plan(&db).await?;
    slots::generate(
        &db,
        slots::local_today(chrono::Utc::now()),
        slots::GENERATE_DAYS,
    )
    .await?;
    if settings.seed_demo {
        seed::demo(&db).await?;
    }
    crate::devices::sealing::reseal_all(&db, &crate::devices::DeviceKeys::from_settings(settings)?)
        .await?;
    lock.release().await?;
    Ok(db)
}

/// Creates the capabilities' search indexes and applies their settings. In the embedded
/// footprint the engine must open them (a failure stops the start). Otherwise a failure is
/// a warning: `/readyz` reports it, searches answer 503 meanwhile, and the index job
/// prepares the index before its first write (Meilisearch away at start, or a second
/// process on an embedded index another one holds).
async fn prepare_indexes(settings: &Settings, search: &dyn SearchIndex) -> Result<()> {
    for spec in [
        &crate::marketplace::search::LISTINGS,
        &crate::disclosure::articles::search::ARTICLES,
    ] {
        if let Err(e) = search.prepare(spec).await {
            if settings.embedded() {
                return Err(infra("search index", e));
            }
            tracing::warn!(index = spec.name, error = %e, "search index not prepared yet");
        }
    }
    Ok(())
}

/// The search engine the settings ask for. Neither opens an index yet: capabilities
/// `prepare` theirs (the embedded engine locks each index's directory then).
fn search_engine(settings: &Settings) -> Result<Arc<dyn SearchIndex>> {
    Ok(match &settings.meili_url {
        Some(url) => Arc::new(
            MeiliSearch::new(&MeiliConfig {
                url: url.clone(),
                key: settings
                    .meili_master_key
                    .as_ref()
                    .map(|k| k.expose().to_string()),
                index_prefix: settings.meili_index_prefix.clone(),
            })
            .map_err(|e| infra("MEILI_URL", e))?,
        ),
        None => {
            if !settings.embedded() {
                tracing::warn!(
                    "MEILI_URL is unset: search uses the embedded engine, which only this process can open; production runs Meilisearch"
                );
            }
            Arc::new(
                EmbeddedSearch::new(settings.data_dir.join("search"))
                    .map_err(|e| infra("search directory", e))?,
            )
        }
    })
}

fn blob_root(settings: &Settings) -> PathBuf {
    settings.data_dir.join("files")
}
