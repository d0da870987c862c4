//! Who is calling, and what their key lets them do.
//!
//! Every endpoint but health, metrics and the API documents takes a [`Caller`], so a handler
//! cannot forget to authenticate. Authorisation is a question the handler asks the caller
//! about the item at hand (`can_edit_recording`), answered from the key's role and parties.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use encore_core::Role;
use encore_store::{ApiKey, Party, Recording, Work};

use crate::AppState;
use crate::error::{ApiError, Code};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key used.
    pub key: ApiKey,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(secret) = header.and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        }) else {
            return Err(ApiError::new(
                Code::Unauthenticated,
                "send an API key as 'Authorization: Bearer enc_…'; `encore keys create` makes one",
            ));
        };
        match state.store.authenticate(secret.trim()).await? {
            Some(key) => Ok(Caller { key }),
            None => Err(ApiError::new(
                Code::Unauthenticated,
                "this API key is unknown or has been revoked",
            )),
        }
    }
}

impl Caller {
    /// The key's role.
    pub fn role(&self) -> Role {
        self.key.role
    }

    /// Whether this is an operator's key.
    pub fn is_admin(&self) -> bool {
        self.key.role == Role::Admin
    }

    /// Refuses unless the key has one of `roles` (admins always pass).
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), ApiError> {
        if self.is_admin() || roles.contains(&self.key.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = std::iter::once("admin")
            .chain(roles.iter().map(|r| r.as_str()))
            .collect();
        Err(ApiError::forbidden(format!(
            "a {} key may not {action}; this needs a key with role {}",
            self.key.role.as_str(),
            allowed.join(" or ")
        )))
    }

    /// Whether the key acts for this party.
    pub fn acts_for(&self, party_id: &str) -> bool {
        self.key.parties.iter().any(|p| p == party_id)
    }

    fn created(&self, created_by: Option<&str>) -> bool {
        created_by == Some(self.key.id.as_str())
    }

    fn acts_for_any<'a>(&self, mut parties: impl Iterator<Item = &'a String>) -> bool {
        parties.any(|p| self.acts_for(p))
    }

    /// Admins; the key that created the party; a partner or artist key acting for it.
    pub fn can_edit_party(&self, party: &Party) -> bool {
        self.is_admin()
            || self.created(party.created_by.as_deref())
            || (matches!(self.key.role, Role::Partner | Role::Artist) && self.acts_for(&party.id))
    }

    /// Admins; a partner whose parties hold publishing shares, or whose key created the work.
    pub fn can_edit_work(&self, work: &Work) -> bool {
        self.is_admin()
            || (self.key.role == Role::Partner
                && (self.created(work.created_by.as_deref()) || self.holds_work_share(work)))
    }

    fn holds_work_share(&self, work: &Work) -> bool {
        self.acts_for_any(
            work.fields
                .splits
                .iter()
                .flat_map(encore_core::Splits::parties),
        )
    }

    /// Admins; a partner whose parties hold master shares, or whose key created the recording.
    pub fn can_edit_recording(&self, rec: &Recording) -> bool {
        self.is_admin()
            || (self.key.role == Role::Partner
                && (self.created(rec.created_by.as_deref()) || self.holds_recording_share(rec)))
    }

    fn holds_recording_share(&self, rec: &Recording) -> bool {
        self.acts_for_any(
            rec.fields
                .splits
                .iter()
                .flat_map(encore_core::Splits::parties),
        )
    }

    /// Splits are private to those they concern: admins, the creator, shareholders, writers.
    pub fn can_see_work_private(&self, work: &Work) -> bool {
        self.can_edit_work(work)
            || self.holds_work_share(work)
            || (self.key.role == Role::Artist && self.acts_for_any(work.fields.writers.iter()))
    }

    /// Splits and original audio are private to admins, the creator, shareholders and the main
    /// artists; workers read audio to render what fans asked for.
    pub fn can_see_recording_private(&self, rec: &Recording) -> bool {
        self.can_edit_recording(rec)
            || self.holds_recording_share(rec)
            || (self.key.role == Role::Artist && self.acts_for_any(rec.fields.artists.iter()))
    }

    /// Who may download a recording's original audio and stems.
    pub fn can_read_audio(&self, rec: &Recording) -> bool {
        self.key.role == Role::Worker || self.can_see_recording_private(rec)
    }
}
