//! The rights decision engine: pure functions that say whether a use of catalog items is
//! allowed, who must approve it, and every reason when it is not.
//!
//! Owners (master and publishing) consent through [`Agreement`]s; people (artists and writers)
//! consent through [`Participation`]; which of them must agree for each use is the data in
//! [`UseTable`]. The engine reads the world through four small traits ([`CatalogView`],
//! [`AgreementView`], [`ParticipationView`], [`ModelView`]) so that a store can answer from
//! whatever in-memory index it keeps; in-memory implementations are provided. Default is deny:
//! anything unknown, unset or unlicensed is a reason, and one reason denies.

mod agreement;
mod catalog;
mod decision;
mod engine;
mod model;
mod participation;
mod table;

pub use agreement::{
    Agreement, AgreementError, AgreementIndex, AgreementStatus, AgreementView, Candidates,
    OnRevocation, Scope, Territories, UseRates,
};
pub use catalog::{CatalogView, MemoryCatalog, RecordingRights, WorkRights};
pub use decision::{Decision, Input, Item, Reason, ReasonCode, UseRequest};
pub use engine::{decide, model_clearance};
pub use model::{Model, ModelView, TrainingSet};
pub use participation::{Choice, Participation, ParticipationView, UseParticipation};
pub use table::{ArtistRule, UseRule, UseTable};

/// Identifier of a party (the store's opaque `par_…` id).
pub type PartyId = String;
/// Identifier of a recording (the store's opaque `rec_…` id).
pub type RecordingId = String;
/// Identifier of a musical work (the store's opaque `wrk_…` id).
pub type WorkId = String;
/// Identifier of an agreement.
pub type AgreementId = String;
/// Identifier of a registered generative model.
pub type ModelId = String;

/// Number of use types, for per-use arrays indexed by `UseType as usize`.
const USES: usize = crate::UseType::ALL.len();
