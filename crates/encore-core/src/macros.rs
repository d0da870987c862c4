//! Internal macros.

/// Defines a fieldless enum with a lowercase text form, `ALL`, `as_str`, `parse`, `Display`
/// and `FromStr`; `$what` names the concept in parse errors, aliases are extra accepted spellings.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)*, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The canonical lowercase text form.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }

            /// Parses the text form, case-insensitively and ignoring surrounding whitespace.
            pub fn parse(s: &str) -> Result<Self, $crate::ParseError> {
                let s = s.trim();
                match s.to_ascii_lowercase().as_str() {
                    $( $text $(| $alias)* => Ok(Self::$variant), )+
                    _ => {
                        let valid = Self::ALL.map(|v| v.as_str()).join(", ");
                        Err($crate::ParseError::invalid(
                            &format!(concat!($what, " must be one of: {}"), valid),
                            s,
                        ))
                    }
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// Implements `Display` (via `as_str`) and `FromStr` (via `parse`) for a string-backed type.
macro_rules! display_from_str {
    ($name:ident) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
