//! The tags of a message type, taken from its serde derive, so that no list of them is kept
//! by hand beside the declaration.
//!
//! How: a derived `Deserialize` refuses an unknown tag through `de::Error::unknown_variant`,
//! passing the `'static` list of every tag it accepts. Asking it to read a tag that cannot
//! exist, through an error type that keeps that list, hands the list over.

use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer};
use std::fmt;

/// A tag no message type has (no snake_case name starts with a NUL character).
const NO_SUCH_TAG: &str = "\u{0}";

/// The error of a read that is only meant to fail: keeps the accepted tags, if the derive
/// named them.
#[derive(Debug)]
struct Accepted(Option<&'static [&'static str]>);

impl fmt::Display for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe for the accepted tags")
    }
}

impl std::error::Error for Accepted {}

impl de::Error for Accepted {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Accepted(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Accepted(Some(expected))
    }
}

fn accepted<T>(read: Result<T, Accepted>) -> &'static [&'static str] {
    match read {
        Err(Accepted(Some(tags))) => tags,
        // Not reachable for the types of this crate (a test checks each list); an empty list
        // makes the tests that walk the tags fail rather than pass vacuously.
        _ => &[],
    }
}

/// The tags of an internally tagged enum (`#[serde(tag = "…")]`) whose tag is `field`.
pub(crate) fn of_tagged_enum<T: DeserializeOwned>(field: &'static str) -> &'static [&'static str] {
    let object = MapDeserializer::<_, Accepted>::new(std::iter::once((field, NO_SUCH_TAG)));
    accepted(T::deserialize(object))
}

/// The names of an enum of unit variants, written as plain strings.
pub(crate) fn of_unit_enum<T: DeserializeOwned>() -> &'static [&'static str] {
    let name: StrDeserializer<'_, Accepted> = NO_SUCH_TAG.into_deserializer();
    accepted(T::deserialize(name))
}
