//! `POST /v1/admin/articles/attachments` (multipart field `file`).

use actix_multipart::Multipart;
use actix_web::{HttpResponse, http::StatusCode, web};
use wufei_domain::{
    Platform,
    disclosure::articles::attachments::{self, AttachmentView, Refusal},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
    routes::uploads::read_file,
};

/// Uploads a PDF for an article to list in its `attachment_ids`. It must be a PDF by its
/// bytes (415 otherwise), within the upload limit (413), with no JavaScript, launch action
/// or embedded file (422). Administrators. Audited.
#[utoipa::path(post, path = "/v1/admin/articles/attachments", tag = "admin", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    request_body(content = crate::routes::uploads::create::UploadForm, content_type = "multipart/form-data"),
    responses(
    (status = 201, body = AttachmentView),
    (status = 400, description = "malformed form", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "not a PDF", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn upload_attachment(
    platform: web::Data<Platform>,
    auth: Auth,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    auth.0.require_role(&[wufei_domain::auth::Role::Admin])?;
    let limit = platform.settings.max_upload_bytes;
    let Some(file) = read_file(&mut form, limit).await? else {
        return Err(wufei_domain::Error::field(
            "file",
            "required",
            "send the PDF in the form field `file`",
        )
        .into());
    };
    if attachments::check_pdf(&file.bytes) == Err(Refusal::NotPdf) {
        return Err(ApiError::edge(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "only PDF files are accepted",
        ));
    }
    let view = attachments::store(
        &platform.db,
        platform.blobs.as_ref(),
        &auth.0,
        file.filename.as_deref(),
        file.bytes,
        limit,
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}
