//! The tokenizer of the URL Pattern syntax: `{` `}`, `(regexp)` (balanced, ASCII,
//! non-capturing groups only inside), `:name`, `\\x` escapes, the modifiers `?` `+`,
//! `*`, and plain characters.

use super::super::UriMatchError;

/// A pattern token, with its byte span in the component text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Open,
    Close,
    Regexp(String),
    Name(String),
    Char(char),
    Escaped(char),
    Modifier(char),
    Asterisk,
}

/// Tokenizes `input`; in lenient mode (the constructor string) a bad `:` or `(` is a
/// plain character.
pub(super) fn tokenize(
    input: &str,
    lenient: bool,
) -> Result<Vec<(Tok, usize, usize)>, UriMatchError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(input.len(), |&(at, _)| at);
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let (tok, next) = match c {
            '*' => (Tok::Asterisk, i + 1),
            '+' | '?' => (Tok::Modifier(c), i + 1),
            '{' => (Tok::Open, i + 1),
            '}' => (Tok::Close, i + 1),
            '\\' => match chars.get(i + 1) {
                Some(&(_, e)) => (Tok::Escaped(e), i + 2),
                None if lenient => (Tok::Char('\\'), i + 1),
                None => return Err(UriMatchError::new(input, "a trailing `\\` escapes nothing")),
            },
            ':' => {
                let mut j = i + 1;
                while j < chars.len() && is_name_char(chars[j].1, j == i + 1) {
                    j += 1;
                }
                if j == i + 1 {
                    if !lenient {
                        return Err(UriMatchError::new(
                            &input[at..],
                            "`:` must start a group name",
                        ));
                    }
                    (Tok::Char(':'), i + 1)
                } else {
                    (Tok::Name(input[end_of(i + 1)..end_of(j)].to_owned()), j)
                }
            }
            '(' => match regexp_end(&chars, i) {
                Ok(j) => (
                    Tok::Regexp(input[end_of(i + 1)..end_of(j)].to_owned()),
                    j + 1,
                ),
                Err(_) if lenient => (Tok::Char('('), i + 1),
                Err(why) => return Err(UriMatchError::new(&input[at..], why)),
            },
            _ => (Tok::Char(c), i + 1),
        };
        out.push((tok, at, end_of(next)));
        i = next;
    }
    Ok(out)
}

/// A group name is ASCII here (`[A-Za-z_$][A-Za-z0-9_$]*`): the standard's Unicode
/// identifiers would cost the module Unicode tables.
fn is_name_char(c: char, first: bool) -> bool {
    c == '_' || c == '$' || c.is_ascii_alphabetic() || (!first && c.is_ascii_digit())
}

/// The index of the `)` closing the regexp group opened at `start`.
fn regexp_end(chars: &[(usize, char)], start: usize) -> Result<usize, &'static str> {
    let mut depth = 1;
    let mut j = start + 1;
    while j < chars.len() {
        let c = chars[j].1;
        if !c.is_ascii() {
            return Err("a regexp group may only hold ASCII");
        }
        match c {
            '\\' => j += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return if j == start + 1 {
                        Err("a regexp group is empty")
                    } else {
                        Ok(j)
                    };
                }
            }
            '(' => {
                depth += 1;
                if chars.get(j + 1).map(|c| c.1) != Some('?') {
                    return Err("capturing groups are not allowed inside a regexp group");
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err("a regexp group is not closed")
}
