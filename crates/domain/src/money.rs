//! Money: whole minor units (`i64`) of the tenant's ISO 4217 currency; never floats. The
//! currency lives on the tenant, so amounts here carry no code.

use crate::field::FieldError;

/// The largest amount accepted as a price: 10^12 minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An amount of minor units, not negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// An amount given in minor units; `field` names the input.
    pub fn from_minor(field: &str, minor: i64) -> Result<Self, FieldError> {
        if minor < 0 {
            return Err(FieldError::new(field, "negative"));
        }
        if minor > MAX_AMOUNT {
            return Err(FieldError::new(field, "out_of_range")
                .with("min", 0)
                .with("max", MAX_AMOUNT));
        }
        Ok(Self(minor))
    }

    /// The minor units.
    pub fn minor(self) -> i64 {
        self.0
    }

    /// The amount written with `digits` decimals (`12345` with 2 digits is `123.45`).
    pub fn display(self, digits: u16) -> String {
        if digits == 0 {
            return self.0.to_string();
        }
        let scale = 10i64.pow(u32::from(digits));
        format!(
            "{}.{:0width$}",
            self.0 / scale,
            self.0 % scale,
            width = usize::from(digits)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_minor_units_never_negative() {
        assert_eq!(
            Money::from_minor("price", 50_000).unwrap().display(2),
            "500.00"
        );
        assert_eq!(Money::from_minor("price", 7).unwrap().display(2), "0.07");
        assert_eq!(Money::from_minor("price", 500).unwrap().display(0), "500");
        assert_eq!(Money::from_minor("price", -1).unwrap_err().code, "negative");
        assert!(Money::from_minor("price", MAX_AMOUNT + 1).is_err());
    }
}
