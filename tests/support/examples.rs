//! The examples of a document as steps to run (`tests/docs_examples.rs`): each `sh` block
//! cut into commands and the output the document shows for them, each `js` block with the
//! output its last comment lines show.
//!
//! The conventions, as `docs/testing.md` states them for writers:
//!
//! - A `sh` block is a list of commands (a line ending in `\` continues on the next). Comment
//!   lines *directly* under a command (`# text`, or `#` alone for an empty line) are what the
//!   command prints; a comment after a blank line is just a comment. The printed lines must
//!   appear in the command's output in that order (other lines may come between them), and
//!   `…` in one of them stands for any text.
//! - A `curl -N` command is a stream: it runs in the background (the next command starts once
//!   it printed `stream-open` or `stream-error`), and its lines are looked for until the end of
//!   the document.
//! - A `js` block's trailing comment lines (directly under its last line of code) are what it
//!   prints with `console.log`. A block that imports a package runs in Node (from `tests/js`,
//!   where MQTT.js is installed), any other in a Chromium page on the broker's origin.
//! - A block whose info string says `norun` (```` ```sh norun ````) is not run.
#![allow(unreachable_pub, dead_code, missing_docs)]

use super::markdown::Block;

/// One command of a `sh` block.
#[derive(Clone, Debug)]
pub struct Command {
    /// 1-based line in the document.
    pub line: usize,
    pub text: String,
    /// What the document says it prints.
    pub expect: Vec<String>,
    /// A `curl -N` stream, run in the background.
    pub stream: bool,
}

/// The commands of a `sh` block whose opening fence is at `block.line`.
pub fn commands(block: &Block) -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    let mut continuing = false;
    let mut after_command = false;
    for (i, raw) in block.text.lines().enumerate() {
        let line = raw.trim_end();
        let number = block.line + 1 + i;
        if continuing {
            if let Some(cmd) = out.last_mut() {
                cmd.text.push('\n');
                cmd.text.push_str(line);
            }
            continuing = line.ends_with('\\');
            continue;
        }
        if line.trim().is_empty() {
            after_command = false;
        } else if let Some(comment) = line.trim_start().strip_prefix('#') {
            if after_command {
                if let Some(cmd) = out.last_mut() {
                    cmd.expect
                        .push(comment.strip_prefix(' ').unwrap_or(comment).to_owned());
                }
            }
        } else {
            out.push(Command {
                line: number,
                text: line.to_owned(),
                expect: Vec::new(),
                stream: false,
            });
            continuing = line.ends_with('\\');
            after_command = true;
        }
    }
    for cmd in &mut out {
        cmd.stream = cmd.text.starts_with("curl") && cmd.text.contains(" -N ");
    }
    out
}

/// The output a `js` block shows: its trailing comment lines, without `// `.
pub fn js_expect(block: &Block) -> Vec<String> {
    let lines: Vec<&str> = block.text.lines().map(str::trim_end).collect();
    let code_end = lines
        .iter()
        .rposition(|l| !l.trim_start().starts_with("//"))
        .map_or(0, |i| i + 1);
    let trailing = &lines[code_end..];
    if code_end == 0 || lines[code_end - 1].trim().is_empty() {
        return Vec::new();
    }
    trailing
        .iter()
        .map(|l| {
            let c = l.trim_start().trim_start_matches("//");
            c.strip_prefix(' ').unwrap_or(c).to_owned()
        })
        .collect()
}

/// Whether `actual` matches the documented `expected` line (`…` stands for any text).
pub fn line_matches(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The expected lines that `output` lacks, `None` when all are there in order.
pub fn missing(expected: &[String], output: &str) -> Option<String> {
    let mut lines = output.lines();
    for want in expected {
        if !lines.any(|got| line_matches(want.trim_end(), got.trim_end())) {
            return Some(want.clone());
        }
    }
    None
}

/// `text` indented and marked as program output, for failure messages.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_matches_any_text() {
        assert!(line_matches(
            r#"{"id":"…","value":"…"}"#,
            r#"{"id":"ab","value":"c"}"#
        ));
        assert!(line_matches("204", "204"));
        assert!(!line_matches("204", "404"));
        assert!(!line_matches("a…", "b"));
        assert!(line_matches("…", ""));
    }
}
