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
    /// Rebuild the listings index from the database beside the live one, then swap it in
    /// (search keeps answering meanwhile). On the embedded engine, run it while the server
    /// is stopped: only one process can open the index.
    Reindex,
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
            command: SearchCommand::Reindex,
        } => reindex(settings).await,
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

/// `wufei-api search reindex`: rebuilds the listings index with a progress line.
async fn reindex(settings: Settings) -> anyhow::Result<()> {
    use std::io::Write;

    let platform = wufei_domain::Platform::build(settings).await?;
    let total = wufei_domain::marketplace::search::count(&platform.db).await?;
    let started = std::time::Instant::now();
    let progress = move |done: u64| {
        let pct = (done.min(total) * 100).checked_div(total).unwrap_or(100);
        let filled = usize::try_from(pct / 5).unwrap_or(20);
        eprint!(
            "\r[{}{}] {done}/{total} listings ({pct}%)",
            "#".repeat(filled),
            " ".repeat(20 - filled.min(20))
        );
        let _ = std::io::stderr().flush();
    };
    let written = wufei_domain::marketplace::search::reindex(
        &platform.db,
        platform.search.as_ref(),
        &progress,
    )
    .await?;
    eprintln!();
    println!(
        "reindexed {written} listings on {} in {:.1} s",
        platform.search.backend(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
