//! Article attachments: PDF files an administrator uploads, then lists in an article's
//! `attachment_ids`.
//!
//! A PDF cannot be re-encoded the way photos are, so it is checked instead: it must start
//! as a PDF (`%PDF-1.x` or `%PDF-2.x`) and end as one (`%%EOF` in its last kilobyte), fit
//! the upload limit, and carry no active content (JavaScript, launch actions, embedded
//! files). It is served as a download (`Content-Disposition: attachment`) with its type and
//! `nosniff`, to anyone once its article is published, and before that only to the
//! administrators of the article's district (or, while unattached, to its uploader and the
//! city-wide administrators).

use bytes::Bytes;
use chrono::{Datelike, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionSession, TransactionTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, Role},
    entities::{article, article_attachment as attachment},
    error::{Error, Result},
    ports::blob::BlobStore,
    uploads::sweep,
};

/// The media type of every attachment.
pub const PDF: &str = "application/pdf";

/// An attachment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Id.
    pub id: Uuid,
    /// The file name offered on download.
    pub filename: String,
    /// `application/pdf`.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Where to download it.
    pub url: String,
}

impl AttachmentView {
    /// The view of `f`.
    pub fn of(f: attachment::Model) -> Self {
        Self {
            url: format!("/v1/attachments/{}", f.id),
            id: f.id,
            filename: f.filename,
            content_type: f.content_type,
            size_bytes: f.size_bytes,
        }
    }
}

/// Why bytes are not an attachment Wufei takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No bytes.
    Empty,
    /// Not a PDF (by its bytes, whatever it claims).
    NotPdf,
    /// A PDF with JavaScript, a launch action or embedded files.
    ActiveContent,
}

