//! User accounts: lookup, creation (WeChat residents, staff with passwords) and profiles.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::ExprTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    passwords,
    principal::{AdminScope, Principal, Role},
    wechat::WechatIdentity,
};
use crate::{
    entities::{district, user},
    error::{Error, FieldError, Result},
};

/// Normalises a mainland mobile number: 11 digits starting with 1, `+86`/`86` and spaces or
/// dashes allowed around it.
pub fn normalize_phone(raw: &str) -> Result<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
        .unwrap_or(&digits);
    if digits.len() == 11 && digits.starts_with('1') && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits.to_string())
    } else {
        Err(Error::field(
            "phone",
            "invalid",
            "must be an 11-digit mainland mobile number",
        ))
    }
}

/// The principal a stored user acts as.
pub fn principal_of(user: &user::Model) -> Result<Principal> {
    Ok(Principal {
        user_id: user.id,
        role: user.role,
        admin_scope: user.admin_scope,
        district_code: user.district_code.clone(),
    })
}

/// The user with this phone.
pub async fn find_by_phone(db: &impl ConnectionTrait, phone: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Phone.eq(phone))
        .one(db)
        .await?)
}

/// The resident with this openid, created on first login. Two concurrent first logins of
/// one person create one account (the openid is unique; the loser re-reads).
pub async fn find_or_create_wechat(
    db: &impl ConnectionTrait,
    identity: &WechatIdentity,
) -> Result<user::Model> {
    let existing = || async {
        user::Entity::find()
            .filter(user::Column::WechatOpenid.eq(identity.openid.as_str()))
            .one(db)
            .await
    };
    if let Some(u) = existing().await? {
        return Ok(u);
    }
    let now = Utc::now();
    let created = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        role: Set(Role::Resident),
        admin_scope: Set(None),
        district_code: Set(None),
        phone: Set(None),
        password_hash: Set(None),
        wechat_openid: Set(Some(identity.openid.clone())),
        wechat_unionid: Set(identity.unionid.clone()),
        nickname: Set(String::new()),
        avatar_url: Set(None),
        status: Set(user::Status::Active),
        created_at: Set(now),
        updated_at: Set(now),
        tokens_valid_after: Set(None),
    }
    .insert(db)
    .await;
    match created {
        Ok(u) => Ok(u),
        Err(e) if crate::db::is_unique_violation(&e) => existing()
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("openid vanished after conflict"))),
        Err(e) => Err(e.into()),
    }
}

/// A staff account to create (administrators, station managers, recyclers, merchants).
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// Mobile number (login name).
    pub phone: String,
    /// Password in clear; hashed before storing.
    pub password: String,
    /// Role.
    pub role: Role,
    /// Administrators: scope.
    pub admin_scope: Option<AdminScope>,
    /// District for scoped accounts.
    pub district_code: Option<String>,
    /// Display name.
    pub nickname: String,
}

