//! Content-addressed storage for audio and artefacts.
//!
//! Every object is stored under the SHA-256 of its bytes, so the same audio uploaded twice is
//! stored once, and a stored object can always be verified against its name. The backend is any
//! `object_store`: local files by default, S3-compatible storage when the location is an `s3://`
//! URL (credentials and endpoint come from the usual `AWS_*` environment variables).

use std::sync::Arc;

use bytes::Bytes;
use object_store::{ObjectStore, PutPayload, local::LocalFileSystem, path::Path};
use sha2::{Digest, Sha256};

/// What went wrong talking to the object store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The configured location could not be understood or opened.
    #[error("object storage location '{location}' cannot be used: {reason}")]
    Location { location: String, reason: String },
    /// No object is stored under that digest.
    #[error("no object stored under sha256 {0}")]
    NotFound(String),
    /// The digest is not 64 lowercase hex characters.
    #[error("'{0}' is not a SHA-256 digest")]
    BadDigest(String),
    /// The stored bytes do not hash to their name: the store was tampered with or is corrupt.
    #[error("object {0} is corrupt: its content does not match its digest")]
    Corrupt(String),
    /// The backend failed.
    #[error("object storage failed: {0}")]
    Backend(#[from] object_store::Error),
}

/// A stored object's name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// Content-addressed object storage.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    description: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("location", &self.description)
            .finish()
    }
}

impl BlobStore {
    /// Opens a location: a local folder path, a `file://` URL, or an `s3://bucket/prefix` URL.
    /// A local folder is created if it does not exist.
    pub fn open(location: &str) -> Result<Self, BlobError> {
        let err = |reason: String| BlobError::Location {
            location: location.to_owned(),
            reason,
        };
        if location.starts_with("s3://") {
            let url = url::Url::parse(location).map_err(|e| err(e.to_string()))?;
            let store = object_store::aws::AmazonS3Builder::from_env()
                .with_url(location)
                .build()
                .map_err(|e| err(e.to_string()))?;
            let prefix = Path::from(url.path().trim_matches('/'));
            return Ok(Self {
                store: Arc::new(store),
                prefix,
                description: location.to_owned(),
            });
        }
        let dir = match location.strip_prefix("file://") {
            Some(path) => path.to_owned(),
            None if location.contains("://") => {
                return Err(err(
                    "use a folder path, a file:// URL or an s3:// URL".into()
                ));
            }
            None => location.to_owned(),
        };
        std::fs::create_dir_all(&dir).map_err(|e| err(format!("cannot create the folder: {e}")))?;
        let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: Path::default(),
            description: dir,
        })
    }

    /// Where objects are stored, for logs.
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn path_for(&self, sha256: &str) -> Result<Path, BlobError> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid {
            return Err(BlobError::BadDigest(sha256.to_owned()));
        }
        let rel = format!("sha256/{}/{}/{}", &sha256[..2], &sha256[2..4], sha256);
        Ok(self.prefix.parts().chain(Path::from(rel).parts()).collect())
    }

    /// Computes the digest of some bytes without storing them.
    pub fn digest(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// Stores bytes under their digest. Storing the same bytes again is a no-op.
    pub async fn put(&self, bytes: Bytes) -> Result<BlobRef, BlobError> {
        let sha256 = Self::digest(&bytes);
        let size_bytes = bytes.len() as u64;
        let path = self.path_for(&sha256)?;
        match self.store.head(&path).await {
            Ok(meta) if meta.size == size_bytes => {}
            _ => {
                self.store.put(&path, PutPayload::from_bytes(bytes)).await?;
            }
        }
        Ok(BlobRef { sha256, size_bytes })
    }

    /// Reads an object back and verifies its content against its digest.
    pub async fn get(&self, sha256: &str) -> Result<Bytes, BlobError> {
        let path = self.path_for(sha256)?;
        let bytes = match self.store.get(&path).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BlobError::NotFound(sha256.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        if Self::digest(&bytes) != sha256 {
            return Err(BlobError::Corrupt(sha256.to_owned()));
        }
        Ok(bytes)
    }

    /// Whether an object is stored under that digest.
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        let path = self.path_for(sha256)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks that the store can be written and read, for readiness probes.
    pub async fn check(&self) -> Result<(), BlobError> {
        let probe = Bytes::from_static(b"encore readiness probe");
        let stored = self.put(probe.clone()).await?;
        let back = self.get(&stored.sha256).await?;
        if back != probe {
            return Err(BlobError::Corrupt(stored.sha256));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_content_and_reads_back_verified() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::open(dir.path().to_str().expect("utf-8 path")).expect("open");
        let a = store.put(Bytes::from_static(b"hello")).await.expect("put");
        let again = store
            .put(Bytes::from_static(b"hello"))
            .await
            .expect("put again");
        assert_eq!(a, again);
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            store.get(&a.sha256).await.expect("get"),
            Bytes::from_static(b"hello")
        );
        assert!(store.exists(&a.sha256).await.expect("exists"));
        let missing = "0".repeat(64);
        assert!(matches!(
            store.get(&missing).await,
            Err(BlobError::NotFound(_))
        ));
        assert!(matches!(
            store.get("../etc/passwd").await,
            Err(BlobError::BadDigest(_))
        ));
    }

    #[tokio::test]
    async fn detects_a_tampered_object() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::open(dir.path().to_str().expect("utf-8 path")).expect("open");
        let a = store
            .put(Bytes::from_static(b"original"))
            .await
            .expect("put");
        let file = dir
            .path()
            .join("sha256")
            .join(&a.sha256[..2])
            .join(&a.sha256[2..4])
            .join(&a.sha256);
        std::fs::write(file, b"tampered").expect("overwrite");
        assert!(matches!(
            store.get(&a.sha256).await,
            Err(BlobError::Corrupt(_))
        ));
    }

    #[test]
    fn refuses_unknown_schemes() {
        assert!(matches!(
            BlobStore::open("ftp://x/y"),
            Err(BlobError::Location { .. })
        ));
    }
}
