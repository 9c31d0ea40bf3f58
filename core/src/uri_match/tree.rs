//! The regular-expression tree that templates and URL patterns are translated into:
//! characters, classes, concatenation, alternation and bounded or unbounded repetition,
//! nothing that needs backtracking. [`super::nfa`] compiles it and runs it.

/// A set of characters: inclusive ranges, possibly negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    /// The ranges, inclusive.
    pub ranges: Vec<(char, char)>,
    /// Whether the class is every character outside the ranges.
    pub negated: bool,
}

impl Class {
    /// Whether `c` is in the class.
    pub fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }

    /// The class of the characters `chars`.
    pub fn of(chars: &str) -> Self {
        Self {
            ranges: chars.chars().map(|c| (c, c)).collect(),
            negated: false,
        }
    }
}

/// A regular expression over characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// The empty string.
    Empty,
    /// One character.
    Char(char),
    /// One character of a class.
    Class(Class),
    /// Any one character.
    Any,
    /// The parts in order.
    Concat(Vec<Node>),
    /// One of the alternatives.
    Alt(Vec<Node>),
    /// `min` to `max` (unbounded when `None`) repetitions.
    Repeat {
        /// What repeats.
        node: Box<Node>,
        /// The fewest repetitions.
        min: u32,
        /// The most, if bounded.
        max: Option<u32>,
    },
}

impl Node {
    /// The literal text `s`.
    pub fn text(s: &str) -> Self {
        Self::Concat(s.chars().map(Self::Char).collect())
    }

    /// `node?`.
    pub fn optional(node: Node) -> Self {
        Self::Repeat {
            node: Box::new(node),
            min: 0,
            max: Some(1),
        }
    }

    /// `node*`.
    pub fn star(node: Node) -> Self {
        Self::Repeat {
            node: Box::new(node),
            min: 0,
            max: None,
        }
    }

    /// `node+`.
    pub fn plus(node: Node) -> Self {
        Self::Repeat {
            node: Box::new(node),
            min: 1,
            max: None,
        }
    }
}
