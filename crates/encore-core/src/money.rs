//! Money in micro-units and exact integer allocation.

use std::fmt;
use std::str::FromStr;

use crate::{Currency, ParseError};

/// Micro-units in one unit of any currency.
const MICROS_PER_UNIT: i64 = 1_000_000;

/// An amount of a currency in micro-units (1 unit = 1_000_000 micros, whatever the currency).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in millionths of a currency unit.
    pub amount_micros: i64,
    /// The currency of the amount.
    pub currency: Currency,
}

impl Money {
    /// Creates an amount of `currency` from micro-units.
    pub const fn new(amount_micros: i64, currency: Currency) -> Self {
        Self {
            amount_micros,
            currency,
        }
    }

    /// Adds two amounts, or `None` if the currencies differ or the sum overflows.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        let amount_micros = self.amount_micros.checked_add(other.amount_micros)?;
        Some(Self::new(amount_micros, self.currency))
    }

    /// Parses an amount with up to 6 decimal places and a currency code, e.g. "12.345678 USD".
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let input = s.trim();
        let invalid = || {
            ParseError::invalid(
                "money must be an amount with at most 6 decimal places followed by an ISO 4217 \
                 currency code (e.g. 12.345678 USD)",
                input,
            )
        };
        let mut tokens = input.split_whitespace();
        let (Some(amount), Some(currency), None) = (tokens.next(), tokens.next(), tokens.next())
        else {
            return Err(invalid());
        };
        let currency = Currency::parse(currency).map_err(|_| invalid())?;
        let (negative, unsigned) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
        let is_digits = |p: &str, max: usize| {
            (1..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
        };
        if !is_digits(whole, 19) || !is_digits(frac, 6) {
            return Err(invalid());
        }
        let whole: i128 = whole.parse().map_err(|_| invalid())?;
        let frac: i128 = format!("{frac:0<6}").parse().map_err(|_| invalid())?;
        let magnitude = whole * i128::from(MICROS_PER_UNIT) + frac;
        let micros = if negative { -magnitude } else { magnitude };
        let amount_micros = i64::try_from(micros).map_err(|_| invalid())?;
        Ok(Self::new(amount_micros, currency))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount_micros < 0 { "-" } else { "" };
        let magnitude = self.amount_micros.unsigned_abs();
        let per_unit = MICROS_PER_UNIT.unsigned_abs();
        let (whole, frac) = (magnitude / per_unit, magnitude % per_unit);
        write!(f, "{sign}{whole}.{frac:06} {}", self.currency)
    }
}

