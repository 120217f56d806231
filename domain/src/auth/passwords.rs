//! Password hashing with Argon2id (the crate's recommended parameters). Verification of an
//! unknown account still spends the same work on a fixed hash, so timing does not tell
//! which phone numbers have accounts. Hashing runs on the blocking pool.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::{Error, Result};

/// A hash of a password nobody has, verified against when the account does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0G6tH8Lk1vmHcVvH8jZ3b1M3m3h7m8y2zq0cK7mVQ1Q";

/// Checks a new password's strength: 8–128 characters, not all digits.
pub fn validate_new(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(Error::field(
            "password",
            "invalid_length",
            "must be 8 to 128 characters",
        ));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::field(
            "password",
            "too_weak",
            "must not be digits only",
        ));
    }
    Ok(())
}

/// Hashes a password (PHC string).
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!("hash task failed: {e}"))?
    .map_err(Error::Internal)
}

/// Whether `password` matches `stored` (or, with `None`, spends the same time and says no).
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("verify task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(
            verify("correct horse".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse".into(), Some(h)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(validate_new("short").is_err());
        assert!(validate_new("12345678901").is_err());
        assert!(validate_new("a decent passphrase").is_ok());
    }
}
