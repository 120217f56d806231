//! Writing articles and their review: create, edit, and the steps from draft to
//! publication and withdrawal, with the four eyes.

use super::*;

/// The summary when none is given: the body's first 120 characters.
fn default_summary(text: &str) -> String {
    text.chars().take(120).collect()
}

/// Checks the cover (a public image `who` uploaded, unless it is the one already there).
async fn check_cover(
    db: &impl ConnectionTrait,
    who: &Principal,
    cover: Option<Uuid>,
    current: Option<Uuid>,
) -> Result<()> {
    match cover {
        Some(id) if Some(id) != current => {
            if !uploads::is_own(db, id, who.user_id, Purpose::ListingPhoto).await? {
                return Err(Error::field(
                    "cover_id",
                    "invalid",
                    "must be your own upload with purpose listing_photo",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Attaches `ids` to article `article_id` in that order, detaching the ones it held before
/// and no longer lists. Each must be an attachment `who` uploaded that no other article
/// holds, or one this article already holds.
async fn set_attachments(
    db: &impl ConnectionTrait,
    who: &Principal,
    article_id: Uuid,
    ids: &[Uuid],
) -> Result<()> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(Error::field(
            "attachment_ids",
            "too_long",
            format!("at most {MAX_ATTACHMENTS}"),
        ));
    }
    let rows: BTreeMap<Uuid, attachment::Model> = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let usable = rows.get(id).is_some_and(|f| match f.article_id {
            Some(a) => a == article_id,
            None => f.owner_id == who.user_id,
        });
        if !usable || !seen.insert(*id) {
            return Err(Error::field(
                &format!("attachment_ids[{i}]"),
                "invalid",
                "must be a PDF you uploaded that no other article holds, listed once",
            ));
        }
    }
    attachment::Entity::update_many()
        .col_expr(attachment::Column::ArticleId, Expr::value(None::<Uuid>))
        .filter(attachment::Column::ArticleId.eq(article_id))
        .filter(attachment::Column::Id.is_not_in(ids.iter().copied()))
        .exec(db)
        .await?;
    for (position, id) in ids.iter().enumerate() {
        // Conditional: another article's transaction may have taken it since the check.
        let taken = attachment::Entity::update_many()
            .col_expr(attachment::Column::ArticleId, Expr::value(article_id))
            .col_expr(
                attachment::Column::Position,
                Expr::value(i32::try_from(position).unwrap_or(0)),
            )
            .filter(attachment::Column::Id.eq(*id))
            .filter(
                attachment::Column::ArticleId
                    .is_null()
                    .or(attachment::Column::ArticleId.eq(article_id)),
            )
            .exec(db)
            .await?
            .rows_affected;
        if taken == 0 {
            return Err(Error::conflict(
                "attachment_taken",
                "another article took this attachment meanwhile",
            ));
        }
    }
    Ok(())
}

/// Writes an article (draft). Administrators; a district administrator writes for their
/// district only, city-wide articles are the city-wide administrators'. Audited.
#[tracing::instrument(skip_all, fields(actor = %who.user_id))]
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewArticle,
) -> Result<ArticleView> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let title = check.text("title", &new.title, 2, 200);
    let summary = check.text("summary", &new.summary, 0, 500);
    check.ensure(
        !new.body.trim().is_empty() && new.body.chars().count() <= MAX_BODY_CHARS,
        "body",
        "invalid",
        format!("between 1 and {MAX_BODY_CHARS} characters"),
    );
    check.finish()?;
    match &new.district_code {
        Some(d) if !who.may_administer_district(d) => {
            return Err(Error::forbidden("you cannot publish for another district"));
        }
        None if !who.is_super_admin() => {
            return Err(Error::forbidden(
                "city-wide articles are the city-wide administrators'; give your district_code",
            ));
        }
        _ => {}
    }
    let txn = db.begin().await?;
    if let Some(d) = &new.district_code {
        known_district(&txn, "district_code", d).await?;
    }
    check_cover(&txn, who, new.cover_id, None).await?;
    let body = body::render(&new.body);
    let now = Utc::now();
    let row = article::ActiveModel {
        id: Set(Uuid::now_v7()),
        category: Set(new.category),
        title: Set(title),
        summary: Set(if summary.is_empty() {
            default_summary(&body.text)
        } else {
            summary
        }),
        body_source: Set(new.body),
        body_html: Set(body.html),
        district_code: Set(new.district_code),
        cover_id: Set(new.cover_id),
        status: Set(Status::Draft),
        author_id: Set(who.user_id),
        last_editor_id: Set(who.user_id),
        reviewer_id: Set(None),
        review_note: Set(None),
        withdraw_reason: Set(None),
        published_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    set_attachments(&txn, who, row.id, &new.attachment_ids).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "article.create",
        "article",
        &row.id.to_string(),
        serde_json::json!({ "title": row.title, "category": row.category.as_str() }),
    )
    .await?;
    search::stage(&txn, row.id).await?;
    let files = files_of(&txn, row.id).await?;
    txn.commit().await?;
    Ok(view(row, files, true))
}

/// Changes a draft, an article pending review or a withdrawn one (which becomes a draft
/// again); a published one must be withdrawn first (409). The caller becomes its last
/// editor, so cannot publish it. Audited.
#[tracing::instrument(skip_all, fields(actor = %who.user_id, article_id = %id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: ArticlePatch,
) -> Result<ArticleView> {
    let mut check = Check::new();
    let title = patch
        .title
        .as_deref()
        .map(|t| check.text("title", t, 2, 200));
    let summary = patch
        .summary
        .as_deref()
        .map(|s| check.text("summary", s, 0, 500));
    if let Some(b) = &patch.body {
        check.ensure(
            !b.trim().is_empty() && b.chars().count() <= MAX_BODY_CHARS,
            "body",
            "invalid",
            format!("between 1 and {MAX_BODY_CHARS} characters"),
        );
    }
    check.finish()?;
    let txn = db.begin().await?;
    let a = administered(&txn, who, id).await?;
    if a.status == Status::Published {
        return Err(Error::conflict(
            "withdraw_first",
            "a published article is changed by withdrawing it, editing it and publishing it again",
        ));
    }
    if let Some(cover) = patch.cover_id {
        check_cover(&txn, who, cover, a.cover_id).await?;
    }
    let mut row: article::ActiveModel = a.clone().into();
    let mut changes = audit::Changes::default();
    if let Some(t) = changes.track("title", &a.title, title) {
        row.title = Set(t);
    }
    if let Some(c) = changes.track("category", &a.category, patch.category) {
        row.category = Set(c);
    }
    if let Some(s) = changes.track("summary", &a.summary, summary) {
        row.summary = Set(s);
    }
    if let Some(source) = patch.body.filter(|b| *b != a.body_source) {
        changes.track(
            "body_chars",
            &a.body_source.chars().count(),
            Some(source.chars().count()),
        );
        row.body_html = Set(body::render(&source).html);
        row.body_source = Set(source);
    }
    if let Some(cover) = changes.track("cover_id", &a.cover_id, patch.cover_id) {
        row.cover_id = Set(cover);
    }
    if let Some(ids) = patch.attachment_ids {
        let current: Vec<Uuid> = files_of(&txn, id).await?.iter().map(|f| f.id).collect();
        set_attachments(&txn, who, id, &ids).await?;
        changes.track("attachment_ids", &current, Some(ids));
    }
    if a.status == Status::Withdrawn {
        row.status = Set(Status::Draft);
    }
    row.last_editor_id = Set(who.user_id);
    row.version = Set(a.version + 1);
    row.updated_at = Set(Utc::now());
    // Optimistic: a concurrent change to the same version loses with a 409.
    let written = article::Entity::update_many()
        .set(row)
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Version.eq(a.version))
        .exec(&txn)
        .await?
        .rows_affected;
    if written == 0 {
        return Err(Error::conflict(
            "edit_conflict",
            "the article changed meanwhile; read it again",
        ));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        "article.update",
        "article",
        &id.to_string(),
        changes.into_detail(),
    )
    .await?;
    search::stage(&txn, id).await?;
    let fresh = administered(&txn, who, id).await?;
    let files = files_of(&txn, id).await?;
    txn.commit().await?;
    Ok(view(fresh, files, true))
}

