//! The `wufei-api` command line: serve (default), `migrate`, `admin create`, `openapi`.

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
    /// Print the OpenAPI document.
    Openapi,
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
