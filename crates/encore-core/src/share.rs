//! Ownership shares in parts per million and validated splits among parties.

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

use crate::{ParseError, allocate_largest_remainder};

/// A fraction of ownership in parts per million, from 0 (0%) to 1_000_000 (100%).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Share(u32);

impl Share {
    /// Parts per million in a whole (100%).
    const PPM: u32 = 1_000_000;

    /// No ownership (0%).
    pub const ZERO: Share = Share(0);

    /// Full ownership (100%).
    pub const FULL: Share = Share(Self::PPM);

    /// Creates a share from parts per million, which must not exceed 1_000_000.
    pub fn from_ppm(ppm: u32) -> Result<Share, ParseError> {
        if ppm <= Self::PPM {
            Ok(Share(ppm))
        } else {
            Err(ParseError::new(format!(
                "share must be between 0 and 1000000 parts per million (0% to 100%); got {ppm}"
            )))
        }
    }

    /// The share in parts per million.
    pub fn ppm(&self) -> u32 {
        self.0
    }

    /// Parses a percentage with up to 4 decimal places, such as "50%" or "33.3333%".
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let input = s.trim();
        let invalid = || {
            ParseError::invalid(
                "share must be a percentage from 0% to 100% with at most 4 decimal places \
                 (e.g. 50% or 33.3333%)",
                input,
            )
        };
        let number = input.strip_suffix('%').ok_or_else(invalid)?;
        let (whole, frac) = number.split_once('.').unwrap_or((number, "0"));
        let is_digits = |p: &str, max: usize| {
            (1..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
        };
        if !is_digits(whole, 3) || !is_digits(frac, 4) {
            return Err(invalid());
        }
        let whole: u32 = whole.parse().map_err(|_| invalid())?;
        let frac: u32 = format!("{frac:0<4}").parse().map_err(|_| invalid())?;
        Self::from_ppm(whole * 10_000 + frac).map_err(|_| invalid())
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 10_000, self.0 % 10_000);
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let frac = format!("{frac:04}");
            write!(f, "{whole}.{}%", frac.trim_end_matches('0'))
        }
    }
}

impl FromStr for Share {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a list of (party, share) entries is not a valid split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitsError {
    /// The list has no entries.
    #[error("splits must name at least one party")]
    Empty,
    /// The shares do not add up to 100%.
    #[error("shares must total exactly 1000000 parts per million (100%); these total {total_ppm}")]
    BadTotal {
        /// The actual total in parts per million.
        total_ppm: u64,
    },
    /// A party is listed twice.
    #[error("party appears more than once in the splits")]
    DuplicateParty {
        /// Position of the repeated entry.
        index: usize,
    },
    /// An entry has a zero share.
    #[error("a share must be greater than zero")]
    ZeroShare {
        /// Position of the zero entry.
        index: usize,
    },
}

impl SplitsError {
    /// Position of the offending entry, when the error concerns a single entry.
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::DuplicateParty { index } | Self::ZeroShare { index } => Some(*index),
            Self::Empty | Self::BadTotal { .. } => None,
        }
    }
}

/// A non-empty list of distinct parties with non-zero shares totalling exactly 100%.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Splits<P> {
    entries: Vec<(P, Share)>,
}

impl<P: Clone + Eq + Hash> Splits<P> {
    /// Validates the entries; the first offending entry (in order) is reported.
    pub fn new(entries: Vec<(P, Share)>) -> Result<Self, SplitsError> {
        if entries.is_empty() {
            return Err(SplitsError::Empty);
        }
        let mut seen = HashSet::with_capacity(entries.len());
        for (index, (party, share)) in entries.iter().enumerate() {
            if *share == Share::ZERO {
                return Err(SplitsError::ZeroShare { index });
            }
            if !seen.insert(party) {
                return Err(SplitsError::DuplicateParty { index });
            }
        }
        let total_ppm: u64 = entries.iter().map(|(_, s)| u64::from(s.ppm())).sum();
        if total_ppm != u64::from(Share::FULL.ppm()) {
            return Err(SplitsError::BadTotal { total_ppm });
        }
        Ok(Self { entries })
    }

    /// The entries in their original order.
    pub fn entries(&self) -> &[(P, Share)] {
        &self.entries
    }

    /// The parties holding a share, in the entries' order.
    pub fn parties(&self) -> impl Iterator<Item = &P> {
        self.entries.iter().map(|(p, _)| p)
    }

    /// The same splits with each party mapped by `f`, which must map distinct parties to
    /// distinct parties (a change of representation, such as `String` to a compact key).
    pub fn map_parties<Q: Clone + Eq + Hash>(&self, mut f: impl FnMut(&P) -> Q) -> Splits<Q> {
        let entries: Vec<(Q, Share)> = self.entries.iter().map(|(p, s)| (f(p), *s)).collect();
        debug_assert!(
            entries
                .iter()
                .enumerate()
                .all(|(i, (q, _))| !entries[..i].iter().any(|(r, _)| r == q)),
            "map_parties must keep parties distinct"
        );
        Splits { entries }
    }

    /// Consumes the splits, returning the entries.
    pub fn into_entries(self) -> Vec<(P, Share)> {
        self.entries
    }

    /// The share held by a party, if it is in the splits.
    pub fn share_of(&self, p: &P) -> Option<Share> {
        self.entries.iter().find(|(q, _)| q == p).map(|(_, s)| *s)
    }

