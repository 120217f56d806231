//! Administering accounts (`/v1/admin/users`): search, view, suspend and reinstate, end
//! every session, reset a staff password, change a staff role or district.
//!
//! Who may act on whom: city-wide administrators on any account but their own; district
//! administrators on the accounts of their district that are not administrators (others
//! are 404 to them, as if they did not exist). Nobody suspends, re-roles or resets
//! themselves. Every action is audit-logged, with no password in it. A suspension, a role
//! change, a password reset and "end every session" stop the account's access tokens at
//! once on every instance ([`super::revocations`]) and its refresh tokens.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AdminScope, Principal, Role, passwords, revocations, users::normalize_phone};
use crate::{
    audit,
    catalog::areas::known_district,
    entities::{refresh_token, user},
    error::{Error, Result},
    paging::{Page, PageRequest},
    ports::generations::Generations,
    validate::Check,
};

/// An account as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// Id.
    pub id: Uuid,
    /// Mobile number (password accounts).
    pub phone: Option<String>,
    /// Display name.
    pub nickname: String,
    /// Role.
    pub role: Role,
    /// Administrators: `super_admin` or `district`.
    pub admin_scope: Option<AdminScope>,
    /// The district of a scoped account.
    pub district_code: Option<String>,
    /// `active` or `disabled` (suspended).
    pub status: user::Status,
    /// Signs in with a password (staff) rather than WeChat.
    pub has_password: bool,
    /// Signs in with WeChat.
    pub has_wechat: bool,
    /// Access tokens issued before this are refused.
    pub tokens_valid_after: Option<chrono::DateTime<Utc>>,
    /// Created.
    pub created_at: chrono::DateTime<Utc>,
}

fn view(u: user::Model) -> AccountView {
    AccountView {
        id: u.id,
        phone: u.phone,
        nickname: u.nickname,
        role: u.role,
        admin_scope: u.admin_scope,
        district_code: u.district_code,
        status: u.status,
        has_password: u.password_hash.is_some(),
        has_wechat: u.wechat_openid.is_some(),
        tokens_valid_after: u.tokens_valid_after,
        created_at: u.created_at,
    }
}

/// Filters of the account search.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AccountQuery {
    /// A mobile number, whole (11 digits, `+86` allowed).
    #[param(max_length = 20)]
    pub phone: Option<String>,
    /// Only this role.
    pub role: Option<Role>,
    /// Only this district (city-wide administrators; district administrators see theirs).
    #[param(max_length = 12)]
    pub district_code: Option<String>,
    /// Only this status.
    pub status: Option<user::Status>,
}

/// Whether `who` may see and act on `target`.
fn manages(who: &Principal, target: &user::Model) -> bool {
    if who.is_super_admin() {
        return true;
    }
    who.is_admin()
        && target.role != Role::Admin
        && target.district_code.is_some()
        && target.district_code == who.district_code
}

/// Accounts `who` manages, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Principal,
    q: &AccountQuery,
    page: PageRequest,
) -> Result<Page<AccountView>> {
    who.require_role(&[Role::Admin])?;
    let mut s = user::Entity::find()
        .order_by_desc(user::Column::Id)
        .limit(page.limit + 1);
    if let Some(p) = &q.phone {
        s = s.filter(user::Column::Phone.eq(normalize_phone(p)?));
    }
    if let Some(r) = q.role {
        s = s.filter(user::Column::Role.eq(r));
    }
    if let Some(st) = q.status {
        s = s.filter(user::Column::Status.eq(st));
    }
    if let Some(d) = &q.district_code {
        s = s.filter(user::Column::DistrictCode.eq(d.as_str()));
    }
    if !who.is_super_admin() {
        s = s
            .filter(user::Column::DistrictCode.eq(who.district_code.clone()))
            .filter(user::Column::Role.ne(Role::Admin));
    }
    if let Some(before) = page.before {
        s = s.filter(user::Column::Id.lt(before));
    }
    Ok(Page::of(s.all(db).await?, page.limit, |u| u.id, view))
}

async fn managed(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<user::Model> {
    who.require_role(&[Role::Admin])?;
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| manages(who, u))
        .ok_or(Error::NotFound { what: "user" })
}

/// One account `who` manages (404 otherwise).
pub async fn get(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<AccountView> {
    Ok(view(managed(db, who, id).await?))
}

/// A staff account's new role, scope or district; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `admin`, `station_manager`, `recycler` or `merchant`.
    pub role: Option<Role>,
    /// With `admin`: `super_admin` or `district`.
    pub admin_scope: Option<AdminScope>,
    /// The district (district administrators and station managers work in one).
    #[schema(max_length = 12)]
    pub district_code: Option<String>,
}

/// What an administrator does to an account.
#[derive(Debug, Clone)]
pub enum Action {
    /// Suspends it, with a reason: sign-in, refresh and every token stop at once.
    Suspend {
        /// Why (the audit log keeps it).
        reason: String,
    },
    /// Lifts a suspension (tokens ended by it stay ended).
    Reinstate,
    /// Ends every session: refresh tokens and access tokens.
    EndSessions,
    /// Sets a staff account's password (a generated one when none is given) and ends its
    /// sessions.
    ResetPassword {
        /// The new password.
        password: Option<String>,
    },
    /// Changes a staff account's role or district and ends its sessions (the new role
    /// arrives with the next sign-in).
    ChangeRole(RoleChange),
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Suspend { .. } => "user.suspend",
            Action::Reinstate => "user.reinstate",
            Action::EndSessions => "user.end_sessions",
            Action::ResetPassword { .. } => "user.reset_password",
            Action::ChangeRole(_) => "user.change_role",
        }
    }
}

