//! Industry identifiers for recordings (ISRC), works (ISWC) and parties (IPI, ISNI).

use crate::ParseError;

/// International Standard Recording Code, canonically 12 uppercase characters (e.g. USRC17607839).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isrc(String);

impl Isrc {
    /// Parses a compact ("USRC17607839") or hyphenated ("US-RC1-76-07839") ISRC, case-insensitively.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        const EXPECTED: &str = "ISRC must be 12 characters: 2-letter country, 3 alphanumeric \
            registrant, 2-digit year, 5-digit designation (e.g. USRC17607839)";
        let input = s.trim();
        let invalid = || ParseError::invalid(EXPECTED, input);
        let groups: Vec<&str> = input.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        if groups.len() > 1 && lengths != [2, 3, 2, 5] {
            return Err(invalid());
        }
        let compact = groups.concat().to_ascii_uppercase();
        let b = compact.as_bytes();
        let valid = b.len() == 12
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..5].iter().all(u8::is_ascii_alphanumeric)
            && b[5..].iter().all(u8::is_ascii_digit);
        if valid {
            Ok(Self(compact))
        } else {
            Err(invalid())
        }
    }

    /// The canonical compact form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 2-letter country (or registration agency) prefix.
    pub fn country_code(&self) -> &str {
        &self.0[..2]
    }

    /// The 3-character registrant code.
    pub fn registrant_code(&self) -> &str {
        &self.0[2..5]
    }

    /// The 2-digit year of reference.
    pub fn year(&self) -> &str {
        &self.0[5..7]
    }

    /// The 5-digit designation code.
    pub fn designation(&self) -> &str {
        &self.0[7..]
    }
}

display_from_str!(Isrc);

/// International Standard Musical Work Code, canonically "T" plus 10 digits (e.g. T0345246801).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iswc(String);

impl Iswc {
    /// Parses an ISWC such as "T-034.524.680-1" or "T0345246801" and verifies its check digit.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        const EXPECTED: &str = "ISWC must be 'T' followed by a 9-digit work number and a check \
            digit, optionally punctuated (e.g. T-034.524.680-1 or T0345246801)";
        let input = s.trim();
        let digits: String = input
            .strip_prefix(['T', 't'])
            .ok_or_else(|| ParseError::invalid(EXPECTED, input))?
            .chars()
            .filter(|c| !matches!(c, '-' | '.'))
            .collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::invalid(EXPECTED, input));
        }
        let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        if iswc_check_digit(&d[..9]) != d[9] {
            return Err(ParseError::invalid(
                "ISWC check digit (the last digit) does not match the work number; check for a \
                 typo (a valid example is T-034.524.680-1)",
                input,
            ));
        }
        Ok(Self(format!("T{digits}")))
    }

    /// The canonical compact form, "T" plus 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional display form, e.g. "T-034.524.680-1".
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!("T-{}.{}.{}-{}", &s[1..4], &s[4..7], &s[7..10], &s[10..])
    }
}

display_from_str!(Iswc);

/// ISWC check digit: (10 - ((1 + sum of i * d_i for i in 1..=9) mod 10)) mod 10.
fn iswc_check_digit(work: &[u8]) -> u8 {
    let weighted: u32 = (1..).zip(work).map(|(i, &d)| i * u32::from(d)).sum();
    // The result is below 10, so the narrowing cannot truncate.
    ((10 - (1 + weighted) % 10) % 10) as u8
}

/// IPI (Interested Party Information) name number, canonically 11 digits (e.g. 00123456789).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipi(String);

impl Ipi {
    /// Parses 1 to 11 digits, left-padding with zeros to the canonical 11.
    ///
    /// The two trailing check digits are deliberately not verified: CISAC does not publish the
    /// IPI specification, and the only algorithm found (a modulo-101 scheme in one third-party
    /// CWR library) could not be confirmed against an authoritative source. Rejecting a real
    /// rights holder's number would be worse than accepting a mistyped one.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let input = s.trim();
        if input.is_empty() || input.len() > 11 || !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::invalid(
                "IPI name number must be 1 to 11 digits with no other characters (e.g. 00123456789)",
                input,
            ));
        }
        if input.bytes().all(|b| b == b'0') {
            return Err(ParseError::invalid(
                "IPI name number cannot be all zeros; give the party's real 11-digit IPI name number",
                input,
            ));
        }
        Ok(Self(format!("{input:0>11}")))
    }

    /// The canonical 11-digit form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

display_from_str!(Ipi);

/// International Standard Name Identifier, canonically 16 characters (e.g. 0000000121032683).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isni(String);