    /// Number of parties.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: splits are never empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Divides a non-negative integer amount among the parties exactly, in entry order.
    ///
    /// Uses [`allocate_largest_remainder`]; panics if `total` is negative.
    pub fn allocate(&self, total: i64) -> Vec<(&P, i64)> {
        let weights: Vec<u32> = self.entries.iter().map(|(_, s)| s.ppm()).collect();
        self.entries
            .iter()
            .zip(allocate_largest_remainder(total, &weights))
            .map(|((p, _), amount)| (p, amount))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn share(ppm: u32) -> Share {
        Share::from_ppm(ppm).expect("valid ppm")
    }

    #[test]
    fn share_bounds_and_display() {
        assert_eq!(Share::FULL.ppm(), 1_000_000);
        assert!(Share::from_ppm(1_000_001).is_err());
        assert_eq!(share(500_000).to_string(), "50%");
        assert_eq!(share(333_333).to_string(), "33.3333%");
        assert_eq!(share(1).to_string(), "0.0001%");
        assert_eq!(share(125_000).to_string(), "12.5%");
        assert_eq!(Share::ZERO.to_string(), "0%");
        assert_eq!(Share::FULL.to_string(), "100%");
    }

    #[test]
    fn share_parse() {
        assert_eq!(Share::parse("50%"), Ok(share(500_000)));
        assert_eq!(Share::parse(" 33.3333% "), Ok(share(333_333)));
        assert_eq!(Share::parse("12.5%"), Ok(share(125_000)));
        assert_eq!(Share::parse("100.0000%"), Ok(Share::FULL));
        for bad in [
            "50",
            "100.0001%",
            "101%",
            "33.33333%",
            ".5%",
            "5.%",
            "-1%",
            "1e2%",
            "%",
            "",
            "1000%",
        ] {
            assert!(Share::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn splits_valid() {
        let splits =
            Splits::new(vec![("a", share(600_000)), ("b", share(400_000))]).expect("valid splits");
        assert_eq!(splits.len(), 2);
        assert!(!splits.is_empty());
        assert_eq!(splits.share_of(&"b"), Some(share(400_000)));
        assert_eq!(splits.share_of(&"c"), None);
        assert_eq!(splits.entries()[0].0, "a");
        assert_eq!(splits.allocate(101), vec![(&"a", 61), (&"b", 40)]);
        assert_eq!(splits.into_entries().len(), 2);
        assert!(Splits::new(vec![(1, Share::FULL)]).is_ok());
    }

    #[test]
    fn splits_invalid() {
        assert_eq!(Splits::<u8>::new(vec![]), Err(SplitsError::Empty));
        let bad_total = Splits::new(vec![(1, share(500_000)), (2, share(400_000))]);
        assert_eq!(bad_total, Err(SplitsError::BadTotal { total_ppm: 900_000 }));
        let dup = Splits::new(vec![
            (1, share(500_000)),
            (2, share(250_000)),
            (1, share(250_000)),
        ]);
        assert_eq!(dup, Err(SplitsError::DuplicateParty { index: 2 }));
        let zero = Splits::new(vec![(1, Share::FULL), (2, Share::ZERO)]);
        assert_eq!(zero, Err(SplitsError::ZeroShare { index: 1 }));
        assert_eq!(SplitsError::ZeroShare { index: 1 }.index(), Some(1));
        assert_eq!(SplitsError::BadTotal { total_ppm: 0 }.index(), None);
        assert_eq!(
            SplitsError::BadTotal { total_ppm: 900_000 }.to_string(),
            "shares must total exactly 1000000 parts per million (100%); these total 900000"
        );
    }

    /// Lists that often total exactly 1_000_000: a random partition, optionally perturbed.
    fn entries() -> impl Strategy<Value = Vec<(u8, u32)>> {
        let partition = proptest::collection::vec((0u8..8, 0u32..=1_000_000), 1..6).prop_map(|v| {
            let mut cuts: Vec<u32> = v.iter().map(|(_, c)| *c).collect();
            cuts.sort_unstable();
            let mut prev = 0;
            let mut out = Vec::with_capacity(v.len());
            for (i, (party, _)) in v.iter().enumerate() {
                let end = if i + 1 == v.len() { 1_000_000 } else { cuts[i] };
                out.push((*party, end - prev));
                prev = end;
            }
            out
        });
        let arbitrary = proptest::collection::vec((0u8..8, 0u32..=1_000_000), 0..6);
        prop_oneof![3 => partition, 1 => arbitrary]
    }

    proptest! {
        #[test]
        fn share_round_trips(ppm in 0u32..=1_000_000) {
            let s = share(ppm);
            prop_assert_eq!(Share::parse(&s.to_string()), Ok(s));
        }

        #[test]
        fn share_random_fails_or_round_trips(s in "\\PC*|[0-9]{1,3}(\\.[0-9]{1,5})?%") {
            if let Ok(share) = Share::parse(&s) {
                prop_assert_eq!(Share::parse(&share.to_string()), Ok(share));
            }
        }

        #[test]
        fn splits_accept_exactly_valid_lists(raw in entries()) {
            let entries: Vec<(u8, Share)> = raw.iter().map(|&(p, s)| (p, share(s))).collect();
            let total: u64 = raw.iter().map(|&(_, s)| u64::from(s)).sum();
            let distinct = raw.iter().map(|(p, _)| p).collect::<HashSet<_>>().len() == raw.len();
            let no_zero = raw.iter().all(|&(_, s)| s > 0);
            let expected_ok = !raw.is_empty() && total == 1_000_000 && distinct && no_zero;
            let result = Splits::new(entries.clone());
            prop_assert_eq!(result.is_ok(), expected_ok);
            if let Ok(splits) = result {
                prop_assert_eq!(splits.entries(), &entries[..]);
            }
        }
    }
}
