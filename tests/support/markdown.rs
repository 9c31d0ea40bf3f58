//! Reading the project's Markdown for the docs tests (`tests/docs_examples.rs`,
//! `tests/docs_facts.rs`): the documents themselves, their fenced code blocks (with the
//! info string and line), their pipe tables (with the heading above them), their links and
//! their headings' anchors as GitHub renders them.
#![allow(unreachable_pub, dead_code, missing_docs)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `README.md` and every `docs/*.md`, as paths relative to the root, sorted.
pub fn documents() -> Vec<String> {
    let mut docs = vec!["README.md".to_owned()];
    let dir = root().join("docs");
    let mut guides: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    guides.sort();
    docs.extend(guides);
    docs
}

/// The text of `path` (relative to the root).
pub fn read(path: &str) -> String {
    let full = root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
}

/// A fenced code block.
#[derive(Clone, Debug)]
pub struct Block {
    /// The first word of the info string (`sh`, `js`, `rust`, `text`, or empty).
    pub lang: String,
    /// The other words of the info string (`norun`, ...).
    pub attrs: Vec<String>,
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The content, with the fence's indentation removed.
    pub text: String,
}

/// Every fenced block of `md`, in order (fences of backticks, possibly indented).
pub fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(Block, usize, usize)> = None; // block, indent, fence length
    for (i, line) in md.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        match open.take() {
            None if ticks >= 3 => {
                let mut words = trimmed[ticks..].split_whitespace().map(str::to_owned);
                let lang = words.next().unwrap_or_default();
                let block = Block {
                    lang,
                    attrs: words.collect(),
                    line: i + 1,
                    text: String::new(),
                };
                open = Some((block, indent, ticks));
            }
            None => {}
            Some((block, _, fence)) if ticks >= fence && trimmed[ticks..].trim().is_empty() => {
                out.push(block);
            }
            Some((mut block, ind, fence)) => {
                let cut = line.len() - line.trim_start().len();
                block.text.push_str(&line[cut.min(ind)..]);
                block.text.push('\n');
                open = Some((block, ind, fence));
            }
        }
    }
    out
}

/// `md` without its fenced blocks and inline code spans (for links and prose).
pub fn prose(md: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            out.push('\n');
            continue;
        }
        if in_fence {
            out.push('\n');
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// A pipe table.
#[derive(Clone, Debug)]
pub struct Table {
    /// The nearest heading above the table, without its `#`s.
    pub heading: String,
    /// 1-based line of the header row.
    pub line: usize,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The index of the column whose header is `name`.
    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("table at line {} has no column {name:?}", self.line))
    }
}

/// Every pipe table of `md` (a header row, a `|---|` row, then rows), outside code blocks.
pub fn tables(md: &str) -> Vec<Table> {
    let lines: Vec<&str> = md.lines().collect();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut in_fence = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            heading = line.trim_start_matches('#').trim().to_owned();
        } else if !in_fence
            && line.starts_with('|')
            && lines.get(i + 1).is_some_and(|l| is_separator(l.trim()))
        {
            let mut table = Table {
                heading: heading.clone(),
                line: i + 1,
                header: cells(line),
                rows: Vec::new(),
            };
            i += 2;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                table.rows.push(cells(lines[i].trim()));
                i += 1;
            }
            out.push(table);
            continue;
        }
        i += 1;
    }
    out
}

fn is_separator(line: &str) -> bool {
    line.starts_with('|') && line.contains("---") && line.chars().all(|c| "|-: ".contains(c))
}

/// The cells of a table row; `\|` is a literal bar.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push(String::new()),
            c => {
                let literal = if c == '\\' && chars.peek() == Some(&'|') {
                    chars.next();
                    '|'
                } else {
                    c
                };
                if let Some(cell) = out.last_mut() {
                    cell.push(literal);
                }
            }
        }
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// A link found in a document: `[text](target)`, `src="target"` or `href="target"`.
#[derive(Clone, Debug)]
pub struct Link {
    pub line: usize,
    pub target: String,
}

/// Every link of `md` outside code.
pub fn links(md: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for (i, line) in prose(md).lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            out.push(Link {
                line: i + 1,
                target: after[..end].trim().to_owned(),
            });
            rest = &after[end..];
        }
        for attr in ["src=\"", "href=\""] {
            let mut rest = line;
            while let Some(at) = rest.find(attr) {
                let after = &rest[at + attr.len()..];
                let end = after.find('"').unwrap_or(after.len());
                out.push(Link {
                    line: i + 1,
                    target: after[..end].to_owned(),
                });
                rest = &after[end..];
            }
        }
    }
    out
}

/// The anchors of `md`'s headings, as GitHub makes them (lowercase; letters, digits, `-`
/// and `_` kept, spaces to `-`, other characters dropped; repeats get `-1`, `-2`, ...).
pub fn anchors(md: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let base = slug(line.trim_start_matches('#').trim());
        let mut slug = base.clone();
        let mut n = 0;
        while out.contains(&slug) {
            n += 1;
            slug = format!("{base}-{n}");
        }
        out.push(slug);
    }
    out
}

/// GitHub's anchor for a heading's text.
pub fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Resolves `target` (relative to the document `from`) to a path relative to the root.
pub fn resolve(from: &str, target: &str) -> PathBuf {
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut out = PathBuf::new();
    for part in base.join(target).components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