/// Checks a role change `who` asks for `target`; returns the new (role, scope, district).
async fn check_role_change(
    db: &impl ConnectionTrait,
    who: &Principal,
    target: &user::Model,
    change: RoleChange,
) -> Result<(Role, Option<AdminScope>, Option<String>)> {
    let role = change.role.unwrap_or(target.role);
    if target.password_hash.is_none() || role == Role::Resident {
        return Err(Error::field(
            "role",
            "invalid",
            "roles are changed between staff accounts (password sign-in); residents become staff by applying",
        ));
    }
    let scope = match role {
        Role::Admin => Some(change.admin_scope.or(target.admin_scope).ok_or_else(|| {
            Error::field("admin_scope", "required", "an administrator needs a scope")
        })?),
        _ => None,
    };
    let district = change
        .district_code
        .or_else(|| target.district_code.clone());
    let needs_district =
        matches!(scope, Some(AdminScope::District)) || role == Role::StationManager;
    let district = match district {
        None if needs_district => {
            return Err(Error::field(
                "district_code",
                "required",
                "this role works in one district",
            ));
        }
        Some(d) if !matches!(scope, Some(AdminScope::SuperAdmin)) => {
            known_district(db, "district_code", &d).await?;
            Some(d)
        }
        _ => None,
    };
    if !who.is_super_admin() && (role == Role::Admin || district != who.district_code) {
        return Err(Error::forbidden(
            "district administrators keep staff in their district and appoint no administrators",
        ));
    }
    Ok((role, scope, district))
}

/// What an action left.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Acted {
    /// The account now.
    pub account: AccountView,
    /// A generated password, shown this once (a reset without a password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

/// A password to hand over in person: 12 letters and digits without look-alikes.
fn generated_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Does `action` to account `id`. Audited; the revocation is announced to every instance
/// after the commit.
#[tracing::instrument(skip(db, generations, who, action), fields(actor = %who.user_id, action = action.name()))]
pub async fn act(
    db: &impl TransactionTrait,
    generations: &dyn Generations,
    who: &Principal,
    id: Uuid,
    action: Action,
) -> Result<Acted> {
    let name = action.name();
    if id == who.user_id && !matches!(action, Action::EndSessions) {
        return Err(Error::forbidden(
            "administrators do not act on their own account",
        ));
    }
    let txn = db.begin().await?;
    let target = managed(&txn, who, id).await?;
    let now = Utc::now();
    let mut row: user::ActiveModel = target.clone().into();
    let mut detail = serde_json::json!({});
    let mut temporary_password = None;
    let ends_sessions = match action {
        Action::Suspend { reason } => {
            let mut check = Check::new();
            let reason = check.text("reason", &reason, 1, 500);
            check.finish()?;
            if target.status == user::Status::Disabled {
                return Err(Error::conflict(
                    "already_suspended",
                    "the account is suspended",
                ));
            }
            row.status = Set(user::Status::Disabled);
            detail = serde_json::json!({ "reason": reason });
            true
        }
        Action::Reinstate => {
            if target.status == user::Status::Active {
                return Err(Error::conflict("not_suspended", "the account is active"));
            }
            row.status = Set(user::Status::Active);
            false
        }
        Action::EndSessions => true,
        Action::ResetPassword { password } => {
            if target.password_hash.is_none() {
                return Err(Error::field(
                    "password",
                    "invalid",
                    "only staff accounts (password sign-in) have a password",
                ));
            }
            let password = match password {
                Some(p) => {
                    passwords::validate_new(&p)?;
                    p
                }
                None => {
                    let p = generated_password();
                    temporary_password = Some(p.clone());
                    p
                }
            };
            detail = serde_json::json!({ "generated": temporary_password.is_some() });
            row.password_hash = Set(Some(passwords::hash(password).await?));
            true
        }
        Action::ChangeRole(change) => {
            let (role, scope, district) = check_role_change(&txn, who, &target, change).await?;
            detail = serde_json::json!({
                "from": { "role": target.role.as_str(), "admin_scope": target.admin_scope, "district_code": target.district_code },
                "to": { "role": role.as_str(), "admin_scope": scope, "district_code": district },
            });
            row.role = Set(role);
            row.admin_scope = Set(scope);
            row.district_code = Set(district);
            true
        }
    };
    row.updated_at = Set(now);
    if ends_sessions {
        row.tokens_valid_after = Set(Some(now));
    }
    let fresh = row.update(&txn).await?;
    if ends_sessions {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::UserId.eq(id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        Some(who.user_id),
        name,
        "user",
        &id.to_string(),
        detail,
    )
    .await?;
    txn.commit().await?;
    if ends_sessions {
        revocations::announce(generations).await;
    }
    Ok(Acted {
        account: view(fresh),
        temporary_password,
    })
}
