//! The blob store on a local directory, for the embedded footprint (one machine, data dir).
//!
//! Each object is one file under the root, named by its key. The file starts with a small
//! envelope holding the content type, so that a `put` is a single atomic rename: a reader
//! sees the old object or the new one, never new bytes with an old content type (which a
//! separate `.meta` sidecar could not promise).
//!
//! One divergence from S3, harmless for the keys the domain chooses: a key cannot be both
//! an object and a "directory" (`a` and `a/b`), so such a second `put` fails here.
//!
//! This adapter must never touch a path outside its root: every key goes through
//! [`validate_key`] before it becomes a path, and keys with `..`, absolute paths,
//! backslashes, drive letters or empty segments are refused.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::{Blob, BlobStore};
use crate::ports::PortError;

const BACKEND: &str = "filesystem";

/// First line of every stored file; the version lets the format change later.
const MAGIC: &[u8] = b"WUFEIBLOB1\n";

/// Longest key accepted, in bytes (S3's own limit is 1024).
const MAX_KEY_LEN: usize = 1024;

/// Longest content type accepted, in bytes.
const MAX_CONTENT_TYPE_LEN: usize = 255;

/// Checks that `key` is a relative path of non-empty segments made only of ASCII letters,
/// digits, `-`, `_` and `.`, with no segment that is `.`/`..` or starts with `.` (those
/// names are reserved for this adapter's temporary files). Both adapters use it, so a key
/// accepted by one is accepted by the other.
pub(crate) fn validate_key(key: &str) -> Result<(), PortError> {
    let refuse = |why: &str| {
        Err(PortError::Backend {
            backend: "blob",
            message: format!("invalid blob key {key:?}: {why}"),
        })
    };
    if key.is_empty() {
        return refuse("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return refuse("too long");
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return refuse(&format!("character {c:?} not allowed"));
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return refuse("empty segment (leading, trailing or doubled '/')");
        }
        if segment.starts_with('.') {
            return refuse("segment starting with '.'");
        }
    }
    Ok(())
}

/// A [`BlobStore`] over a local directory.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Opens (creating it if needed) the store rooted at `root`.
    pub fn new(root: PathBuf) -> Result<Self, PortError> {
        std::fs::create_dir_all(&root).map_err(|e| {
            PortError::backend(BACKEND, format!("creating {}: {e}", root.display()))
        })?;
        Ok(Self { root })
    }

    /// The file holding `key`, after validating the key.
    fn path_of(&self, key: &str) -> Result<PathBuf, PortError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io_err(what: &str, path: &Path, err: std::io::Error) -> PortError {
    PortError::backend(BACKEND, format!("{what} {}: {err}", path.display()))
}