/// Creates a password account. A duplicate phone is a 409 `phone_taken`; a district admin
/// or station manager must name an existing district.
pub async fn create_staff(db: &impl ConnectionTrait, new: NewStaff) -> Result<user::Model> {
    let phone = normalize_phone(&new.phone)?;
    passwords::validate_new(&new.password)?;
    let needs_district = matches!(
        (new.role, new.admin_scope),
        (Role::Admin, Some(AdminScope::District)) | (Role::StationManager, _)
    );
    if needs_district && new.district_code.is_none() {
        return Err(Error::field(
            "district",
            "required",
            "a district administrator or station manager needs a district",
        ));
    }
    if let Some(code) = &new.district_code
        && district::Entity::find_by_id(code.clone())
            .one(db)
            .await?
            .is_none()
    {
        return Err(Error::field(
            "district",
            "unknown",
            format!("no district {code}"),
        ));
    }
    let admin_scope = match new.role {
        Role::Admin => Some(new.admin_scope.unwrap_or(AdminScope::SuperAdmin)),
        _ => None,
    };
    let hash = passwords::hash(new.password).await?;
    let now = Utc::now();
    let inserted = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        role: Set(new.role),
        admin_scope: Set(admin_scope),
        district_code: Set(new.district_code),
        phone: Set(Some(phone)),
        password_hash: Set(Some(hash)),
        wechat_openid: Set(None),
        wechat_unionid: Set(None),
        nickname: Set(new.nickname),
        avatar_url: Set(None),
        status: Set(user::Status::Active),
        created_at: Set(now),
        updated_at: Set(now),
        tokens_valid_after: Set(None),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(u) => Ok(u),
        Err(e) if crate::db::is_unique_violation(&e) => Err(Error::conflict(
            "phone_taken",
            "an account with this phone already exists",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A user's own profile, as `GET /v1/me` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// User id.
    pub id: Uuid,
    /// Role.
    pub role: Role,
    /// Administrators: scope.
    pub admin_scope: Option<AdminScope>,
    /// District of a scoped account.
    pub district_code: Option<String>,
    /// Display name.
    pub nickname: String,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Mobile number, masked (`138****5678`).
    pub phone: Option<String>,
    /// Whether the account logs in with WeChat.
    pub wechat_linked: bool,
    /// When the account was created.
    pub created_at: chrono::DateTime<Utc>,
}

/// What `PATCH /v1/me` may change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Display name, 1–32 characters.
    pub nickname: Option<String>,
    /// Avatar URL (https), or null to remove.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
}

fn mask(phone: &str) -> String {
    if phone.len() == 11 {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "****".into()
    }
}

fn profile_of(u: &user::Model) -> Result<Profile> {
    let p = principal_of(u)?;
    Ok(Profile {
        id: u.id,
        role: p.role,
        admin_scope: p.admin_scope,
        district_code: u.district_code.clone(),
        nickname: u.nickname.clone(),
        avatar_url: u.avatar_url.clone(),
        phone: u.phone.as_deref().map(mask),
        wechat_linked: u.wechat_openid.is_some(),
        created_at: u.created_at,
    })
}

/// The caller's profile.
pub async fn profile(db: &impl ConnectionTrait, who: &Principal) -> Result<Profile> {
    let u = user::Entity::find_by_id(who.user_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "user" })?;
    profile_of(&u)
}

/// Changes the caller's profile.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    who: &Principal,
    patch: ProfilePatch,
) -> Result<Profile> {
    let mut errors = Vec::new();
    if let Some(n) = &patch.nickname {
        let len = n.trim().chars().count();
        if len == 0 || len > 32 {
            errors.push(FieldError::new(
                "nickname",
                "invalid_length",
                "must be 1 to 32 characters",
            ));
        }
    }
    if let Some(Some(url)) = &patch.avatar_url
        && (!url.starts_with("https://") || url.len() > 512)
    {
        errors.push(FieldError::new(
            "avatar_url",
            "invalid",
            "must be an https URL of at most 512 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Validation {
            message: "the profile change is not valid".into(),
            fields: errors,
        });
    }
    let u = user::Entity::find_by_id(who.user_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "user" })?;
    let mut active: user::ActiveModel = u.into();
    if let Some(n) = patch.nickname {
        active.nickname = Set(n.trim().to_string());
    }
    if let Some(a) = patch.avatar_url {
        active.avatar_url = Set(a);
    }
    active.updated_at = Set(Utc::now());
    let u = active.update(db).await?;
    profile_of(&u)
}

/// The active administrators responsible for `district`: its district administrators and
/// the city-wide ones (`None`: the city-wide ones only). Reminders and reviews go to them.
pub async fn administrators_of(
    db: &impl ConnectionTrait,
    district: Option<&str>,
) -> Result<Vec<Uuid>> {
    let mut q = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Status.eq(user::Status::Active));
    q = match district {
        Some(d) => q.filter(
            user::Column::AdminScope
                .eq(AdminScope::SuperAdmin)
                .or(user::Column::DistrictCode.eq(d)),
        ),
        None => q.filter(user::Column::AdminScope.eq(AdminScope::SuperAdmin)),
    };
    Ok(q.all(db).await?.into_iter().map(|u| u.id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise() {
        assert_eq!(normalize_phone("+86 138-0000-1234").unwrap(), "13800001234");
        assert_eq!(normalize_phone("8613800001234").unwrap(), "13800001234");
        assert!(normalize_phone("12345").is_err());
        assert!(normalize_phone("2380000123a").is_err());
        assert_eq!(mask("13800001234"), "138****1234");
    }
}
