//! The coded enumerations as clap values: their words show in `--help`
//! and in clap's error, in any case, and their stored codes still parse.
use crate::domain::{CustomerStatus, CustomerType, Privilege};
use clap::ValueEnum;
use clap::builder::PossibleValue;

/// A stored code as a `&'static str`, for an alias (codes are 1 to 4).
fn code_alias(code: i32) -> &'static str {
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
        .get(usize::try_from(code).unwrap_or(0))
        .copied()
        .unwrap_or("0")
}

macro_rules! value_enum {
    ($t:ty) => {
        impl ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                <$t>::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.as_str()).alias(code_alias(self.code())))
            }
        }
    };
}

value_enum!(CustomerType);
value_enum!(CustomerStatus);
value_enum!(Privilege);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_any_case_and_codes_parse_as_before() {
        for t in CustomerType::ALL {
            for s in [
                t.as_str().to_string(),
                t.as_str().to_uppercase(),
                t.code().to_string(),
            ] {
                assert_eq!(CustomerType::from_str(&s, true), Ok(*t), "{s}");
                assert_eq!(s.parse::<CustomerType>(), Ok(*t), "{s}");
            }
        }
        for p in Privilege::ALL {
            assert_eq!(Privilege::from_str(&p.code().to_string(), true), Ok(*p));
        }
        assert!(CustomerStatus::from_str("closed", true).is_err());
    }
}
