//! Pure domain types for encore: identifiers, territories, money, ownership splits and
//! enumerations, each validated on construction.
#![warn(missing_docs)]

#[macro_use]
mod macros;

pub mod currency;
pub mod error;
pub mod ids;
pub mod money;
pub mod party_kind;
pub mod rights;
pub mod role;
pub mod share;
pub mod territory;
pub mod use_type;

pub use currency::Currency;
pub use error::ParseError;
pub use ids::{Ipi, Isni, Isrc, Iswc};
pub use money::{Money, allocate_largest_remainder};
pub use party_kind::PartyKind;
pub use role::Role;
pub use share::{Share, Splits, SplitsError};
pub use territory::Territory;
pub use use_type::UseType;
