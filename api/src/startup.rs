//! Building and running the HTTP server: [`Application::build`] binds (port 0 in tests) and
//! returns a server ready to run; [`Application::run_until_stopped`] serves until SIGINT or
//! SIGTERM, lets in-flight requests finish, then stops the background loops after the jobs
//! in hand are done.

use std::{net::TcpListener, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware::from_fn, web};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use utoipa_swagger_ui::SwaggerUi;
use wufei_domain::{Platform, config::Settings};

use crate::{middleware, openapi, problem, routes};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    platform: Platform,
    background: JoinSet<()>,
    stop: CancellationToken,
    closing: routes::ws::Closing,
}

impl Application {
    /// Builds the platform (connect, migrate, seed), binds, and — in the embedded footprint
    /// — starts the worker loops in-process.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let platform = Platform::build(settings).await?;
        // What this start seeded (a new version's plan data) is public at once everywhere.
        if let Err(e) = platform
            .generations
            .bump(crate::cache::PUBLIC_GENERATION)
            .await
        {
            tracing::warn!(error = %e, "public cache generation not bumped at start");
        }
        Self::with_platform(platform)
    }

    /// Like [`Self::build`] with a platform already built (tests).
    pub fn with_platform(platform: Platform) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&platform.settings.bind)?;
        let port = listener.local_addr()?.port();
        let stop = CancellationToken::new();
        let background = if platform.settings.embedded() {
            platform.spawn_background(&format!("api-{}-{port}", std::process::id()), stop.clone())
        } else {
            // Production: jobs run in wufei-worker, but this process relays its own commits
            // at once instead of waiting for a worker's next poll.
            let mut set = JoinSet::new();
            set.spawn(platform.relay().run(stop.clone()));
            set
        };
        let closing = routes::ws::Closing::default();
        let server = server(listener, platform.clone(), closing.clone())?;
        Ok(Self {
            port,
            server,
            platform,
            background,
            stop,
            closing,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server (as SIGTERM would), for tests that restart it.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The platform (tests inspect the database through it).
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Serves until stopped by a signal (or by the server handle), then shuts down
    /// gracefully.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // actix-web stops on the same signals; this only tells WebSockets to close first,
        // since they would otherwise hold the graceful stop for the whole grace period.
        let closing = self.closing.0.clone();
        let watcher = tokio::spawn(async move {
            shutdown_signal().await;
            closing.cancel();
        });
        let result = self.server.await;
        self.closing.0.cancel();
        watcher.abort();
        self.stop.cancel();
        let mut set = self.background;
        let grace = Duration::from_secs(self.platform.settings.shutdown_grace_secs);
        let drained =
            tokio::time::timeout(grace, async { while set.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!("background loops did not finish within the grace period");
        }
        self.platform.search.close().await;
        tracing::info!("stopped");
        Ok(result?)
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn server(
    listener: TcpListener,
    platform: Platform,
    closing: routes::ws::Closing,
) -> anyhow::Result<Server> {
    let settings = &platform.settings;
    let shared = platform.clone();
    let closing = web::Data::new(closing);
    let public_cache = web::Data::new(crate::cache::PublicCache::default());
    let openapi = openapi::openapi();
    let (json_limit, grace, workers) = (
        settings.max_json_bytes,
        settings.shutdown_grace_secs,
        settings.http_workers,
    );
    let mut http = HttpServer::new(move || {
        let shared = shared.clone();
        App::new()
            // Each HTTP worker thread gets the platform with a Redis connection driven on
            // that thread (see `Platform::on_this_thread`), as `web::Data<Platform>`.
            .data_factory(move || {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(shared.on_this_thread().await) }
            })
            .app_data(closing.clone())
            .app_data(public_cache.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .error_handler(problem::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(problem::query_error))
            .app_data(web::FormConfig::default().error_handler(problem::form_error))
            .app_data(web::PathConfig::default().error_handler(problem::path_error))
            .wrap(from_fn(middleware::rate_limit))
            .wrap(from_fn(middleware::authenticate))
            .wrap(from_fn(middleware::edge))
            .configure(routes::configure)
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
            .route(
                "/docs",
                web::get().to(|| async {
                    actix_web::HttpResponse::PermanentRedirect()
                        .insert_header(("location", "/docs/"))
                        .finish()
                }),
            )
            // A path no route knows: the 404 page for a browser, problem+json otherwise.
            .default_service(web::to(routes::pages::render::unknown))
    })
    .shutdown_timeout(grace)
    .listen(listener)?;
    if workers > 0 {
        http = http.workers(workers);
    }
    Ok(http.run())
}
