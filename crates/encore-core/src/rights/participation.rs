//! Participation: how people (artists, writers) opt in to uses, per use type with optional
//! per-recording and per-work overrides. Unset means no.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use super::{Key, RecordingId, USES, WorkId};
use crate::UseType;

text_enum! {
    /// A person's answer for a use.
    pub enum Choice ("participation") {
        /// Allowed.
        Allow = "allow",
        /// Refused; one refusal denies the whole use.
        Deny = "deny",
        /// Allowed, but each derivative waits for this person's approval before it is public.
        Approve = "approve",
    }
}

impl Choice {
    /// Higher is more restrictive, so that among overlapping overrides a "no" wins.
    fn strictness(self) -> u8 {
        match self {
            Self::Allow => 0,
            Self::Approve => 1,
            Self::Deny => 2,
        }
    }
}

/// A person's answer for one use type: a default and overrides for particular items.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UseParticipation {
    /// The answer for items without an override; `None` (unset) means no.
    pub default: Option<Choice>,
    /// Overrides for particular recordings.
    pub recordings: BTreeMap<RecordingId, Choice>,
    /// Overrides for particular works, which also apply to every recording embodying them.
    pub works: BTreeMap<WorkId, Choice>,
}

/// One person's participation across all use types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Participation {
    per_use: [UseParticipation; USES],
}

impl Participation {
    /// Participation with nothing set: every use is refused until opted in.
    pub fn new() -> Self {
        Self::default()
    }

    /// The answers for one use.
    pub fn for_use(&self, use_type: UseType) -> &UseParticipation {
        &self.per_use[use_type as usize]
    }

    /// The answers for one use, to change them.
    pub fn for_use_mut(&mut self, use_type: UseType) -> &mut UseParticipation {
        &mut self.per_use[use_type as usize]
    }

    /// Sets (or with `None`, unsets) the default answer for a use.
    pub fn set(&mut self, use_type: UseType, choice: Option<Choice>) -> &mut Self {
        self.for_use_mut(use_type).default = choice;
        self
    }

    /// Builder form of [`Participation::set`] with a definite answer.
    pub fn with(mut self, use_type: UseType, choice: Choice) -> Self {
        self.set(use_type, Some(choice));
        self
    }

    /// The answer that applies when `recording` (if any) embodying `works` is used.
    // Overrides are more specific than the default, so any override for the recording or one
    // of its works replaces it; when several apply the most restrictive wins ("a no wins").
    pub fn effective(
        &self,
        use_type: UseType,
        recording: Option<&str>,
        works: &[Key],
    ) -> Option<Choice> {
        let per_use = self.for_use(use_type);
        let mut strictest: Option<Choice> = None;
        let mut consider = |c: Choice| {
            if strictest.is_none_or(|s| c.strictness() > s.strictness()) {
                strictest = Some(c);
            }
        };
        if let Some(&c) = recording.and_then(|r| per_use.recordings.get(r)) {
            consider(c);
        }
        for w in works {
            if let Some(&c) = per_use.works.get(w.as_str()) {
                consider(c);
            }
        }
        strictest.or(per_use.default)
    }
}

/// Read access to people's participation.
pub trait ParticipationView {
    /// The participation of a party; `None` when it never set any (everything refused).
    fn participation(&self, party: &str) -> Option<&Participation>;
}

impl<K, S> ParticipationView for HashMap<K, Participation, S>
where
    K: Borrow<str> + Hash + Eq,
    S: BuildHasher,
{
    fn participation(&self, party: &str) -> Option<&Participation> {
        self.get(party)
    }
}

/// Shared documents, as a store's in-memory copies hand them out without copying them.
impl<K, S> ParticipationView for HashMap<K, std::sync::Arc<Participation>, S>
where
    K: Borrow<str> + Hash + Eq,
    S: BuildHasher,
{
    fn participation(&self, party: &str) -> Option<&Participation> {
        self.get(party).map(|p| &**p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_is_none_and_overrides_replace_the_default() {
        let mut p = Participation::new().with(UseType::Remix, Choice::Allow);
        assert_eq!(p.effective(UseType::Cover, None, &[]), None);
        assert_eq!(
            p.effective(UseType::Remix, Some("r1"), &[]),
            Some(Choice::Allow)
        );
        let remix = p.for_use_mut(UseType::Remix);
        remix.recordings.insert("r1".into(), Choice::Approve);
        remix.works.insert("w1".into(), Choice::Deny);
        remix.works.insert("w2".into(), Choice::Allow);
        assert_eq!(
            p.effective(UseType::Remix, Some("r1"), &[]),
            Some(Choice::Approve)
        );
        let w1 = [Key::new("w1")];
        assert_eq!(
            p.effective(UseType::Remix, Some("r1"), &w1),
            Some(Choice::Deny)
        );
        let w2 = [Key::new("w2")];
        assert_eq!(p.effective(UseType::Remix, None, &w2), Some(Choice::Allow));
        assert_eq!(
            p.effective(UseType::Remix, Some("r1"), &w2),
            Some(Choice::Approve)
        );
        p.set(UseType::Remix, None);
        assert_eq!(p.effective(UseType::Remix, Some("r9"), &[]), None);
        assert_eq!(Choice::parse("APPROVE"), Ok(Choice::Approve));
    }
}