/// A step in an article's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `draft → pending_review`.
    Submit,
    /// `pending_review → published`, by an administrator who is neither its author nor its
    /// last editor.
    Publish,
    /// `pending_review → draft`, with a note.
    SendBack,
    /// `published → withdrawn`, with a reason or without.
    Withdraw,
}

/// Takes article `id` one step (409 from the wrong state, 403 when the reviewer wrote or
/// last edited it). Audited; the author hears of a publication or a return, the district's
/// administrators of a submission.
#[tracing::instrument(skip(db, who, note), fields(actor = %who.user_id))]
pub async fn step(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    step: Step,
    note: Option<&str>,
) -> Result<ArticleView> {
    let note = match step {
        Step::Submit | Step::Publish => None,
        Step::SendBack => {
            let mut check = Check::new();
            let n = check.text("note", note.unwrap_or_default(), 1, 500);
            check.finish()?;
            Some(n)
        }
        Step::Withdraw => {
            let mut check = Check::new();
            let n = check.text("reason", note.unwrap_or_default(), 0, 500);
            check.finish()?;
            (!n.is_empty()).then_some(n)
        }
    };
    let txn = db.begin().await?;
    let a = administered(&txn, who, id).await?;
    if step == Step::Publish && (a.author_id == who.user_id || a.last_editor_id == who.user_id) {
        return Err(Error::forbidden(
            "an article is published by another administrator than the one who wrote or last edited it",
        ));
    }
    let now = Utc::now();
    let (from, to, action) = match step {
        Step::Submit => (Status::Draft, Status::PendingReview, "article.submit"),
        Step::Publish => (Status::PendingReview, Status::Published, "article.publish"),
        Step::SendBack => (Status::PendingReview, Status::Draft, "article.send_back"),
        Step::Withdraw => (Status::Published, Status::Withdrawn, "article.withdraw"),
    };
    let mut q = article::Entity::update_many()
        .col_expr(article::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            article::Column::Version,
            Expr::col(article::Column::Version).add(1),
        )
        .col_expr(article::Column::UpdatedAt, Expr::value(now))
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Status.eq(from));
    q = match step {
        Step::Submit => q.col_expr(article::Column::ReviewNote, Expr::value(None::<String>)),
        Step::Publish => q
            .col_expr(article::Column::ReviewerId, Expr::value(who.user_id))
            .col_expr(article::Column::PublishedAt, Expr::value(now))
            .col_expr(article::Column::WithdrawReason, Expr::value(None::<String>))
            // The editors are checked again in the statement: an edit that landed since
            // the read above makes this one refuse.
            .filter(article::Column::AuthorId.ne(who.user_id))
            .filter(article::Column::LastEditorId.ne(who.user_id)),
        Step::SendBack => q
            .col_expr(article::Column::ReviewerId, Expr::value(who.user_id))
            .col_expr(article::Column::ReviewNote, Expr::value(note.clone())),
        Step::Withdraw => q.col_expr(article::Column::WithdrawReason, Expr::value(note.clone())),
    };
    if q.exec(&txn).await?.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            format!(
                "the article cannot become {} from {}",
                to.as_str(),
                a.status.as_str()
            ),
        ));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        action,
        "article",
        &id.to_string(),
        serde_json::json!({ "note": note }),
    )
    .await?;
    let tell: Vec<Uuid> = match step {
        Step::Submit => users::administrators_of(&txn, a.district_code.as_deref())
            .await?
            .into_iter()
            .filter(|u| *u != who.user_id)
            .collect(),
        Step::Publish | Step::SendBack => vec![a.author_id],
        Step::Withdraw => vec![],
    };
    let (title, body) = match step {
        Step::Submit => ("文章待审核", format!("《{}》已提交审核。", a.title)),
        Step::Publish => ("文章已发布", format!("《{}》已发布。", a.title)),
        _ => (
            "文章已退回",
            format!(
                "《{}》已退回：{}",
                a.title,
                note.clone().unwrap_or_default()
            ),
        ),
    };
    for user_id in tell {
        notifications::notify(
            &txn,
            NewNotification {
                user_id,
                kind: "article".into(),
                title: title.into(),
                body: body.clone(),
                data: serde_json::json!({ "article_id": id }),
            },
        )
        .await?;
    }
    search::stage(&txn, id).await?;
    let fresh = administered(&txn, who, id).await?;
    let files = files_of(&txn, id).await?;
    txn.commit().await?;
    Ok(view(fresh, files, true))
}
