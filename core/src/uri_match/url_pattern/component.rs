//! One component of a URL pattern (`protocol`, `hostname`, `pathname`, …): the pattern
//! syntax of the URL Pattern standard tokenized, parsed into parts, and turned into the
//! automaton of the regular expression the standard would generate for it.
//!
//! Parts: fixed text, `:name` (a segment wildcard: anything but the component's
//! delimiter, one or more), `*` (anything, possibly empty), `(regexp)` (the safe subset
//! of [`super::regex`]), groups `{…}`, and the modifiers `?`, `*`, `+`; `\` escapes one
//! character. In the pathname a `/` right before a name, wildcard or regexp is the part's
//! prefix, so `/:id?` also matches nothing at all.

use super::super::nfa::{Class, Node};
use super::super::{UriMatchError, MAX_GROUPS};
use super::regex;
use super::tokenizer::{tokenize, Tok};

/// The component being parsed: its delimiter, prefix and fixed-text encoding.
#[derive(Clone, Copy, Debug)]
pub(super) struct Options {
    pub delimiter: Option<char>,
    pub prefix: Option<char>,
    pub encode: fn(&str) -> Result<String, String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Modifier {
    None,
    Optional,
    ZeroOrMore,
    OneOrMore,
}

struct Parser<'a> {
    toks: &'a [(Tok, usize, usize)],
    at: usize,
    opts: Options,
    text: &'a str,
    nodes: Vec<Node>,
    pending: String,
    groups: usize,
    names: Vec<String>,
}

/// Parses component pattern `text` into the regular expression it matches.
pub(super) fn compile(text: &str, opts: Options) -> Result<Node, UriMatchError> {
    let toks = tokenize(text, false)?;
    let mut p = Parser {
        toks: &toks,
        at: 0,
        opts,
        text,
        nodes: Vec::new(),
        pending: String::new(),
        groups: 0,
        names: Vec::new(),
    };
    p.run()?;
    Ok(Node::Concat(p.nodes))
}

