//! The use table: which owners and which people must agree for each use, as data an operator
//! can change rather than logic in the engine.

use super::USES;
use crate::UseType;

/// Who must agree in the artists column of the use table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArtistRule {
    /// No artist needs to agree.
    NotRequired,
    /// Every main artist of each recording input must agree.
    MainArtists,
    /// The request's `artist` input (whose voice is used) must agree, instead of main artists.
    VoicedArtist,
}

/// One row of the use table: who must agree for one use, for each input ("each").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UseRule {
    /// Every master owner of each recording input must hold an agreement licensing the use.
    pub master_owners: bool,
    /// Every publishing owner of each work performed must hold an agreement licensing the use.
    // "Works performed" are the work inputs and the works linked to recording inputs.
    pub publishing_owners: bool,
    /// Which artists must have opted in through participation.
    pub artists: ArtistRule,
    /// Every writer of each work concerned must have opted in through participation.
    pub writers: bool,
    /// Fewest distinct recording and work inputs a request needs (mashup: two or more).
    pub min_inputs: u8,
}

impl UseRule {
    /// Everyone must agree on each of at least `min_inputs` inputs: the rule for audio uses.
    pub const fn everyone(min_inputs: u8) -> Self {
        Self {
            master_owners: true,
            publishing_owners: true,
            artists: ArtistRule::MainArtists,
            writers: true,
            min_inputs,
        }
    }
}

/// For each use type, who must agree; `UseTable::default()` is the table in product.md.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UseTable {
    rules: [UseRule; USES],
}

impl UseTable {
    /// Builds a table from one rule per use type, so no use can be left without a row.
    pub fn from_fn(mut rule: impl FnMut(UseType) -> UseRule) -> Self {
        Self {
            rules: UseType::ALL.map(&mut rule),
        }
    }

    /// The rule for a use.
    pub fn rule(&self, use_type: UseType) -> &UseRule {
        &self.rules[use_type as usize]
    }

    /// Replaces the rule for a use (an operator's change to the table).
    pub fn set_rule(&mut self, use_type: UseType, rule: UseRule) {
        self.rules[use_type as usize] = rule;
    }

    /// Every row, in `UseType::ALL` order.
    pub fn rows(&self) -> impl Iterator<Item = (UseType, &UseRule)> {
        UseType::ALL.into_iter().zip(self.rules.iter())
    }
}

impl Default for UseTable {
    /// The default table of product.md, "Uses and the rights they need".
    fn default() -> Self {
        Self::from_fn(|use_type| match use_type {
            UseType::Remix | UseType::Extend | UseType::Sample | UseType::Train => {
                UseRule::everyone(1)
            }
            UseType::Mashup => UseRule::everyone(2),
            UseType::Cover => UseRule {
                master_owners: false,
                publishing_owners: true,
                artists: ArtistRule::NotRequired,
                writers: true,
                min_inputs: 1,
            },
            // The input is the artist; the works performed are optional further inputs.
            UseType::Voice => UseRule {
                master_owners: false,
                publishing_owners: true,
                artists: ArtistRule::VoicedArtist,
                writers: true,
                min_inputs: 0,
            },
        })
    }
}