impl FromStr for Money {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Divides a non-negative `total` among `weights` exactly by the largest remainder method.
///
/// Each part is the floor of its proportional value, and the units left over go one each to
/// the parts with the largest remainders (ties to the lower index), so the parts sum to `total`
/// and each differs from its exact proportional value by less than 1.
///
/// # Panics
/// If `total` is negative, or `weights` is empty or all zero (programmer errors).
pub fn allocate_largest_remainder(total: i64, weights: &[u32]) -> Vec<i64> {
    assert!(
        total >= 0,
        "allocate_largest_remainder: total must be non-negative, got {total}"
    );
    let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    assert!(
        weight_sum > 0,
        "allocate_largest_remainder: weights must not be empty or all zero"
    );
    let total = i128::from(total);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, &w) in weights.iter().enumerate() {
        let exact = total * i128::from(w);
        parts.push(exact / weight_sum);
        remainders.push((exact % weight_sum, index));
    }
    let leftover = total - parts.iter().sum::<i128>();
    // Largest remainder first; equal remainders keep the lower index first.
    remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, index) in remainders
        .iter()
        .take(usize::try_from(leftover).unwrap_or(usize::MAX))
    {
        parts[index] += 1;
    }
    // Every part lies between 0 and `total`, which came from an i64.
    parts.into_iter().map(|p| p as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(amount_micros: i64) -> Money {
        Money::new(amount_micros, Currency::USD)
    }

    #[test]
    fn display() {
        assert_eq!(usd(12_345_678).to_string(), "12.345678 USD");
        assert_eq!(usd(0).to_string(), "0.000000 USD");
        assert_eq!(usd(-500_000).to_string(), "-0.500000 USD");
        assert_eq!(usd(i64::MIN).to_string(), "-9223372036854.775808 USD");
        assert_eq!(usd(i64::MAX).to_string(), "9223372036854.775807 USD");
    }

    #[test]
    fn parse() {
        assert_eq!(Money::parse("12.345678 USD"), Ok(usd(12_345_678)));
        assert_eq!(Money::parse(" 5   usd "), Ok(usd(5_000_000)));
        assert_eq!(Money::parse("-0.5 USD"), Ok(usd(-500_000)));
        assert_eq!(Money::parse("-9223372036854.775808 USD"), Ok(usd(i64::MIN)));
        let jpy = Currency::parse("JPY").expect("JPY");
        assert_eq!(Money::parse("100 JPY"), Ok(Money::new(100_000_000, jpy)));
        for bad in [
            "12.3456789 USD",
            "12 BTC",
            "USD 12",
            "12",
            "1.2.3 USD",
            "+1 USD",
            ". USD",
            "1. USD",
            "9223372036854.775808 USD",
            "12 USD EUR",
            "",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn checked_add() {
        assert_eq!(usd(1).checked_add(usd(2)), Some(usd(3)));
        assert_eq!(usd(i64::MAX).checked_add(usd(1)), None);
        assert_eq!(usd(1).checked_add(Money::new(1, Currency::EUR)), None);
    }

    #[test]
    fn allocate_examples() {
        assert_eq!(
            allocate_largest_remainder(100, &[1, 1, 1]),
            vec![34, 33, 33]
        );
        assert_eq!(allocate_largest_remainder(2, &[1, 1, 1]), vec![1, 1, 0]);
        assert_eq!(allocate_largest_remainder(10, &[0, 1, 0]), vec![0, 10, 0]);
        assert_eq!(allocate_largest_remainder(0, &[3, 7]), vec![0, 0]);
        assert_eq!(allocate_largest_remainder(7, &[1, 2, 2]), vec![1, 3, 3]);
        assert_eq!(
            allocate_largest_remainder(i64::MAX, &[u32::MAX, u32::MAX]),
            vec![i64::MAX / 2 + 1, i64::MAX / 2]
        );
    }

    #[test]
    #[should_panic(expected = "empty or all zero")]
    fn allocate_rejects_all_zero_weights() {
        allocate_largest_remainder(10, &[0, 0]);
    }

    #[test]
    #[should_panic(expected = "empty or all zero")]
    fn allocate_rejects_empty_weights() {
        allocate_largest_remainder(10, &[]);
    }

    #[test]
    #[should_panic(expected = "non-negative")]
    fn allocate_rejects_negative_total() {
        allocate_largest_remainder(-1, &[1]);
    }

    proptest! {
        #[test]
        fn money_round_trips(amount in any::<i64>(), i in 0usize..3) {
            let currency = [Currency::USD, Currency::EUR, Currency::GBP][i];
            let money = Money::new(amount, currency);
            prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }

        #[test]
        fn money_random_fails_or_round_trips(s in "\\PC*|-?[0-9]{1,20}(\\.[0-9]{0,7})? [A-Za-z]{3}") {
            if let Ok(money) = Money::parse(&s) {
                prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
            }
        }

        #[test]
        fn allocation_is_exact_and_fair(
            total in prop_oneof![0i64..1_000, 0i64..=i64::MAX],
            weights in proptest::collection::vec(prop_oneof![0u32..4, any::<u32>()], 1..8)
                .prop_filter("weights must not all be zero", |w| w.iter().any(|&x| x > 0)),
        ) {
            let parts = allocate_largest_remainder(total, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().map(|&p| i128::from(p)).sum::<i128>(), i128::from(total));
            let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            for (&part, &w) in parts.iter().zip(&weights) {
                // |part - total * w / weight_sum| < 1, scaled by weight_sum to stay in integers.
                let diff = i128::from(part) * weight_sum - i128::from(total) * i128::from(w);
                prop_assert!(diff.abs() < weight_sum, "part {} for weight {} is off", part, w);
            }
        }
    }
}
