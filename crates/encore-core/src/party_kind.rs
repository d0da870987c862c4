//! Whether a party is a natural person or an organisation.

text_enum! {
    /// The legal nature of a party.
    pub enum PartyKind ("party kind") {
        /// A natural person.
        Person = "person",
        /// A company, society or other organisation ("organization" is also accepted).
        Organisation = "organisation" | "organization",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_spellings() {
        assert_eq!(PartyKind::parse("person"), Ok(PartyKind::Person));
        assert_eq!(
            PartyKind::parse("Organisation"),
            Ok(PartyKind::Organisation)
        );
        assert_eq!(
            PartyKind::parse("ORGANIZATION"),
            Ok(PartyKind::Organisation)
        );
        assert_eq!(PartyKind::Organisation.to_string(), "organisation");
    }

    #[test]
    fn rejects_unknown_values() {
        let err = PartyKind::parse("company").expect_err("not a party kind");
        assert_eq!(
            err.message,
            "party kind must be one of: person, organisation; got 'company'"
        );
    }

    proptest! {
        #[test]
        fn round_trips(i in 0..PartyKind::ALL.len()) {
            let v = PartyKind::ALL[i];
            prop_assert_eq!(PartyKind::parse(&v.to_string()), Ok(v));
        }

        #[test]
        fn random_strings_fail_or_round_trip(s in "\\PC*|[a-zA-Z]{6,12}") {
            if let Ok(v) = PartyKind::parse(&s) {
                prop_assert_eq!(PartyKind::parse(v.as_str()), Ok(v));
            }
        }
    }
}
