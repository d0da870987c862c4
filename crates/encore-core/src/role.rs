//! Roles an account can hold in encore.

text_enum! {
    /// What an account is allowed to do.
    pub enum Role ("role") {
        /// Operates the whole service.
        Admin = "admin",
        /// A catalog partner such as a label, publisher or distributor.
        Partner = "partner",
        /// A performer or creator with their own catalog.
        Artist = "artist",
        /// An end user who licenses and creates derivatives.
        Fan = "fan",
        /// A background job runner acting for the service.
        Worker = "worker",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_known_values() {
        assert_eq!(Role::parse("Admin"), Ok(Role::Admin));
        assert_eq!(Role::parse("fan"), Ok(Role::Fan));
        assert_eq!(Role::Worker.as_str(), "worker");
        assert_eq!(Role::ALL.len(), 5);
    }

    #[test]
    fn rejects_unknown_values() {
        let err = Role::parse("root").expect_err("not a role");
        assert_eq!(
            err.message,
            "role must be one of: admin, partner, artist, fan, worker; got 'root'"
        );
    }

    proptest! {
        #[test]
        fn round_trips(i in 0..Role::ALL.len()) {
            let v = Role::ALL[i];
            prop_assert_eq!(Role::parse(&v.to_string()), Ok(v));
        }

        #[test]
        fn random_strings_fail_or_round_trip(s in "\\PC*|[a-zA-Z ]{3,8}") {
            if let Ok(v) = Role::parse(&s) {
                prop_assert_eq!(Role::parse(v.as_str()), Ok(v));
            }
        }
    }
}
