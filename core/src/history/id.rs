//! [`HistoryId`]: the broker-assigned id of a message in a topic's history, its text form
//! and its order; [`IdSequence`], which assigns them within one request.
//!
//! Text form: `<12 lowercase hex: ms since the Unix epoch>-<4 hex: sequence>-<8 hex:
//! random>`, 26 ASCII characters, e.g. `0192ab34cd56-0000-9f3a21bc`. Fixed width, so ids
//! compare as strings exactly as they compare as `(ms, sequence, random)`; safe in an SSE
//! `id:` line, a `Last-Event-ID` header, a GRIP item id and a KV key. Parsing is strict
//! (exact length, lowercase hex, dashes in place): anything else is an
//! [`InvalidHistoryId`] whose text suits a 400.
//!
//! Within one request, [`IdSequence`] never goes backwards: an id takes the clock's
//! millisecond, or the previous id's when the clock has not moved past it, and then the
//! next sequence number, so one sequential publisher's messages are strictly ordered.
//! Across requests, a publish first moves its sequence past its topics' heads (the
//! newest id of each at this POP, [`IdSequence::after`]), so one POP's messages of a
//! topic are ordered as published however fast they come; the random part tells apart
//! ids that two POPs assign in the same millisecond.
//! Ids never come from a publisher.

use std::fmt;
use std::str::FromStr;

use crate::ports::Environment;
use crate::Error;

/// Length of a [`HistoryId`]'s text form.
pub const HISTORY_ID_LEN: usize = 26;

/// Largest millisecond a [`HistoryId`] holds (12 hex digits).
const MS_MAX: u64 = (1 << 48) - 1;

/// The id of a message in a topic's history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HistoryId {
    ms: u64,
    seq: u16,
    rand: u32,
}

impl HistoryId {
    /// The id of parts `ms` (clamped to 48 bits), `seq` and `rand`.
    pub fn new(ms: u64, seq: u16, rand: u32) -> Self {
        Self {
            ms: ms.min(MS_MAX),
            seq,
            rand,
        }
    }

    /// When it was assigned, in milliseconds since the Unix epoch.
    pub fn ms(self) -> u64 {
        self.ms
    }

    /// Its place among the messages of the request that published it.
    pub fn seq(self) -> u16 {
        self.seq
    }

    /// Its random part.
    pub fn rand(self) -> u32 {
        self.rand
    }

    /// A *time position*: the moment `ms`, not a message. Its sequence and random parts
    /// are 0, which no message id has (their random part is never 0), so a stream can
    /// name "everything from then on" of a topic in its ids.
    pub fn time_position(ms: u64) -> Self {
        Self::new(ms, 0, 0)
    }

    /// Whether this is a [time position](Self::time_position) rather than a message's id.
    pub fn is_time_position(self) -> bool {
        self.seq == 0 && self.rand == 0
    }
}

impl fmt::Display for HistoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012x}-{:04x}-{:08x}", self.ms, self.seq, self.rand)
    }
}

/// A string that is not a [`HistoryId`]; carries (the start of) the string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidHistoryId(pub String);

impl fmt::Display for InvalidHistoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a history id (12, 4 and 8 lowercase hex digits joined by `-`)",
            self.0
        )
    }
}

impl std::error::Error for InvalidHistoryId {}

impl FromStr for HistoryId {
    type Err = InvalidHistoryId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidHistoryId(s.chars().take(64).collect());
        let b = s.as_bytes();
        if b.len() != HISTORY_ID_LEN || b[12] != b'-' || b[17] != b'-' {
            return Err(invalid());
        }
        let part = |range: std::ops::Range<usize>| {
            let digits = &b[range];
            digits
                .iter()
                .all(|d| d.is_ascii_digit() || (b'a'..=b'f').contains(d))
                .then(|| {
                    digits.iter().fold(0u64, |n, d| {
                        let v = if d.is_ascii_digit() {
                            d - b'0'
                        } else {
                            d - b'a' + 10
                        };
                        n << 4 | u64::from(v)
                    })
                })
        };
        match (part(0..12), part(13..17), part(18..26)) {
            (Some(ms), Some(seq), Some(rand)) => Ok(Self {
                ms,
                seq: u16::try_from(seq).map_err(|_| invalid())?,
                rand: u32::try_from(rand).map_err(|_| invalid())?,
            }),
            _ => Err(invalid()),
        }
    }
}

