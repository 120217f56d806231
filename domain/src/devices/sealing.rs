//! Device secrets at rest. The server must know a device's secret to check its signatures
//! (an HMAC cannot be checked against a hash of its key), so `devices.secret` holds it
//! sealed: XChaCha20-Poly1305 under a key from the configuration
//! (`WUFEI_DEVICE_SECRET_KEY`; generated into `<data dir>/device.key` when unset, as the
//! embedded footprint's JWT secret is), a random nonce per seal, and the device's id as
//! associated data, so a sealed secret copied onto another row does not open. A database
//! dump alone no longer lets anyone sign deposits.
//!
//! Stored form: `v1:<key id>:<nonce>:<ciphertext>` (base64url), where the key id is the
//! first 8 hex digits of SHA-256 of the key. **Rotation**: set the new key as
//! `WUFEI_DEVICE_SECRET_KEY` and the old one in `WUFEI_DEVICE_SECRET_PREVIOUS_KEYS`
//! (comma-separated); secrets sealed under a previous key still open, and at start every
//! one of them — and any left in plain text from before sealing existed — is sealed again
//! under the current key ([`reseal_all`]). Once every instance has started with the new key,
//! the old one can be dropped from the list. This module must never log or return a secret
//! except to the caller that opens it.

use base64::Engine as _;
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    config::{Secret, Settings},
    entities::device,
    error::{Error, Result},
};

const VERSION: &str = "v1";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One key: its id and its cipher.
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    /// The key derived from configured text (at least 32 bytes of it, checked by the
    /// settings): SHA-256 of it, so any random text of that length will do.
    fn derive(text: &str) -> Self {
        let bytes: [u8; 32] = Sha256::digest(text.trim().as_bytes()).into();
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self {
            id,
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        }
    }
}

/// The keys device secrets are sealed and opened with.
pub struct DeviceKeys {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// What [`DeviceKeys::open`] found.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// The secret.
    pub secret: String,
    /// Whether it is sealed under the current key (otherwise: a previous key, or plain text
    /// from before sealing) — [`reseal_all`] seals it again.
    pub current: bool,
}

impl DeviceKeys {
    /// The keys the settings name: `WUFEI_DEVICE_SECRET_KEY` (or the data directory's
    /// `device.key`, created on first use) and `WUFEI_DEVICE_SECRET_PREVIOUS_KEYS`.
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        let current = match &settings.device_secret_key {
            Some(key) => key.clone(),
            None => {
                crate::auth::tokens::load_or_create_file(&settings.data_dir.join("device.key"))?
            }
        };
        let previous = settings
            .device_secret_previous_keys
            .as_ref()
            .map(Secret::expose)
            .unwrap_or_default();
        Ok(Self::new(
            current.expose(),
            previous.split(',').filter(|k| !k.trim().is_empty()),
        ))
    }

    /// Keys from their texts (tests).
    pub fn new<'a>(current: &str, previous: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            current: Key::derive(current),
            previous: previous.into_iter().map(Key::derive).collect(),
        }
    }

    /// `secret` sealed for device `device_id` under the current key.
    pub fn seal(&self, device_id: Uuid, secret: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: device_id.as_bytes(),
                },
            )
            // Encryption fails only for messages of gigabytes.
            .unwrap_or_default();
        format!(
            "{VERSION}:{}:{}:{}",
            self.current.id,
            B64.encode(nonce),
            B64.encode(sealed)
        )
    }

    /// Opens what `devices.secret` holds for device `device_id`. Plain text (a secret stored
    /// before sealing existed) opens as itself, not current.
    pub fn open(&self, device_id: Uuid, stored: &str) -> Result<Opened> {
        let Some(rest) = stored.strip_prefix("v1:") else {
            return Ok(Opened {
                secret: stored.to_owned(),
                current: false,
            });
        };
        let broken =
            |why: &str| Error::Internal(anyhow::anyhow!("device {device_id} secret: {why}"));
        let mut parts = rest.splitn(3, ':');
        let (Some(id), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(broken("malformed"));
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| broken(&format!("sealed under key {id}, which is not configured")))?;
        let nonce = B64.decode(nonce).map_err(|_| broken("bad nonce"))?;
        let sealed = B64.decode(sealed).map_err(|_| broken("bad ciphertext"))?;
        if nonce.len() != 24 {
            return Err(broken("bad nonce"));
        }
        let secret = key
            .cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: device_id.as_bytes(),
                },
            )
            .map_err(|_| broken("does not open"))?;
        Ok(Opened {
            secret: String::from_utf8(secret).map_err(|_| broken("not text"))?,
            current: key.id == self.current.id,
        })
    }
}

/// Seals under the current key every secret that is not: those sealed under a previous
/// key, and those stored in plain text before sealing existed. Returns how many. Run at
/// start, under the start-up lock; a secret that opens under no configured key is left as
/// it is and logged (its device fails to sign until an administrator rotates its secret).
pub async fn reseal_all(db: &impl ConnectionTrait, keys: &DeviceKeys) -> Result<u64> {
    let mut resealed = 0;
    for d in device::Entity::find().all(db).await? {
        match keys.open(d.id, &d.secret) {
            Ok(Opened { current: true, .. }) => {}
            Ok(Opened { secret, .. }) => {
                let id = d.id;
                let mut am = d.into_active_model();
                am.secret = Set(keys.seal(id, &secret));
                am.update(db).await?;
                resealed += 1;
            }
            Err(e) => {
                tracing::error!(device_id = %d.id, error = %e, "a device secret opens under no configured key")
            }
        }
    }
    if resealed > 0 {
        tracing::info!(
            devices = resealed,
            "device secrets sealed under the current key"
        );
    }
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "first key, at least thirty-two bytes long";
    const B: &str = "second key, also at least thirty-two bytes";

    #[test]
    fn a_sealed_secret_opens_for_its_device_only() {
        let keys = DeviceKeys::new(A, []);
        let (dev, other) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = keys.seal(dev, "s3cret");
        assert!(sealed.starts_with("v1:") && !sealed.contains("s3cret"));
        assert_ne!(sealed, keys.seal(dev, "s3cret"), "a fresh nonce each time");
        assert_eq!(
            keys.open(dev, &sealed).unwrap(),
            Opened {
                secret: "s3cret".into(),
                current: true
            }
        );
        assert!(keys.open(other, &sealed).is_err(), "copied to another row");
        let mut tampered = sealed.clone();
        tampered.push('A');
        assert!(keys.open(dev, &tampered).is_err());
    }

    #[test]
    fn a_previous_key_still_opens_and_an_unknown_one_does_not() {
        let dev = Uuid::now_v7();
        let old = DeviceKeys::new(A, []).seal(dev, "s3cret");
        let rotated = DeviceKeys::new(B, [A]);
        assert_eq!(
            rotated.open(dev, &old).unwrap(),
            Opened {
                secret: "s3cret".into(),
                current: false
            }
        );
        assert!(DeviceKeys::new(B, []).open(dev, &old).is_err());
        assert_eq!(
            rotated.open(dev, "legacy-plain").unwrap(),
            Opened {
                secret: "legacy-plain".into(),
                current: false
            }
        );
    }
}