/// Encodes the envelope: magic, content type, newline, bytes.
fn encode(bytes: &[u8], content_type: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + content_type.len() + 1 + bytes.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(content_type.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(bytes);
    out
}

/// Decodes the envelope written by [`encode`].
fn decode(mut raw: Vec<u8>, path: &Path) -> Result<Blob, PortError> {
    let corrupt = |message: &str| PortError::Corrupt {
        backend: BACKEND,
        message: format!("{}: {message}", path.display()),
    };
    if !raw.starts_with(MAGIC) {
        return Err(corrupt("missing blob header"));
    }
    let rest = &raw[MAGIC.len()..];
    let newline = rest
        .iter()
        .take(MAX_CONTENT_TYPE_LEN + 1)
        .position(|b| *b == b'\n')
        .ok_or_else(|| corrupt("unterminated content type"))?;
    let content_type = std::str::from_utf8(&rest[..newline])
        .map_err(|_| corrupt("content type is not UTF-8"))?
        .to_owned();
    let body = raw.split_off(MAGIC.len() + newline + 1);
    Ok(Blob {
        bytes: Bytes::from(body),
        content_type,
    })
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), PortError> {
        let path = self.path_of(key)?;
        if content_type.len() > MAX_CONTENT_TYPE_LEN
            || content_type.bytes().any(|b| b == b'\n' || b == b'\r')
        {
            return Err(PortError::backend(
                BACKEND,
                format!("invalid content type {content_type:?}"),
            ));
        }
        let (dir, file_name) = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => (dir.to_path_buf(), name.to_string_lossy().into_owned()),
            _ => return Err(PortError::backend(BACKEND, format!("bad key {key:?}"))),
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_err("creating", &dir, e))?;

        // Same directory, so the rename below never crosses a filesystem; the leading dot
        // keeps it out of the key space (validate_key refuses such segments).
        let tmp = dir.join(format!(".{file_name}.{}.tmp", uuid::Uuid::new_v4()));
        let written = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| io_err("creating", &tmp, e))?;
            file.write_all(&encode(&bytes, content_type))
                .await
                .map_err(|e| io_err("writing", &tmp, e))?;
            file.sync_all()
                .await
                .map_err(|e| io_err("syncing", &tmp, e))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| io_err("renaming into", &path, e))
        }
        .await;
        if let Err(err) = written {
            // Best effort: the temp file is invisible to readers either way.
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(err);
        }
        // Make the rename itself durable.
        if let Ok(dir_handle) = tokio::fs::File::open(&dir).await {
            dir_handle
                .sync_all()
                .await
                .map_err(|e| io_err("syncing", &dir, e))?;
        }
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, PortError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(raw) => decode(raw, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // "a/b" asked while "a" is an object, or "a" asked while only "a/b" exists:
            // either way nothing is stored under this key.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotADirectory | std::io::ErrorKind::IsADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(io_err("reading", &path, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound
                        | std::io::ErrorKind::NotADirectory
                        | std::io::ErrorKind::IsADirectory
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(io_err("deleting", &path, e)),
        }
    }

    async fn ping(&self) -> Result<(), PortError> {
        let meta = tokio::fs::metadata(&self.root)
            .await
            .map_err(|e| io_err("inspecting", &self.root, e))?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(PortError::backend(
                BACKEND,
                format!("{} is not a directory", self.root.display()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_the_root_are_refused() {
        for key in [
            "",
            "..",
            "../etc/passwd",
            "uploads/../../etc/passwd",
            "uploads/./a.jpg",
            "/etc/passwd",
            "uploads//a.jpg",
            "uploads/a.jpg/",
            "uploads\\..\\a.jpg",
            "C:/windows/a.jpg",
            "uploads/.hidden",
            "uploads/a\0.jpg",
            "uploads/é.jpg",
        ] {
            assert!(validate_key(key).is_err(), "{key:?} should be refused");
        }
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn ordinary_keys_are_accepted() {
        for key in [
            "a",
            "uploads/2026/11/0193a4c2-7e1f-7000-8000-000000000000.jpg",
            "uploads/2026/11/x.thumb.jpg",
            "a-b_c.d",
        ] {
            assert!(validate_key(key).is_ok(), "{key:?} should be accepted");
        }
    }

    #[tokio::test]
    async fn escaping_keys_never_touch_the_filesystem() -> Result<(), PortError> {
        let dir = tempfile::tempdir().map_err(|e| PortError::backend("test", e))?;
        let root = dir.path().join("blobs");
        let store = LocalBlobStore::new(root.clone())?;
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, b"secret").map_err(|e| PortError::backend("test", e))?;

        assert!(store.get("../outside.txt").await.is_err());
        assert!(store.delete("../outside.txt").await.is_err());
        assert!(
            store
                .put("../outside.txt", Bytes::from_static(b"x"), "text/plain")
                .await
                .is_err()
        );
        assert_eq!(
            std::fs::read(&outside).map_err(|e| PortError::backend("test", e))?,
            b"secret"
        );
        Ok(())
    }

    #[tokio::test]
    async fn put_leaves_no_temporary_file_behind() -> Result<(), PortError> {
        let dir = tempfile::tempdir().map_err(|e| PortError::backend("test", e))?;
        let store = LocalBlobStore::new(dir.path().to_path_buf())?;
        store
            .put("a/b.png", Bytes::from_static(b"png"), "image/png")
            .await?;
        let names: Vec<String> = std::fs::read_dir(dir.path().join("a"))
            .map_err(|e| PortError::backend("test", e))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["b.png".to_owned()]);
        Ok(())
    }

    #[test]
    fn a_file_without_the_envelope_is_corrupt() {
        assert!(matches!(
            decode(b"plain".to_vec(), Path::new("x")),
            Err(PortError::Corrupt { .. })
        ));
        let ok = decode(encode(b"\nbody", "image/png"), Path::new("x"));
        assert!(matches!(ok, Ok(Blob { ref bytes, ref content_type })
            if bytes.as_ref() == b"\nbody" && content_type == "image/png"));
    }
}
