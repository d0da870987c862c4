//! ISO 4217 currencies with their minor-unit exponents.

use crate::ParseError;

/// Active ISO 4217 alphabetic codes with minor-unit exponents, sorted for binary search.
///
/// Based on Debian iso-codes 4.15 plus amendments 176-177 (XCG and ZWG added, HRK withdrawn).
/// Codes ISO lists with no minor unit ("N.A.": funds, precious metals, XXX) have exponent 0.
#[rustfmt::skip]
const CURRENCIES: [(&str, u8); 182] = [
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2),
    ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2), ("CHW", 2), ("CLF", 4),
    ("CLP", 0), ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2), ("CUC", 2), ("CUP", 2), ("CVE", 2),
    ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2),
    ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2),
    ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2),
    ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0),
    ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2),
    ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2),
    ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2),
    ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MXV", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2),
    ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2),
    ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2),
    ("SLE", 2), ("SLL", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2),
    ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2),
    ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0), ("UYU", 2),
    ("UYW", 4), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0),
    ("XAG", 0), ("XAU", 0), ("XBA", 0), ("XBB", 0), ("XBC", 0), ("XBD", 0), ("XCD", 2), ("XCG", 2),
    ("XDR", 0), ("XOF", 0), ("XPD", 0), ("XPF", 0), ("XPT", 0), ("XSU", 0), ("XTS", 0), ("XUA", 0),
    ("XXX", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2), ("ZWL", 2),
];

/// An active ISO 4217 currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    minor_units: u8,
}

impl Currency {
    /// United States dollar.
    pub const USD: Self = Self {
        code: "USD",
        minor_units: 2,
    };
    /// Euro.
    pub const EUR: Self = Self {
        code: "EUR",
        minor_units: 2,
    };
    /// Pound sterling.
    pub const GBP: Self = Self {
        code: "GBP",
        minor_units: 2,
    };

    /// Parses an active ISO 4217 alphabetic code, case-insensitively.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let input = s.trim();
        let code = input.to_ascii_uppercase();
        CURRENCIES
            .binary_search_by(|(c, _)| c.cmp(&code.as_str()))
            .map(|i| {
                let (code, minor_units) = CURRENCIES[i];
                Self { code, minor_units }
            })
            .map_err(|_| {
                ParseError::invalid(
                    "currency must be an active ISO 4217 three-letter code (e.g. USD, EUR, JPY)",
                    input,
                )
            })
    }

    /// The canonical uppercase code.
    pub fn as_str(&self) -> &str {
        self.code
    }

    /// Number of decimal places of the minor unit (USD 2, JPY 0, KWD 3; 0 where ISO defines none).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }
}

display_from_str!(Currency);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn units(code: &str) -> u32 {
        Currency::parse(code).expect("known currency").minor_units()
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CURRENCIES.iter().all(|(c, u)| {
            c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) && *u <= 4
        }));
    }

    #[test]
    fn constants_match_table() {
        for c in [Currency::USD, Currency::EUR, Currency::GBP] {
            assert_eq!(Currency::parse(c.as_str()), Ok(c));
        }
    }

    #[test]
    fn known_good_with_minor_units() {
        assert_eq!(
            Currency::parse(" usd ").map(|c| c.to_string()).as_deref(),
            Ok("USD")
        );
        assert_eq!(units("USD"), 2);
        assert_eq!(units("EUR"), 2);
        assert_eq!(units("JPY"), 0);
        assert_eq!(units("KRW"), 0);
        assert_eq!(units("KWD"), 3);
        assert_eq!(units("BHD"), 3);
        assert_eq!(units("CLF"), 4);
        assert_eq!(units("UYW"), 4);
        assert_eq!(units("XCG"), 2);
        assert_eq!(units("ZWG"), 2);
        assert_eq!(units("XAU"), 0);
    }

    #[test]
    fn known_bad() {
        // HRK, DEM, FRF and VEF were withdrawn; BTC is not an ISO 4217 code.
        for bad in ["HRK", "DEM", "FRF", "VEF", "BTC", "US", "USDD", "", "€"] {
            assert!(Currency::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            Currency::parse("btc").expect_err("not ISO").message,
            "currency must be an active ISO 4217 three-letter code (e.g. USD, EUR, JPY); got 'btc'"
        );
    }

    proptest! {
        #[test]
        fn round_trips(i in 0..CURRENCIES.len()) {
            let c = Currency::parse(CURRENCIES[i].0).expect("table entry parses");
            prop_assert_eq!(Currency::parse(&c.to_string()), Ok(c));
        }

        #[test]
        fn random_fails_or_round_trips(s in "\\PC*|[A-Za-z]{3}") {
            if let Ok(c) = Currency::parse(&s) {
                prop_assert_eq!(Currency::parse(c.as_str()), Ok(c));
            }
        }
    }
}
