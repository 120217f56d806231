//! `wufei-api`: see `cli` for the commands.

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    wufei_api::cli::run().await
}
