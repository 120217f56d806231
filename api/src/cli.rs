//! The `wufei-api` command line: serve (default), `migrate`, `admin create`, `search
//! reindex`, `openapi`.

use clap::{Parser, Subcommand};
use wufei_domain::{
    auth::{AdminScope, Role, users},
    config::Settings,
};

use crate::{Application, openapi, telemetry};

/// Wufei's HTTP server. Configuration comes from the environment (see README).
#[derive(Debug, Parser)]
#[command(name = "wufei-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Administer accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Search indexes.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum SearchCommand {
    /// Rebuild search indexes from the database beside the live ones, then swap them in
    /// (search keeps answering meanwhile). On the embedded engine, run it while the server
    /// is stopped: only one process can open an index.
    Reindex {
        /// `listings`, `articles`, or `all` (the default).
        #[arg(default_value = "all")]
        index: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a password account (an administrator by default).
    Create {
        /// Mobile number (the login name).
        #[arg(long)]
        phone: String,
        /// Password (8–128 characters).
        #[arg(long)]
        password: String,
        /// `super_admin` (default), `district_admin`, `station_manager`, `recycler` or `merchant`.
        #[arg(long, default_value = "super_admin")]
        role: String,
        /// District code for district administrators and station managers.
        #[arg(long)]
        district: Option<String>,
    },
}

/// Parses the command line and runs it.
pub async fn run() -> anyhow::Result<()> {
    telemetry::install_crypto_provider();
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document());
        return Ok(());
    }
    let settings = Settings::load()?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "wufei-api listening");
            app.run_until_stopped().await
        }
        Command::Migrate => {
            wufei_domain::platform::prepare_database(&settings, 2).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Openapi => Ok(()),
        Command::Search {
            command: SearchCommand::Reindex { index },
        } => reindex(settings, &index).await,
        Command::Admin {
            command:
                AdminCommand::Create {
                    phone,
                    password,
                    role,
                    district,
                },
        } => {
            let (role, scope) = match role.as_str() {
                "super_admin" | "admin" => (Role::Admin, Some(AdminScope::SuperAdmin)),
                "district_admin" | "district" => (Role::Admin, Some(AdminScope::District)),
                other => match Role::parse(other) {
                    Some(r) if r != Role::Resident => (r, None),
                    _ => anyhow::bail!(
                        "unknown role {other:?}: use super_admin, district_admin, station_manager, recycler or merchant"
                    ),
                },
            };
            let conn = wufei_domain::platform::prepare_database(&settings, 2).await?;
            let user = users::create_staff(
                &conn,
                users::NewStaff {
                    phone,
                    password,
                    role,
                    admin_scope: scope,
                    district_code: district,
                    nickname: String::new(),
                },
            )
            .await?;
            println!("created {} {}", user.role.as_str(), user.id);
            Ok(())
        }
    }
}

/// `wufei-api search reindex [listings|articles|all]`: rebuilds the indexes named, each
/// with a progress line.
async fn reindex(settings: Settings, index: &str) -> anyhow::Result<()> {
    use wufei_domain::{disclosure::articles::search::Articles, marketplace::search::Listings};

    let platform = wufei_domain::Platform::build(settings).await?;
    let (listings, articles) = match index {
        "all" => (true, true),
        "listings" => (true, false),
        "articles" => (false, true),
        other => anyhow::bail!("unknown index {other:?}: use listings, articles or all"),
    };
    if listings {
        reindex_one::<Listings>(&platform).await?;
    }
    if articles {
        reindex_one::<Articles>(&platform).await?;
    }
    Ok(())
}

/// Rebuilds the index of `P`, drawing a progress bar on standard error.
async fn reindex_one<P: wufei_domain::indexing::Projection>(
    platform: &wufei_domain::Platform,
) -> anyhow::Result<()> {
    use std::io::Write;

    let name = P::SPEC.name;
    let total = P::count(&platform.db).await?;
    let started = std::time::Instant::now();
    let progress = move |done: u64| {
        let pct = (done.min(total) * 100).checked_div(total).unwrap_or(100);
        let filled = usize::try_from(pct / 5).unwrap_or(20);
        eprint!(
            "\r[{}{}] {done}/{total} {name} ({pct}%)",
            "#".repeat(filled),
            " ".repeat(20 - filled.min(20))
        );
        let _ = std::io::stderr().flush();
    };
    let written =
        wufei_domain::indexing::reindex::<P>(&platform.db, platform.search.as_ref(), &progress)
            .await?;
    eprintln!();
    println!(
        "reindexed {written} {name} on {} in {:.1} s",
        platform.search.backend(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