/// Whether `bytes` are a PDF Wufei serves.
pub fn check_pdf(bytes: &[u8]) -> std::result::Result<(), Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let header = bytes.starts_with(b"%PDF-1.") || bytes.starts_with(b"%PDF-2.");
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !header || !contains(tail, b"%%EOF") {
        return Err(Refusal::NotPdf);
    }
    for name in [
        &b"/JavaScript"[..],
        b"/JS",
        b"/Launch",
        b"/EmbeddedFile",
        b"/RichMedia",
    ] {
        if contains_name(bytes, name) {
            return Err(Refusal::ActiveContent);
        }
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether the PDF name `name` occurs as a whole name (not as the start of a longer one).
fn contains_name(bytes: &[u8], name: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = bytes[from..]
        .windows(name.len())
        .position(|w| w == name)
        .map(|p| p + from)
    {
        let next = bytes.get(at + name.len());
        if next.is_none_or(|c| !c.is_ascii_alphanumeric()) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// `raw` as a file name safe in a header and on any disk: no path, no control characters
/// or quotes, at most 100 characters, ending in `.pdf`.
pub fn clean_filename(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let mut name: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | ';' | '<' | '>' | '`'))
        .take(100)
        .collect();
    name = name.trim().trim_start_matches('.').to_string();
    if name.is_empty() {
        name = "附件".into();
    }
    if !name.to_ascii_lowercase().ends_with(".pdf") {
        name.push_str(".pdf");
    }
    name
}

/// Stores a PDF for an article to list later. Administrators; `max_bytes` is the upload
/// limit. Audited.
#[tracing::instrument(skip(db, blobs, bytes, who), fields(actor = %who.user_id, size = bytes.len()))]
pub async fn store(
    db: &(impl sea_orm::ConnectionTrait + TransactionTrait),
    blobs: &dyn BlobStore,
    who: &Principal,
    filename: Option<&str>,
    bytes: Bytes,
    max_bytes: usize,
) -> Result<AttachmentView> {
    who.require_role(&[Role::Admin])?;
    if bytes.len() > max_bytes {
        return Err(Error::field(
            "file",
            "too_large",
            format!("at most {max_bytes} bytes"),
        ));
    }
    match check_pdf(&bytes) {
        Ok(()) => {}
        Err(Refusal::Empty) => return Err(Error::field("file", "empty", "the file is empty")),
        Err(Refusal::NotPdf) => {
            return Err(Error::field(
                "file",
                "not_pdf",
                "only PDF files are accepted",
            ));
        }
        Err(Refusal::ActiveContent) => {
            return Err(Error::field(
                "file",
                "active_content",
                "PDFs with JavaScript, launch actions or embedded files are not accepted",
            ));
        }
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    let key = format!("attachments/{:04}/{:02}/{id}.pdf", now.year(), now.month());
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    // An intent first: if this process dies before the row commits, the sweep removes the
    // blob (see `crate::uploads::sweep`).
    sweep::intend(db, &[&key]).await?;
    blobs.put(&key, bytes, PDF).await?;
    let txn = db.begin().await?;
    let row = attachment::ActiveModel {
        id: Set(id),
        article_id: Set(None),
        position: Set(0),
        owner_id: Set(who.user_id),
        filename: Set(clean_filename(filename)),
        content_type: Set(PDF.into()),
        size_bytes: Set(size),
        sha256: Set(sha256),
        blob_key: Set(key.clone()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await;
    let row = match row {
        Ok(r) => r,
        Err(e) => {
            if let Err(gone) = blobs.delete(&key).await {
                tracing::warn!(key, error = %gone, "attachment blob left for the sweep");
            }
            return Err(e.into());
        }
    };
    sweep::settle(&txn, &[&key]).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "article_attachment.upload",
        "article_attachment",
        &id.to_string(),
        serde_json::json!({ "filename": row.filename, "size_bytes": row.size_bytes }),
    )
    .await?;
    txn.commit().await?;
    Ok(AttachmentView::of(row))
}

/// An attachment's bytes and the name to offer, if `viewer` may read it (404 otherwise,
/// whether or not it exists).
pub async fn open(
    db: &impl sea_orm::ConnectionTrait,
    blobs: &dyn BlobStore,
    viewer: Option<&Principal>,
    id: Uuid,
) -> Result<(AttachmentView, Bytes)> {
    let not_found = || Error::NotFound { what: "attachment" };
    let f = attachment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let parent = match f.article_id {
        Some(a) => article::Entity::find_by_id(a).one(db).await?,
        None => None,
    };
    let allowed = match &parent {
        Some(a) if a.status == article::Status::Published => true,
        Some(a) => viewer.is_some_and(|v| {
            v.is_admin()
                && match &a.district_code {
                    Some(d) => v.may_administer_district(d),
                    None => v.is_super_admin(),
                }
        }),
        None => viewer.is_some_and(|v| v.user_id == f.owner_id || v.is_super_admin()),
    };
    if !allowed {
        return Err(not_found());
    }
    let blob = blobs.get(&f.blob_key).await?.ok_or_else(|| {
        tracing::error!(key = %f.blob_key, "attachment row points at a missing blob");
        not_found()
    })?;
    Ok((AttachmentView::of(f), blob.bytes))
}

#[cfg(test)]
mod tests {
    use super::{Refusal, check_pdf, clean_filename};

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";

    #[test]
    fn a_pdf_is_taken() {
        assert_eq!(check_pdf(PDF), Ok(()));
    }

    #[test]
    fn other_files_are_not_pdfs_whatever_they_claim() {
        assert_eq!(check_pdf(b""), Err(Refusal::Empty));
        for bytes in [
            &b"<html><script>alert(1)</script>"[..],
            b"\x89PNG\r\n\x1a\n",
            b"%PDF-1.7 but never ends",
            b"MZ\x90\x00%PDF-1.7 %%EOF",
        ] {
            assert_eq!(check_pdf(bytes), Err(Refusal::NotPdf), "{bytes:?}");
        }
    }

    #[test]
    fn active_content_is_refused() {
        for active in [
            &b"%PDF-1.7\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF"[..],
            b"%PDF-1.7\n<< /S /Launch /F (cmd.exe) >>\n%%EOF",
            b"%PDF-1.7\n<< /Type /EmbeddedFile >>\n%%EOF",
            b"%PDF-1.7\n<< /JS(app.alert(1)) >>\n%%EOF",
        ] {
            assert_eq!(check_pdf(active), Err(Refusal::ActiveContent));
        }
        // A longer name that merely starts like one is not active content.
        assert_eq!(check_pdf(b"%PDF-1.7\n<< /JSONish 1 >>\n%%EOF"), Ok(()));
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(clean_filename(Some("..\\..\\实施方案.pdf")), "实施方案.pdf");
        assert_eq!(clean_filename(Some("/etc/passwd")), "passwd.pdf");
        assert_eq!(clean_filename(Some("a\"b;\r\nc.PDF")), "abc.PDF");
        assert_eq!(clean_filename(None), "附件.pdf");
        assert_eq!(clean_filename(Some(".hidden")), "hidden.pdf");
    }
}
