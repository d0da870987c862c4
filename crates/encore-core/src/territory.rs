//! Territories: ISO 3166-1 alpha-2 country codes plus "WW" for the whole world.

use crate::ParseError;

/// Code meaning the whole world.
const WORLD: &str = "WW";

/// Currently assigned ISO 3166-1 alpha-2 codes, sorted for binary search (Debian iso-codes 4.15).
#[rustfmt::skip]
const CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// A licensing territory: an ISO 3166-1 alpha-2 country or "WW" for the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Territory(&'static str);

impl Territory {
    /// The whole world ("WW").
    pub const fn world() -> Self {
        Self(WORLD)
    }

    /// Whether this is the whole world rather than a single country.
    pub fn is_world(&self) -> bool {
        self.0 == WORLD
    }

    /// Parses an ISO 3166-1 alpha-2 code or "WW", case-insensitively.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let input = s.trim();
        let code = input.to_ascii_uppercase();
        if code == WORLD {
            return Ok(Self::world());
        }
        CODES
            .binary_search(&code.as_str())
            .map(|i| Self(CODES[i]))
            .map_err(|_| {
                ParseError::invalid(
                    "territory must be an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE) or \
                     WW for the whole world",
                    input,
                )
            })
    }

    /// The canonical uppercase code.
    pub fn as_str(&self) -> &str {
        self.0
    }
}

display_from_str!(Territory);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(
            CODES
                .iter()
                .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
        assert!(CODES.binary_search(&WORLD).is_err());
    }

    #[test]
    fn known_good() {
        assert_eq!(
            Territory::parse("us").map(|t| t.to_string()).as_deref(),
            Ok("US")
        );
        assert_eq!(
            Territory::parse(" GB ")
                .map(|t| t.as_str().to_owned())
                .as_deref(),
            Ok("GB")
        );
        for code in ["AD", "ZW", "SS", "BQ"] {
            assert!(Territory::parse(code).is_ok(), "{code}");
        }
        let world = Territory::parse("ww").expect("world");
        assert!(world.is_world());
        assert_eq!(world, Territory::world());
        assert!(!Territory::parse("FR").expect("France").is_world());
    }

    #[test]
    fn known_bad() {
        // UK, EU and XK are common but not assigned ISO 3166-1 codes; AN and YU were withdrawn.
        for bad in ["UK", "EU", "XK", "AN", "YU", "USA", "U", "", "1A", "ÜS"] {
            assert!(Territory::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            Territory::parse("uk").expect_err("not ISO").message,
            "territory must be an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE) or WW for \
             the whole world; got 'uk'"
        );
    }

    proptest! {
        #[test]
        fn round_trips(i in 0..=CODES.len()) {
            let t = if i == CODES.len() { Territory::world() } else { Territory(CODES[i]) };
            prop_assert_eq!(Territory::parse(&t.to_string()), Ok(t));
        }

        #[test]
        fn random_fails_or_round_trips(s in "\\PC*|[A-Za-z]{2}") {
            if let Ok(t) = Territory::parse(&s) {
                prop_assert_eq!(Territory::parse(t.as_str()), Ok(t));
            }
        }
    }
}
