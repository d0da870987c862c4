//! A proposed use and the engine's answer.

use std::fmt;

use super::{AgreementId, ModelId, PartyId, RecordingId, WorkId};
use crate::{ParseError, Territory, UseType};

/// A proposed use: what, of which inputs, where, when and with which model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseRequest {
    /// The use.
    pub use_type: UseType,
    /// Recording inputs (repeats are ignored).
    pub recordings: Vec<RecordingId>,
    /// Work inputs (repeats are ignored); for `voice`, the works performed.
    pub works: Vec<WorkId>,
    /// The artist whose voice is used; read only when the use's rule names a voiced artist.
    pub artist: Option<PartyId>,
    /// Where the result will be made available.
    pub territory: Territory,
    /// When the use happens, Unix ms; agreement windows and revocations are judged at it.
    pub at_ms: i64,
    /// The model that will perform the use, if any.
    pub model: Option<ModelId>,
}

impl UseRequest {
    /// A request with no inputs yet, to be filled with the builder methods.
    pub fn new(use_type: UseType, territory: Territory, at_ms: i64) -> Self {
        Self {
            use_type,
            recordings: Vec::new(),
            works: Vec::new(),
            artist: None,
            territory,
            at_ms,
            model: None,
        }
    }

    /// Adds a recording input.
    pub fn recording(mut self, id: impl Into<RecordingId>) -> Self {
        self.recordings.push(id.into());
        self
    }

    /// Adds a work input.
    pub fn work(mut self, id: impl Into<WorkId>) -> Self {
        self.works.push(id.into());
        self
    }

    /// Names the voiced artist.
    pub fn artist(mut self, id: impl Into<PartyId>) -> Self {
        self.artist = Some(id.into());
        self
    }

    /// Names the model.
    pub fn model(mut self, id: impl Into<ModelId>) -> Self {
        self.model = Some(id.into());
        self
    }
}

/// A request input a reason is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// A recording input.
    Recording(RecordingId),
    /// A work input.
    Work(WorkId),
    /// The voiced artist.
    Artist(PartyId),
    /// The model.
    Model(ModelId),
}

/// A catalog item inside an input that a reason is about, when it is not the input itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    /// A recording: one the voiced artist would perform, or a model's training item.
    Recording(RecordingId),
    /// A work: linked to a recording input, performed by the voiced artist, or trained on.
    Work(WorkId),
}

/// Stable machine-readable reason codes; the text forms never change once published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonCode {
    /// An owner has no accepted agreement covering the item.
    NoAgreement,
    /// An owner's agreement covers the item but not this use.
    UseNotLicensed,
    /// An owner's agreement does not cover the territory.
    TerritoryExcluded,
    /// The use falls outside an owner's agreement window.
    OutsideWindow,
    /// An owner's agreement was revoked at or before the time of the use.
    AgreementRevoked,
    /// A person has not opted in to the use.
    ParticipationMissing,
    /// A person refused the use.
    ParticipationDenied,
    /// A recording's master splits, or a work's publishing splits, are not known yet.
    SplitsIncomplete,
    /// An item in the model's training set is not cleared for `train`.
    ModelNotCleared,
    /// The model cannot perform the use.
    ModelUseUnsupported,
    /// An input, or an item it refers to, does not exist.
    InputNotFound,
    /// The request lacks an input the use needs (the voiced artist, or enough inputs).
    InputMissing,
}

impl ReasonCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 12] = [
        Self::NoAgreement,
        Self::UseNotLicensed,
        Self::TerritoryExcluded,
        Self::OutsideWindow,
        Self::AgreementRevoked,
        Self::ParticipationMissing,
        Self::ParticipationDenied,
        Self::SplitsIncomplete,
        Self::ModelNotCleared,
        Self::ModelUseUnsupported,
        Self::InputNotFound,
        Self::InputMissing,
    ];

    /// The stable code, e.g. `NO_AGREEMENT`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::NoAgreement => "NO_AGREEMENT",
            Self::UseNotLicensed => "USE_NOT_LICENSED",
            Self::TerritoryExcluded => "TERRITORY_EXCLUDED",
            Self::OutsideWindow => "OUTSIDE_WINDOW",
            Self::AgreementRevoked => "AGREEMENT_REVOKED",
            Self::ParticipationMissing => "PARTICIPATION_MISSING",
            Self::ParticipationDenied => "PARTICIPATION_DENIED",
            Self::SplitsIncomplete => "SPLITS_INCOMPLETE",
            Self::ModelNotCleared => "MODEL_NOT_CLEARED",
            Self::ModelUseUnsupported => "MODEL_USE_UNSUPPORTED",
            Self::InputNotFound => "INPUT_NOT_FOUND",
            Self::InputMissing => "INPUT_MISSING",
        }
    }

    /// Parses a stable code exactly as [`ReasonCode::as_str`] writes it (stored decisions).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError::new(format!("unknown reason code '{s}'")))
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a use is denied: the rule (code), the input, the item and the party concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reason {
    /// What is wrong.
    pub code: ReasonCode,
    /// The request input concerned; `None` only for `INPUT_MISSING`.
    pub input: Option<Input>,
    /// The item within the input concerned, when it is not the input itself.
    pub item: Option<Item>,
    /// The party whose consent is missing, if the reason is about one.
    pub party: Option<PartyId>,
    /// The agreement that fails, for the agreement codes other than `NO_AGREEMENT`.
    pub agreement: Option<AgreementId>,
}

/// The answer to a [`UseRequest`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Whether the use may go ahead; true exactly when `reasons` is empty.
    pub allowed: bool,
    /// Parties whose agreement or participation asks to approve each derivative, each once.
    // Filled even when denied, so a fan page can say who would have to approve.
    pub approvals_required: Vec<PartyId>,
    /// Every reason for a denial, in input order.
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// Whether some reason has this code.
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
        }
        let mut texts: Vec<_> = ReasonCode::ALL.iter().map(ReasonCode::as_str).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), ReasonCode::ALL.len());
        assert!(ReasonCode::parse("no_agreement").is_err());
    }
}
