//! [`Properties`]: the [`PropertyValues`] of a packet, allocated only when a
//! property is present.
//!
//! Most packets carry no property at all, while the values of every property
//! take about 300 bytes; held inline they made every packet that large, and
//! every move, `Result` and drop of one paid for it. An empty `Properties` is
//! one null pointer. Reading a field through it reads
//! [`PropertyValues::EMPTY`]; writing one allocates the values on first use.
//! Equality, `Debug` and the wire form depend on the values only, not on
//! whether they are allocated.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::PropertyValues;

static EMPTY: PropertyValues = PropertyValues::EMPTY;

/// The properties of one packet (or of a will message): its
/// [`PropertyValues`], read and written through `Deref`
/// (`packet.properties.reason_string = Some(..)`), stored in a box only once
/// one is set.
#[derive(Clone, Default)]
pub struct Properties(Option<Box<PropertyValues>>);

impl Properties {
    /// Whether no property is present.
    pub fn is_empty(&self) -> bool {
        self.0.as_deref().is_none_or(PropertyValues::is_empty)
    }

    /// The values, moved out (all absent when none is present).
    pub fn into_values(self) -> PropertyValues {
        self.0
            .map_or_else(PropertyValues::default, |values| *values)
    }

    /// The values as stored: `None` when nothing was ever set.
    pub(super) fn stored(&self) -> Option<&PropertyValues> {
        self.0.as_deref()
    }

    /// Properties holding `values`, already allocated.
    pub(super) fn from_box(values: Box<PropertyValues>) -> Self {
        Self(Some(values))
    }
}

impl Deref for Properties {
    type Target = PropertyValues;

    fn deref(&self) -> &PropertyValues {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for Properties {
    fn deref_mut(&mut self) -> &mut PropertyValues {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<PropertyValues> for Properties {
    fn from(values: PropertyValues) -> Self {
        match values.is_empty() {
            true => Self(None),
            false => Self(Some(Box::new(values))),
        }
    }
}

impl PartialEq for Properties {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Properties {}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_properties_take_one_pointer_and_no_allocation() {
        assert_eq!(size_of::<Properties>(), size_of::<usize>());
        let empty = Properties::default();
        assert!(empty.stored().is_none() && empty.is_empty());
        assert_eq!(empty.reason_string, None);
        assert_eq!(Properties::from(PropertyValues::default()).stored(), None);
    }

    #[test]
    fn a_write_allocates_and_equality_ignores_how_values_are_stored() {
        let mut p = Properties::from(PropertyValues::default());
        p.reason_string = None;
        assert!(p.stored().is_some() && p.is_empty());
        assert_eq!(p, Properties::default());
        p.reason_string = Some("why".into());
        assert!(!p.is_empty());
        assert_ne!(p, Properties::default());
        assert_eq!(
            p.clone().into_values().reason_string.as_deref(),
            Some("why")
        );
        assert_eq!(format!("{p:?}"), format!("{:?}", p.clone().into_values()));
    }
}
