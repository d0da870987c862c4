//! The ways a licensee may use a recording or work.

text_enum! {
    /// A kind of use a licence can grant.
    pub enum UseType ("use type") {
        /// Rework the recording into a new arrangement.
        Remix = "remix",
        /// Combine the recording with other recordings.
        Mashup = "mashup",
        /// Lengthen the recording with generated continuation.
        Extend = "extend",
        /// Take excerpts of the recording into a new piece.
        Sample = "sample",
        /// Perform or generate a new recording of the work.
        Cover = "cover",
        /// Use an artist's voice likeness.
        Voice = "voice",
        /// Use the recording as model training data.
        Train = "train",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_known_values() {
        assert_eq!(UseType::parse("remix"), Ok(UseType::Remix));
        assert_eq!(UseType::parse(" TRAIN "), Ok(UseType::Train));
        assert_eq!(UseType::parse("Mashup"), Ok(UseType::Mashup));
        assert_eq!(UseType::Voice.to_string(), "voice");
        assert_eq!(UseType::ALL.len(), 7);
    }

    #[test]
    fn rejects_unknown_values_listing_valid_ones() {
        let err = UseType::parse("stream").expect_err("not a use type");
        assert_eq!(
            err.message,
            "use type must be one of: remix, mashup, extend, sample, cover, voice, train; got 'stream'"
        );
        assert!(UseType::parse("").is_err());
    }

    proptest! {
        #[test]
        fn round_trips(i in 0..UseType::ALL.len()) {
            let v = UseType::ALL[i];
            prop_assert_eq!(UseType::parse(&v.to_string()), Ok(v));
        }

        #[test]
        fn random_strings_fail_or_round_trip(s in "\\PC*|[a-zA-Z ]{4,8}") {
            if let Ok(v) = UseType::parse(&s) {
                prop_assert_eq!(UseType::parse(v.as_str()), Ok(v));
            }
        }
    }
}
