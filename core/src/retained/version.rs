//! [`Version`]: the `<epoch>-<sequence>` version of a retained-message slot, its text form
//! and its order.

use std::fmt;
use std::str::FromStr;

/// Hex digits of each part of a [`Version`].
const VERSION_DIGITS: usize = 12;

/// Largest value of each part of a [`Version`] (12 hex digits).
const VERSION_PART_MAX: u64 = (1 << (4 * VERSION_DIGITS)) - 1;

/// The version of a retained-message slot: see the [`retained`](super) module
/// documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    epoch: u64,
    sequence: u64,
}

impl Version {
    /// The version before any write: what a topic without a slot is at.
    pub const ZERO: Version = Version {
        epoch: 0,
        sequence: 0,
    };

    /// The epoch: when the slot was created, in seconds since the Unix epoch.
    pub fn epoch(self) -> u64 {
        self.epoch
    }

    /// The number of writes to the slot since it was created.
    pub fn sequence(self) -> u64 {
        self.sequence
    }

    /// The version standing for write `sequence` of a record of Fastly's original app
    /// (see `legacy`): epoch 0, so below every version of a slot of ours.
    pub(super) fn of_original(sequence: u64) -> Version {
        Version {
            epoch: 0,
            sequence: sequence.clamp(1, VERSION_PART_MAX),
        }
    }

    /// The version a write at time `now` gives after this one.
    pub(super) fn next(self, now: u64) -> Version {
        if self == Version::ZERO {
            return Version {
                epoch: now.clamp(1, VERSION_PART_MAX),
                sequence: 1,
            };
        }
        if self.sequence < VERSION_PART_MAX {
            return Version {
                sequence: self.sequence + 1,
                ..self
            };
        }
        // The sequence is exhausted: open a new, later epoch.
        Version {
            epoch: now.max(self.epoch + 1).min(VERSION_PART_MAX),
            sequence: 1,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0w$x}-{:0w$x}",
            self.epoch,
            self.sequence,
            w = VERSION_DIGITS
        )
    }
}

/// A string that is not a [`Version`]; carries the string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidVersion(pub String);

impl fmt::Display for InvalidVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a version (two 12-digit lowercase hex numbers joined by `-`)",
            self.0
        )
    }
}

impl std::error::Error for InvalidVersion {}

impl FromStr for Version {
    type Err = InvalidVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidVersion(s.chars().take(64).collect());
        let (epoch, sequence) = s.split_once('-').ok_or_else(invalid)?;
        let part = |p: &str| {
            let fixed_width_lower_hex = p.len() == VERSION_DIGITS
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            fixed_width_lower_hex
                .then(|| u64::from_str_radix(p, 16).ok())
                .flatten()
        };
        match (part(epoch), part(sequence)) {
            (Some(epoch), Some(sequence)) => Ok(Version { epoch, sequence }),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn versions_print_fixed_width_and_parse_back() {
        let v = Version {
            epoch: NOW,
            sequence: 26,
        };
        assert_eq!(v.to_string(), "00006b49d200-00000000001a");
        assert_eq!(v.to_string().parse(), Ok(v));
        assert_eq!(Version::ZERO.to_string(), "000000000000-000000000000");
    }

    #[test]
    fn malformed_versions_are_refused() {
        for s in [
            "",
            "00006b49d200",
            "00006b49d200-00000000001A",
            "6b49d200-1a",
            "00006b49d200-00000000001a-",
            "00006b49d200_00000000001a",
            "+0006b49d200-00000000001a",
            "00006b49d200-0000000001g1",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn versions_order_by_epoch_then_sequence_like_their_strings() {
        let a = Version {
            epoch: 5,
            sequence: 0xfff,
        };
        let b = Version {
            epoch: 6,
            sequence: 1,
        };
        let c = Version {
            epoch: 6,
            sequence: 2,
        };
        assert!(Version::ZERO < a && a < b && b < c);
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
    }

    #[test]
    fn a_version_sequence_that_runs_out_opens_a_later_epoch() {
        let last = Version {
            epoch: NOW,
            sequence: VERSION_PART_MAX,
        };
        let next = last.next(NOW);
        assert!(next > last);
        assert_eq!(next.sequence(), 1);
        assert_eq!(Version::ZERO.next(NOW).epoch(), NOW);
    }
}
