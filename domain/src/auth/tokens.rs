//! Access tokens (short-lived HS256 JWTs, validated strictly) and refresh tokens (random,
//! stored only as a SHA-256 hash, rotated on every use; see `service`).

use std::path::Path;

use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::principal::{AdminScope, Principal, Role};
use crate::{
    config::{Secret, Settings},
    error::{Error, Result},
};

/// The only `typ` an access token may carry; a refresh token or a token minted for another
/// purpose (device QR, say) is never accepted as an access token.
const ACCESS_TYPE: &str = "access";
/// The `typ` of a resident's QR token for smart devices.
const QR_TYPE: &str = "qr";
/// Appended to the configured audience for QR tokens, so neither kind of token passes the
/// other's audience check.
const QR_AUDIENCE_SUFFIX: &str = ":qr";

/// The claims of a QR token: only what a device deposit needs, to keep the QR code small.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QrClaims {
    /// The resident's id.
    pub sub: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience (`<jwt_audience>:qr`).
    pub aud: String,
    /// Expiry (unix seconds).
    pub exp: i64,
    /// Token type; always `qr`.
    pub typ: String,
}

/// A QR token and when it stops being accepted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QrToken {
    /// The token to encode as a QR code.
    pub token: String,
    /// When it expires.
    pub expires_at: chrono::DateTime<Utc>,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry (unix seconds).
    pub exp: i64,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Issued at (unix milliseconds), so that a revocation and a new sign-in within one
    /// second are told apart; tokens without it count from `iat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    /// Not before (unix seconds).
    pub nbf: i64,
    /// Unique id of this token.
    pub jti: Uuid,
    /// Token type; always `access`.
    pub typ: String,
    /// The user's role.
    pub role: Role,
    /// Administrators: `super_admin` or `district`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<AdminScope>,
    /// The district a scoped account belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    /// Access token lifetime in seconds.
    pub access_ttl_secs: u64,
    /// Refresh token lifetime in seconds.
    pub refresh_ttl_secs: u64,
    qr_validation: Validation,
    qr_audience: String,
    /// QR token lifetime in seconds.
    pub qr_ttl_secs: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from a secret and the settings' issuer, audience and lifetimes.
    pub fn new(secret: &Secret, settings: &Settings) -> Result<Self> {
        let bytes = secret.expose().as_bytes();
        let key_error =
            |e: jsonwebtoken::errors::Error| Error::Internal(anyhow::anyhow!("jwt key: {e}"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        // QR tokens live for minutes and are checked by the servers that issued them: no
        // leeway, and a distinct audience and type.
        let qr_audience = format!("{}{QR_AUDIENCE_SUFFIX}", settings.jwt_audience);
        let mut qr_validation = Validation::new(Algorithm::HS256);
        qr_validation.algorithms = vec![Algorithm::HS256];
        qr_validation.set_issuer(&[&settings.jwt_issuer]);
        qr_validation.set_audience(&[&qr_audience]);
        qr_validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        qr_validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes).map_err(key_error)?,
            decoding: DecodingKey::from_secret(bytes).map_err(key_error)?,
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl_secs: settings.access_token_ttl_secs,
            refresh_ttl_secs: settings.refresh_token_ttl_secs,
            qr_validation,
            qr_audience,
            qr_ttl_secs: u64::from(settings.qr_token_ttl_secs),
        })
    }

    /// Signs an access token for `principal`.
    pub fn issue_access(&self, principal: &Principal) -> Result<String> {
        let now_ms = Utc::now().timestamp_millis();
        let now = now_ms.div_euclid(1000);
        let claims = Claims {
            sub: principal.user_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.access_ttl_secs as i64,
            iat: now,
            iat_ms: Some(now_ms),
            nbf: now,
            jti: Uuid::new_v4(),
            typ: ACCESS_TYPE.into(),
            role: principal.role,
            scope: principal.admin_scope,
            district: principal.district_code.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(anyhow::anyhow!("jwt encode: {e}")))
    }

    /// Checks an access token: algorithm, signature, issuer, audience, expiry, type.
    pub fn verify_access(&self, token: &str) -> Result<Principal> {
        Ok(self.verify_access_issued(token)?.0)
    }

    /// [`Self::verify_access`], with when the token was issued (unix milliseconds).
    pub fn verify_access_issued(&self, token: &str) -> Result<(Principal, i64)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    Error::unauthenticated("token_expired", "the access token has expired")
                }
                _ => Error::unauthenticated("token_invalid", "the access token is not valid"),
            })?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYPE {
            return Err(Error::unauthenticated(
                "token_invalid",
                "the token is not an access token",
            ));
        }
        let issued_ms = claims.iat_ms.unwrap_or(claims.iat.saturating_mul(1000));
        Ok((
            Principal {
                user_id: claims.sub,
                role: claims.role,
                admin_scope: claims.scope,
                district_code: claims.district,
            },
            issued_ms,
        ))
    }
}