impl Parser<'_> {
    fn err(&self, why: impl Into<String>) -> UriMatchError {
        UriMatchError::new(self.text, why)
    }

    fn take(&mut self, f: impl Fn(&Tok) -> bool) -> Option<Tok> {
        let tok = self
            .toks
            .get(self.at)
            .map(|t| &t.0)
            .filter(|t| f(t))?
            .clone();
        self.at += 1;
        Some(tok)
    }

    fn take_char(&mut self) -> Option<char> {
        match self.take(|t| matches!(t, Tok::Char(_)))? {
            Tok::Char(c) => Some(c),
            _ => None,
        }
    }

    fn take_text(&mut self) -> String {
        let mut s = String::new();
        while let Some(t) = self.take(|t| matches!(t, Tok::Char(_) | Tok::Escaped(_))) {
            if let Tok::Char(c) | Tok::Escaped(c) = t {
                s.push(c);
            }
        }
        s
    }

    fn take_modifier(&mut self) -> Modifier {
        match self.take(|t| matches!(t, Tok::Modifier(_) | Tok::Asterisk)) {
            Some(Tok::Modifier('?')) => Modifier::Optional,
            Some(Tok::Modifier(_)) => Modifier::OneOrMore,
            Some(_) => Modifier::ZeroOrMore,
            None => Modifier::None,
        }
    }

    fn take_name_and_regexp(&mut self) -> (Option<Tok>, Option<Tok>) {
        let name = self.take(|t| matches!(t, Tok::Name(_)));
        let mut re = self.take(|t| matches!(t, Tok::Regexp(_)));
        if name.is_none() && re.is_none() {
            re = self.take(|t| *t == Tok::Asterisk);
        }
        (name, re)
    }

    fn run(&mut self) -> Result<(), UriMatchError> {
        while self.at < self.toks.len() {
            let char_tok = self.take_char();
            let (name, re) = self.take_name_and_regexp();
            if name.is_some() || re.is_some() {
                let mut prefix = char_tok.map(String::from).unwrap_or_default();
                if char_tok.is_some() && char_tok != self.opts.prefix {
                    self.pending.push_str(&prefix);
                    prefix.clear();
                }
                self.flush()?;
                let modifier = self.take_modifier();
                self.part(prefix, name, re, String::new(), modifier)?;
                continue;
            }
            let fixed = char_tok.or_else(|| match self.take(|t| matches!(t, Tok::Escaped(_))) {
                Some(Tok::Escaped(c)) => Some(c),
                _ => None,
            });
            if let Some(c) = fixed {
                self.pending.push(c);
                continue;
            }
            if self.take(|t| *t == Tok::Open).is_some() {
                let prefix = self.take_text();
                let (name, re) = self.take_name_and_regexp();
                let suffix = self.take_text();
                if self.take(|t| *t == Tok::Close).is_none() {
                    return Err(self.err("a `{` group is not closed where it should be"));
                }
                let modifier = self.take_modifier();
                self.part(prefix, name, re, suffix, modifier)?;
                continue;
            }
            return Err(self.err("unexpected `}`, `?`, `+` or `*` (escape it with `\\`)"));
        }
        self.flush()
    }

    fn encode(&self, s: &str) -> Result<String, UriMatchError> {
        (self.opts.encode)(s).map_err(|why| UriMatchError::new(s, why))
    }

    fn flush(&mut self) -> Result<(), UriMatchError> {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            let text = self.encode(&pending)?;
            self.nodes.push(Node::text(&text));
        }
        Ok(())
    }

    fn part(
        &mut self,
        prefix: String,
        name: Option<Tok>,
        re: Option<Tok>,
        suffix: String,
        modifier: Modifier,
    ) -> Result<(), UriMatchError> {
        if name.is_none() && re.is_none() && modifier == Modifier::None {
            self.pending.push_str(&prefix);
            return Ok(());
        }
        self.flush()?;
        let prefix = Node::text(&self.encode(&prefix)?);
        if name.is_none() && re.is_none() {
            self.nodes.push(modify(prefix, modifier));
            return Ok(());
        }
        self.groups += 1;
        if self.groups > MAX_GROUPS {
            return Err(self.err(format!("the pattern has more than {MAX_GROUPS} groups")));
        }
        if let Some(Tok::Name(n)) = &name {
            if self.names.contains(n) {
                return Err(self.err(format!("the group name {n:?} is used twice")));
            }
            self.names.push(n.clone());
        }
        let body = match re {
            None => self.segment_wildcard(),
            Some(Tok::Asterisk) => Node::star(Node::Any),
            Some(Tok::Regexp(r)) => regex::parse(&r)?,
            Some(_) => return Err(self.err("internal: not a group")),
        };
        let suffix = Node::text(&self.encode(&suffix)?);
        let node = match modifier {
            Modifier::None | Modifier::Optional => {
                modify(Node::Concat(vec![prefix, body, suffix]), modifier)
            }
            _ => {
                // prefix body (suffix prefix body)* suffix, optional for `*`.
                let again = Node::Concat(vec![suffix.clone(), prefix.clone(), body.clone()]);
                let all = Node::Concat(vec![prefix, body, Node::star(again), suffix]);
                if modifier == Modifier::ZeroOrMore {
                    Node::optional(all)
                } else {
                    all
                }
            }
        };
        self.nodes.push(node);
        Ok(())
    }

    fn segment_wildcard(&self) -> Node {
        let not = match self.opts.delimiter {
            Some(d) => Class {
                ranges: vec![(d, d)],
                negated: true,
            },
            None => Class {
                ranges: Vec::new(),
                negated: true,
            },
        };
        Node::plus(Node::Class(not))
    }
}

fn modify(node: Node, modifier: Modifier) -> Node {
    match modifier {
        Modifier::None => node,
        Modifier::Optional => Node::optional(node),
        Modifier::ZeroOrMore => Node::star(node),
        Modifier::OneOrMore => Node::plus(node),
    }
}