/// Assigns the ids of one request's messages, in order, never going backwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdSequence {
    last: Option<HistoryId>,
}

impl IdSequence {
    /// A sequence that has assigned nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next id come after `id` (a topic's head: the id of its newest message
    /// at this POP), so that a topic's messages from one POP are ordered as they were
    /// published even when two requests publish in the same millisecond.
    pub fn after(&mut self, id: HistoryId) {
        self.last = Some(self.last.map_or(id, |last| last.max(id)));
    }

    /// The next id, from `env`'s clock and random source.
    pub fn next(&mut self, env: &dyn Environment) -> Result<HistoryId, Error> {
        let mut bytes = [0u8; 4];
        env.random(&mut bytes)
            .map_err(|why| Error::Internal(format!("random source for a history id: {why}")))?;
        // Never 0: a random part of 0 with sequence 0 is a time position.
        let rand = u32::from_be_bytes(bytes).max(1);
        let now_ms = (env.now_micros() / 1000).min(MS_MAX);
        let id = match self.last {
            Some(last) if now_ms <= last.ms => match last.seq.checked_add(1) {
                Some(seq) => HistoryId::new(last.ms, seq, rand),
                None => HistoryId::new(last.ms + 1, 0, rand),
            },
            _ => HistoryId::new(now_ms, 0, rand),
        };
        self.last = Some(id);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::TestEnv;

    #[test]
    fn ids_print_fixed_width_and_parse_back() {
        let id = HistoryId::new(0x0192_ab34_cd56, 0, 0x9f3a_21bc);
        assert_eq!(id.to_string(), "0192ab34cd56-0000-9f3a21bc");
        assert_eq!("0192ab34cd56-0000-9f3a21bc".parse(), Ok(id));
        let max = HistoryId::new(u64::MAX, u16::MAX, u32::MAX);
        assert_eq!(max.to_string(), "ffffffffffff-ffff-ffffffff");
        assert_eq!(max.to_string().parse(), Ok(max));
        assert_eq!(HistoryId::default().to_string().len(), HISTORY_ID_LEN);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_text() {
        for s in [
            "",
            "0192ab34cd56-0000-9f3a21b",
            "0192ab34cd56-0000-9f3a21bcd",
            "0192ab34cd56-0000-9F3A21BC",
            "0192ab34cd56_0000-9f3a21bc",
            "0192ab34cd56-0000_9f3a21bc",
            "0192ab34cd5--0000-9f3a21bc",
            "+192ab34cd56-0000-9f3a21bc",
            "0192ab34cd56-000g-9f3a21bc",
            "00006b49d200-00000000001a",
            "0192ab34cd56-0000-9f3a21b\u{e9}",
        ] {
            let err = s.parse::<HistoryId>().expect_err(s);
            assert!(err.to_string().contains("is not a history id"), "{s:?}");
        }
    }

    #[test]
    fn ids_order_like_their_strings() {
        let ids = [
            HistoryId::new(1, 0, 0xffff_ffff),
            HistoryId::new(1, 1, 0),
            HistoryId::new(1, 0xffff, 5),
            HistoryId::new(2, 0, 0),
            HistoryId::new(0x10, 0, 0),
        ];
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
            assert!(pair[0].to_string() < pair[1].to_string());
        }
    }

    #[test]
    fn a_sequence_never_goes_backwards_whatever_the_clock() {
        let env = TestEnv::default();
        let mut seq = IdSequence::new();
        let first = seq.next(&env).expect("id");
        assert_eq!(
            first.ms(),
            env.now.load(std::sync::atomic::Ordering::Relaxed) * 1000
        );
        assert_eq!(first.seq(), 0);
        let mut last = first;
        for _ in 0..5000 {
            // The test clock wraps within its second after 4000 readings.
            let id = seq.next(&env).expect("id");
            assert!(id > last, "{id} > {last}");
            last = id;
        }
        let later = 5_000_000_000_000;
        let mut at_max = IdSequence {
            last: Some(HistoryId::new(later, u16::MAX, 0)),
        };
        let next = at_max.next(&env).expect("id");
        assert_eq!(
            (next.ms(), next.seq()),
            (later + 1, 0),
            "a full millisecond moves on"
        );
    }
}
