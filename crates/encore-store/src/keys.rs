//! API keys: high-entropy secrets, shown once, stored as SHA-256 digests.
//!
//! A fast hash is the right tool here: the secret has 256 bits of entropy, so there is nothing
//! for a slow password hash to protect, and every request pays for the lookup.

use encore_core::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Store, StoreError, dispatch, new_id};

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The role.
    pub role: Role,
    /// Party ids the key acts for (partners: one or more; artists: exactly one person).
    pub parties: Vec<String>,
    /// A label for people (`"label ops"`, `"demo fan"`).
    pub name: String,
}

/// A stored key, without its secret.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// Identifier.
    pub id: String,
    /// The first characters of the secret, to tell keys apart in lists.
    pub prefix: String,
    /// Role.
    pub role: Role,
    /// A label for people.
    pub name: String,
    /// Party ids the key acts for.
    pub parties: Vec<String>,
    /// Creation time, Unix ms.
    pub created_at_ms: i64,
    /// Revocation time, Unix ms; a revoked key authenticates nothing.
    pub revoked_at_ms: Option<i64>,
}

/// A key just created, with its secret: the only time the secret exists outside the caller.
pub struct CreatedKey {
    /// The stored key.
    pub key: ApiKey,
    /// The secret to hand to the user.
    pub secret: String,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Prefix of every secret, so leaked keys are easy to spot by scanners.
pub const SECRET_PREFIX: &str = "enc_";

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Creates a key and returns its secret once.
    pub async fn create_key(&self, key: &NewKey) -> Result<CreatedKey, StoreError> {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(raw));
        let prefix = secret[..SECRET_PREFIX.len() + 8].to_owned();
        let id = new_id("key");
        let hash = digest(&secret);
        let key = dispatch!(self, insert_key(&id, &hash, &prefix, key))?;
        Ok(CreatedKey { key, secret })
    }

    /// The live key a secret belongs to, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        if !secret.starts_with(SECRET_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        self.cached_key(&digest(secret)).await
    }

    /// A key by id.
    pub async fn key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        dispatch!(self, get_key(id))
    }

    /// Every key.
    pub async fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        dispatch!(self, list_keys())
    }

    /// Revokes a key; revoking again changes nothing.
    pub async fn revoke_key(&self, id: &str) -> Result<ApiKey, StoreError> {
        let out = dispatch!(self, revoke_key(id));
        self.wrote();
        out
    }
}
