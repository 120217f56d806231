//! The pages' static assets, embedded in the binary and served under a name that carries
//! a hash of their content (`/assets/pages.3f9c….css`): a new build changes the name, so
//! the answer may be cached for a year (`immutable`) and no page ever gets a stale style.

use std::sync::LazyLock;

use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use super::render::{Ctx, Fault, fail};

/// One embedded asset.
pub struct Asset {
    /// The name it is served under, with the hash.
    pub name: String,
    /// The media type.
    pub content_type: &'static str,
    /// The content.
    pub body: &'static [u8],
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let hash = hex::encode(&Sha256::digest(body)[..6]);
        Self {
            name: format!("{stem}.{hash}.{ext}"),
            content_type,
            body,
        }
    }

    /// The path a page links to.
    pub fn path(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// The style sheet.
pub static CSS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "pages",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/pages.css"),
    )
});

/// The icon.
pub static ICON: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "icon",
        "svg",
        "image/svg+xml",
        include_bytes!("../../../assets/icon.svg"),
    )
});

/// `GET /assets/{name}`: an asset by its hashed name, cached for a year; any other name is
/// the 404 page.
pub async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(asset) = [&*CSS, &*ICON].into_iter().find(|a| a.name == *name) else {
        return fail(&Ctx::new(&req), Fault::NotFound);
    };
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header(("cache-control", "public, max-age=31536000, immutable"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(asset.body)
}
