//! The single error type returned by every parser in this crate.

/// A value could not be parsed; the message says what is wrong and what a valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Human-readable explanation, without any field name (the caller adds the field path).
    pub message: String,
}

impl ParseError {
    /// Creates an error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// Creates an error of the form "{expected}; got '{input}'", shortening very long input.
    pub(crate) fn invalid(expected: &str, input: &str) -> Self {
        const MAX_ECHO: usize = 40;
        let mut echoed: String = input.chars().take(MAX_ECHO).collect();
        if input.chars().nth(MAX_ECHO).is_some() {
            echoed.push('…');
        }
        Self::new(format!("{expected}; got '{echoed}'"))
    }
}