impl TokenKeys {
    /// Signs a QR token naming `resident_id`, valid for the configured QR lifetime.
    pub fn issue_qr(&self, resident_id: Uuid) -> Result<QrToken> {
        let exp = Utc::now().timestamp() + self.qr_ttl_secs as i64;
        let claims = QrClaims {
            sub: resident_id,
            iss: self.issuer.clone(),
            aud: self.qr_audience.clone(),
            exp,
            typ: QR_TYPE.into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(anyhow::anyhow!("jwt encode: {e}")))?;
        let expires_at = chrono::DateTime::from_timestamp(exp, 0)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("QR expiry out of range")))?;
        Ok(QrToken { token, expires_at })
    }

    /// Checks a QR token (algorithm, signature, issuer, QR audience, expiry, type) and
    /// returns the resident it names. Refuses with 422 `qr_token_expired` or
    /// `qr_token_invalid` (an access token is invalid here).
    pub fn verify_qr(&self, token: &str) -> Result<Uuid> {
        let invalid = || Error::Unprocessable {
            code: "qr_token_invalid",
            message: "the resident token is not a valid QR token".into(),
        };
        let data = jsonwebtoken::decode::<QrClaims>(token, &self.decoding, &self.qr_validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Error::Unprocessable {
                    code: "qr_token_expired",
                    message: "the resident's QR token has expired; show a fresh one".into(),
                },
                _ => invalid(),
            })?;
        if data.claims.typ != QR_TYPE {
            return Err(invalid());
        }
        Ok(data.claims.sub)
    }
}

/// A new random refresh token (43 URL-safe characters, 256 bits).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a refresh token.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The JWT secret in force: the configured one, or one generated once and kept in
/// `<data_dir>/jwt.secret` (created with mode 0600).
pub fn load_or_create_secret(settings: &Settings) -> Result<Secret> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    load_or_create_file(&settings.data_dir.join("jwt.secret"))
}

/// The secret kept in the file at `path`, created (random, readable by the owner only) when
/// missing: the embedded footprint's keys that no configuration names.
pub(crate) fn load_or_create_file(path: &Path) -> Result<Secret> {
    read_or_create(path).map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "cannot read or create {}: {e}",
            path.display()
        ))
    })
}

fn read_or_create(path: &Path) -> std::io::Result<Secret> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let trimmed = existing.trim();
        if trimmed.len() >= 32 {
            return Ok(Secret::new(trimmed));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &secret)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &Secret::new("0123456789abcdef0123456789abcdef"),
            &Settings::default(),
        )
        .unwrap()
    }

    fn alice() -> Principal {
        Principal {
            user_id: Uuid::new_v4(),
            role: Role::Resident,
            admin_scope: None,
            district_code: None,
        }
    }

    #[test]
    fn issued_token_verifies() {
        let k = keys();
        let p = alice();
        assert_eq!(k.verify_access(&k.issue_access(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn tampered_and_foreign_tokens_are_refused() {
        let k = keys();
        let token = k.issue_access(&alice()).unwrap();
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push('x');
        assert!(k.verify_access(&tampered).is_err());
        let other = TokenKeys::new(
            &Secret::new("another-secret-another-secret-another"),
            &Settings::default(),
        )
        .unwrap();
        assert!(other.verify_access(&token).is_err());
    }

    #[test]
    fn alg_none_and_wrong_type_are_refused() {
        let k = keys();
        let now = Utc::now().timestamp();
        let claims = serde_json::json!({
            "sub": Uuid::new_v4(), "iss": "wufei", "aud": "wufei-api", "exp": now + 60,
            "iat": now, "nbf": now, "jti": Uuid::new_v4(), "typ": "refresh", "role": "admin"
        });
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(&claims)
        );
        assert!(k.verify_access(&none).is_err());
        let wrong_type = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef").unwrap(),
        )
        .unwrap();
        assert!(k.verify_access(&wrong_type).is_err());
    }

    #[test]
    fn qr_and_access_tokens_are_not_interchangeable() {
        let k = keys();
        let p = alice();
        let qr = k.issue_qr(p.user_id).unwrap();
        assert_eq!(k.verify_qr(&qr.token).unwrap(), p.user_id);
        assert!(k.verify_access(&qr.token).is_err());
        let access = k.issue_access(&p).unwrap();
        assert!(matches!(
            k.verify_qr(&access),
            Err(Error::Unprocessable {
                code: "qr_token_invalid",
                ..
            })
        ));
        assert!(k.verify_qr("garbage").is_err());
    }

    #[test]
    fn expired_qr_token_says_so() {
        let k = keys();
        let claims = QrClaims {
            sub: Uuid::new_v4(),
            iss: "wufei".into(),
            aud: "wufei-api:qr".into(),
            exp: Utc::now().timestamp() - 1,
            typ: "qr".into(),
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef").unwrap(),
        )
        .unwrap();
        assert!(matches!(
            k.verify_qr(&t),
            Err(Error::Unprocessable {
                code: "qr_token_expired",
                ..
            })
        ));
    }

    #[test]
    fn expired_token_says_so() {
        let k = keys();
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: Uuid::new_v4(),
            iss: "wufei".into(),
            aud: "wufei-api".into(),
            exp: now - 120,
            iat: now - 1000,
            iat_ms: None,
            nbf: now - 1000,
            jti: Uuid::new_v4(),
            typ: "access".into(),
            role: Role::Resident,
            scope: None,
            district: None,
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef").unwrap(),
        )
        .unwrap();
        match k.verify_access(&t) {
            Err(Error::Unauthenticated { code, .. }) => assert_eq!(code, "token_expired"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
