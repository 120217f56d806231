//! `GET /v1/attachments/{id}`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use uuid::Uuid;
use wufei_domain::{Platform, disclosure::articles::attachments};

use crate::{
    cache::revalidated,
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// A PDF attachment, as a download. Anyone may read those of published articles; before
/// publication only the article's administrators (404 for everyone else).
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "disclosure",
    params(("id" = Uuid, Path, description = "attachment id")),
    responses(
    (status = 200, content_type = "application/pdf", body = Vec<u8>, headers(("ETag" = String), ("Content-Disposition" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(attachment_id = %id))]
pub async fn attachment(
    req: HttpRequest,
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (file, bytes) = attachments::open(
        &platform.db,
        platform.blobs.as_ref(),
        auth.0.as_ref(),
        id.into_inner(),
    )
    .await?;
    let mut ok = HttpResponse::Ok();
    ok.content_type(attachments::PDF)
        .insert_header(header::ContentDisposition {
            disposition: header::DispositionType::Attachment,
            parameters: vec![header::DispositionParam::FilenameExt(
                header::ExtendedValue {
                    charset: header::Charset::Ext("UTF-8".into()),
                    language_tag: None,
                    value: file.filename.into_bytes(),
                },
            )],
        })
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("content-security-policy", "sandbox"));
    // Revalidated every time: a withdrawn article's attachment stops being public at once.
    Ok(revalidated(
        &req,
        &format!("\"{}\"", file.id),
        "no-cache",
        ok,
        bytes,
    ))
}
