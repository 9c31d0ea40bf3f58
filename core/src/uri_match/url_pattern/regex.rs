//! The safe subset of JavaScript regular expressions accepted in URL pattern regexp
//! groups `(…)`, parsed into the automaton's [`Node`] tree (see [`crate::uri_match`] for
//! the list). Whatever is outside the subset is refused with its name rather than
//! approximated: a regexp that matched other topics than the subscriber meant would
//! be worse than an error.

use super::super::nfa::{Class, Node};
use super::super::UriMatchError;

/// The deepest nesting of groups accepted.
const MAX_DEPTH: usize = 16;
/// The largest bound of a `{n,m}` quantifier.
const MAX_REPEAT: u32 = 100;

/// Parses regexp `re` (the text inside a regexp group).
pub(super) fn parse(re: &str) -> Result<Node, UriMatchError> {
    let mut p = P {
        s: re.chars().collect(),
        at: 0,
        text: re,
    };
    let node = p.alt(0)?;
    if p.at < p.s.len() {
        return Err(p.err("unbalanced `)`"));
    }
    Ok(node)
}

struct P<'a> {
    s: Vec<char>,
    at: usize,
    text: &'a str,
}

fn class(ranges: &[(char, char)], negated: bool) -> Class {
    Class {
        ranges: ranges.to_vec(),
        negated,
    }
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
const SPACE: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{feff}', '\u{feff}'),
];

impl P<'_> {
    fn err(&self, why: &str) -> UriMatchError {
        UriMatchError::new(
            self.text,
            format!("regexp group: {why} (at character {})", self.at),
        )
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn alt(&mut self, depth: usize) -> Result<Node, UriMatchError> {
        if depth > MAX_DEPTH {
            return Err(self.err("groups nest too deep"));
        }
        let mut alts = vec![self.concat(depth)?];
        while self.eat('|') {
            alts.push(self.concat(depth)?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Node::Alt(alts)
        })
    }

    fn concat(&mut self, depth: usize) -> Result<Node, UriMatchError> {
        let mut parts = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            parts.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(parts))
    }

    fn atom(&mut self, depth: usize) -> Result<Node, UriMatchError> {
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end"));
        };
        self.at += 1;
        match c {
            '.' => Ok(Node::Class(class(
                &[('\n', '\n'), ('\r', '\r'), ('\u{2028}', '\u{2029}')],
                true,
            ))),
            '[' => self.class().map(Node::Class),
            '(' => {
                if !(self.eat('?') && self.eat(':')) {
                    return Err(self.err("only non-capturing groups `(?:…)` are supported (no lookaround, no named or capturing groups)"));
                }
                let inner = self.alt(depth + 1)?;
                if !self.eat(')') {
                    return Err(self.err("a group is not closed"));
                }
                Ok(inner)
            }
            '\\' => self.escape(false).map(|e| match e {
                Esc::Char(c) => Node::Char(c),
                Esc::Class(k) => Node::Class(k),
            }),
            '^' | '$' => Err(self.err("anchors `^` `$` are not supported")),
            '*' | '+' | '?' | '{' | '}' | ']' => {
                Err(self.err("a quantifier or bracket with nothing to apply to"))
            }
            c => Ok(Node::Char(c)),
        }
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, UriMatchError> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.eat(',') {
                    if self.peek() == Some('}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                if self.peek() != Some('}') || max.is_some_and(|m| m < min) {
                    return Err(self.err("a `{n,m}` quantifier is malformed"));
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.at += 1;
        self.eat('?'); // lazy: the same set of matches
        if matches!(self.peek(), Some('*' | '+' | '?' | '{')) {
            return Err(self.err("a quantifier follows a quantifier"));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn number(&mut self) -> Result<u32, UriMatchError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits: String = self.s[start..self.at].iter().collect();
        match digits.parse::<u32>() {
            Ok(n) if n <= MAX_REPEAT => Ok(n),
            Ok(_) => Err(self.err("a repetition bound is over 100")),
            Err(_) => Err(self.err("a `{n,m}` quantifier is malformed")),
        }
    }

    fn class(&mut self) -> Result<Class, UriMatchError> {
        let negated = self.eat('^');
        let mut out = Class {
            ranges: Vec::new(),
            negated,
        };
        loop {
            let lo = match self.peek() {
                None => return Err(self.err("a `[` class is not closed")),
                Some(']') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(_) => self.class_atom()?,
            };
            let lo = match lo {
                Esc::Class(k) if !k.negated => {
                    out.ranges.extend(k.ranges);
                    continue;
                }
                Esc::Class(_) => {
                    return Err(self.err("`\\D` `\\W` `\\S` are not supported inside a class"))
                }
                Esc::Char(c) => c,
            };
            if self.peek() == Some('-') && self.s.get(self.at + 1).is_some_and(|&c| c != ']') {
                self.at += 1;
                match self.class_atom()? {
                    Esc::Char(hi) if hi >= lo => out.ranges.push((lo, hi)),
                    _ => return Err(self.err("a class range is out of order")),
                }
            } else {
                out.ranges.push((lo, lo));
            }
        }
    }

    fn class_atom(&mut self) -> Result<Esc, UriMatchError> {
        let c = self.peek().ok_or_else(|| self.err("unexpected end"))?;
        self.at += 1;
        if c == '\\' {
            self.escape(true)
        } else {
            Ok(Esc::Char(c))
        }
    }

    fn escape(&mut self, in_class: bool) -> Result<Esc, UriMatchError> {
        let c = self.peek().ok_or_else(|| self.err("a trailing `\\`"))?;
        self.at += 1;
        Ok(match c {
            'd' => Esc::Class(class(DIGIT, false)),
            'D' => Esc::Class(class(DIGIT, true)),
            'w' => Esc::Class(class(WORD, false)),
            'W' => Esc::Class(class(WORD, true)),
            's' => Esc::Class(class(SPACE, false)),
            'S' => Esc::Class(class(SPACE, true)),
            't' => Esc::Char('\t'),
            'n' => Esc::Char('\n'),
            'r' => Esc::Char('\r'),
            'f' => Esc::Char('\u{c}'),
            'v' => Esc::Char('\u{b}'),
            '-' if in_class => Esc::Char('-'),
            c if "^$\\.*+?()[]{}|/".contains(c) => Esc::Char(c),
            _ => {
                return Err(self.err(
                    "this escape is not supported (backreferences, \\b, \\p, \\u, \\x… are not)",
                ))
            }
        })
    }
}

enum Esc {
    Char(char),
    Class(Class),
}