impl Isni {
    /// Parses 15 digits plus a check digit or 'X', ignoring spaces and hyphens, and verifies the
    /// ISO 7064 MOD 11-2 check character.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        const EXPECTED: &str = "ISNI must be 16 characters: 15 digits then a check digit or X, \
            optionally grouped with spaces or hyphens (e.g. 0000 0001 2103 2683)";
        let input = s.trim();
        let code: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = code.as_bytes();
        let valid = b.len() == 16
            && b[..15].iter().all(u8::is_ascii_digit)
            && (b[15].is_ascii_digit() || b[15] == b'X');
        if !valid {
            return Err(ParseError::invalid(EXPECTED, input));
        }
        if mod11_2_check(&b[..15]) != b[15] {
            return Err(ParseError::invalid(
                "ISNI check character (the last one) does not match the other 15 digits; check \
                 for a typo (a valid example is 0000 0001 2103 2683)",
                input,
            ));
        }
        Ok(Self(code))
    }

    /// The canonical 16-character form without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional display form in groups of four, e.g. "0000 0001 2103 2683".
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
    }
}

display_from_str!(Isni);

/// ISO 7064 MOD 11-2 check character for ASCII digits: b'0'..=b'9' or b'X' (for 10).
fn mod11_2_check(digits: &[u8]) -> u8 {
    let p = digits
        .iter()
        .fold(0u32, |p, &d| (p + u32::from(d - b'0')) * 2 % 11);
    match (12 - p) % 11 {
        10 => b'X',
        // The value is below 10, so the narrowing cannot truncate.
        n => b'0' + n as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn isrc_known_good() {
        let isrc = Isrc::parse("USRC17607839").expect("valid ISRC");
        assert_eq!(isrc.as_str(), "USRC17607839");
        assert_eq!(Isrc::parse(" us-rc1-76-07839 "), Ok(isrc.clone()));
        assert_eq!(
            Isrc::parse("GBAYE0601498")
                .map(|i| i.to_string())
                .as_deref(),
            Ok("GBAYE0601498")
        );
        assert_eq!(isrc.country_code(), "US");
        assert_eq!(isrc.registrant_code(), "RC1");
        assert_eq!(isrc.year(), "76");
        assert_eq!(isrc.designation(), "07839");
    }

    #[test]
    fn isrc_known_bad() {
        for bad in [
            "XX",
            "",
            "USRC1760783",
            "USRC176078390",
            "U1RC17607839",
            "USR!17607839",
            "USRC1760783A",
            "USR-C1-76-07839",
            "US-RC1-7607839",
            "-USRC17607839",
            "ÜSRC17607839",
        ] {
            assert!(Isrc::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            Isrc::parse("XX").expect_err("too short").message,
            "ISRC must be 12 characters: 2-letter country, 3 alphanumeric registrant, 2-digit \
             year, 5-digit designation (e.g. USRC17607839); got 'XX'"
        );
    }

    #[test]
    fn iswc_check_digit_examples() {
        // T-034.524.680-1: 1 + (0*1 + 3*2 + 4*3 + 5*4 + 2*5 + 4*6 + 6*7 + 8*8 + 0*9) = 179 -> 1.
        assert_eq!(iswc_check_digit(&[0, 3, 4, 5, 2, 4, 6, 8, 0]), 1);
        // T-345.246.800-1 is a commonly quoted example, but its check digit should be 3.
        assert_eq!(iswc_check_digit(&[3, 4, 5, 2, 4, 6, 8, 0, 0]), 3);
    }

    #[test]
    fn iswc_known_good() {
        let iswc = Iswc::parse("T-034.524.680-1").expect("valid ISWC");
        assert_eq!(iswc.as_str(), "T0345246801");
        assert_eq!(iswc.formatted(), "T-034.524.680-1");
        for variant in [
            "T0345246801",
            "T-0345246801",
            "t-034524680-1",
            "  T034.524.680-1 ",
        ] {
            assert_eq!(Iswc::parse(variant), Ok(iswc.clone()), "{variant}");
        }
        assert!(Iswc::parse("T-345.246.800-3").is_ok());
    }

    #[test]
    fn iswc_known_bad() {
        for bad in [
            "T-345.246.800-1",
            "T0345246802",
            "0345246801",
            "T034524680",
            "T03452468011",
            "TX345246801",
            "",
        ] {
            assert!(Iswc::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(
            Iswc::parse("T0345246802")
                .expect_err("bad check digit")
                .message
                .starts_with("ISWC check digit")
        );
    }

    #[test]
    fn ipi_pads_and_rejects() {
        assert_eq!(
            Ipi::parse("123456789").map(|i| i.to_string()).as_deref(),
            Ok("00123456789")
        );
        assert_eq!(
            Ipi::parse(" 1 ").map(|i| i.to_string()).as_deref(),
            Ok("00000000001")
        );
        assert_eq!(
            Ipi::parse("12345678901").map(|i| i.to_string()).as_deref(),
            Ok("12345678901")
        );
        for bad in [
            "",
            "123456789012",
            "12 345",
            "1234a",
            "-123",
            "00000000000",
            "0",
            "１２３",
        ] {
            assert!(Ipi::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn isni_known_good() {
        let isni = Isni::parse("0000 0001 2103 2683").expect("valid ISNI");
        assert_eq!(isni.as_str(), "0000000121032683");
        assert_eq!(isni.formatted(), "0000 0001 2103 2683");
        assert_eq!(Isni::parse("0000-0001-2103-2683"), Ok(isni));
        // An ISNI whose check character is X.
        let x = Isni::parse("0000 0001 2281 955x").expect("valid ISNI ending in X");
        assert_eq!(x.as_str(), "000000012281955X");
    }

    #[test]
    fn isni_known_bad() {
        for bad in [
            "0000 0001 2103 2684",
            "0000 0001 2103 268",
            "X000 0001 2103 2683",
            "0000 0001 2103 26831",
            "",
        ] {
            assert!(Isni::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    fn iswc_digits() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(0u8..10, 9)
    }

    fn digits_to_string(d: &[u8]) -> String {
        d.iter().map(|d| char::from(b'0' + d)).collect()
    }

    proptest! {
        #[test]
        fn isrc_round_trips(s in "[A-Za-z]{2}[A-Za-z0-9]{3}[0-9]{7}") {
            let isrc = Isrc::parse(&s).expect("generated ISRC is valid");
            prop_assert_eq!(isrc.as_str(), s.to_ascii_uppercase());
            prop_assert_eq!(Isrc::parse(&isrc.to_string()), Ok(isrc.clone()));
            let hyphenated = format!("{}-{}-{}-{}", &s[..2], &s[2..5], &s[5..7], &s[7..]);
            prop_assert_eq!(Isrc::parse(&hyphenated), Ok(isrc));
        }

        #[test]
        fn isrc_random_fails_or_round_trips(s in "\\PC*|[A-Za-z0-9-]{10,16}") {
            if let Ok(isrc) = Isrc::parse(&s) {
                prop_assert_eq!(Isrc::parse(&isrc.to_string()), Ok(isrc));
            }
        }

        #[test]
        fn iswc_round_trips(work in iswc_digits()) {
            let check = iswc_check_digit(&work);
            let s = format!("T{}{check}", digits_to_string(&work));
            let iswc = Iswc::parse(&s).expect("generated ISWC is valid");
            prop_assert_eq!(Iswc::parse(&iswc.to_string()), Ok(iswc.clone()));
            prop_assert_eq!(Iswc::parse(&iswc.formatted()), Ok(iswc));
        }

        #[test]
        fn iswc_wrong_check_digit_rejected(work in iswc_digits(), offset in 1u8..10) {
            let wrong = (iswc_check_digit(&work) + offset) % 10;
            let s = format!("T{}{wrong}", digits_to_string(&work));
            prop_assert!(Iswc::parse(&s).is_err());
        }

        #[test]
        fn iswc_random_fails_or_round_trips(s in "\\PC*|[Tt][0-9.-]{10,15}") {
            if let Ok(iswc) = Iswc::parse(&s) {
                prop_assert_eq!(Iswc::parse(&iswc.to_string()), Ok(iswc));
            }
        }

        #[test]
        fn ipi_round_trips(n in 1u64..=99_999_999_999) {
            let ipi = Ipi::parse(&n.to_string()).expect("generated IPI is valid");
            prop_assert_eq!(ipi.as_str(), format!("{n:011}"));
            prop_assert_eq!(Ipi::parse(&ipi.to_string()), Ok(ipi));
        }

        #[test]
        fn ipi_random_fails_or_round_trips(s in "\\PC*|[0-9 ]{0,13}") {
            if let Ok(ipi) = Ipi::parse(&s) {
                prop_assert_eq!(Ipi::parse(&ipi.to_string()), Ok(ipi));
            }
        }

        #[test]
        fn isni_round_trips(body in "[0-9]{15}") {
            let check = char::from(mod11_2_check(body.as_bytes()));
            let isni = Isni::parse(&format!("{body}{check}")).expect("generated ISNI is valid");
            prop_assert_eq!(Isni::parse(&isni.to_string()), Ok(isni.clone()));
            prop_assert_eq!(Isni::parse(&isni.formatted()), Ok(isni));
        }

        #[test]
        fn isni_random_fails_or_round_trips(s in "\\PC*|[0-9xX -]{16,20}") {
            if let Ok(isni) = Isni::parse(&s) {
                prop_assert_eq!(Isni::parse(&isni.to_string()), Ok(isni));
            }
        }
    }
}
