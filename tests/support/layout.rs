//! Reading the code layout for the layout docs test (`tests/docs_layout.rs`): the tree of
//! paths in `docs/architecture.md`'s "Code layout" block, the file modules a `lib.rs`
//! declares, and the module index in its crate doc.
//!
//! The layout block is a tree: an entry line is `<indent><names>  <description>`, where
//! the names (paths, separated by single spaces) end at the first run of two spaces, and
//! an entry sits two columns to the right of the directory it belongs to. A line indented
//! further than that continues the description above it. A name inside a crate directory
//! (one with a `Cargo.toml`) is looked up under its `src/` first, then beside it. Paths in
//! a description (a word with a file extension, or ending in `/`) are looked up under the
//! entry itself, then the directory it sits in, then the root.
//!
//! A module index entry is a bullet of the crate doc (`//! - ` or `//! * `) that starts
//! with a module name in backticks (`` [`name`] `` or `` `name` ``); every backticked name
//! before its first `:` or ` — ` is one it indexes.
#![allow(unreachable_pub, dead_code, missing_docs)]

/// Extensions that make a word of a description a file path.
const EXTENSIONS: &[&str] = &[
    "rs", "toml", "sh", "md", "json", "mjs", "js", "css", "html", "yml", "lock",
];

/// What the layout block names: every path it resolved (relative to the root, without a
/// trailing `/`), and a line for every path that does not exist.
#[derive(Debug, Default)]
pub struct Layout {
    pub named: Vec<String>,
    pub problems: Vec<String>,
}

struct Frame {
    indent: usize,
    bases: Vec<String>,
}

/// Reads the layout `block`; `exists` says whether a path relative to the root exists.
pub fn read_layout(block: &str, exists: &dyn Fn(&str) -> bool) -> Layout {
    let mut layout = Layout::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut mention_bases: Vec<String> = vec![String::new()];
    for (i, line) in block.lines().enumerate() {
        let text = line.trim_start();
        if text.is_empty() {
            continue;
        }
        let indent = line.len() - text.len();
        let parent = stack.iter().rposition(|f| f.indent < indent);
        let child_indent = parent.map_or(0, |p| stack[p].indent + 2);
        if indent != child_indent {
            mentions(&mut layout, i + 1, text, &mention_bases, exists);
            continue;
        }
        stack.truncate(parent.map_or(0, |p| p + 1));
        let bases = stack
            .last()
            .map_or_else(|| vec![String::new()], |f| f.bases.clone());
        let (names, description) = text.split_once("  ").unwrap_or((text, ""));
        let names: Vec<&str> = names.split(' ').collect();
        let mut own = Vec::new();
        for name in &names {
            match resolve(name, &bases, exists) {
                Some(path) => {
                    if name.ends_with('/') {
                        own = dir_bases(&path, exists);
                    }
                    layout.named.push(path);
                }
                None => layout.problems.push(missing(i + 1, name, &bases)),
            }
        }
        if names.len() == 1 && names[0].ends_with('/') && !own.is_empty() {
            stack.push(Frame {
                indent,
                bases: own.clone(),
            });
        }
        mention_bases = Vec::new();
        for base in own.into_iter().chain(bases).chain([String::new()]) {
            if !mention_bases.contains(&base) {
                mention_bases.push(base);
            }
        }
        mentions(&mut layout, i + 1, description, &mention_bases, exists);
    }
    layout
}

/// Where the entries of directory `dir` are looked up: under `src/` first for a crate.
fn dir_bases(dir: &str, exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    let src = join(dir, "src");
    if exists(&join(dir, "Cargo.toml")) && exists(&src) {
        vec![src, dir.to_owned()]
    } else {
        vec![dir.to_owned()]
    }
}

fn mentions(
    layout: &mut Layout,
    line: usize,
    text: &str,
    bases: &[String],
    exists: &dyn Fn(&str) -> bool,
) {
    for word in text.split_whitespace().filter_map(path_word) {
        match resolve(word, bases, exists) {
            Some(path) => layout.named.push(path),
            None => layout.problems.push(missing(line, word, bases)),
        }
    }
}

/// `word` as a path if it reads as one: a file name with a known extension, or a
/// directory (`name/`); punctuation around it is not part of it.
pub fn path_word(word: &str) -> Option<&str> {
    let word = word
        .trim_start_matches(['(', '[', '`', '"'])
        .trim_end_matches([')', ']', ',', ';', ':', '.', '`', '"']);
    let path_chars = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    if !path_chars || word.is_empty() || word.starts_with('/') {
        return None;
    }
    let file = word
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext));
    let dir = word.len() > 1 && word.ends_with('/');
    (file || dir).then_some(word)
}

fn resolve(name: &str, bases: &[String], exists: &dyn Fn(&str) -> bool) -> Option<String> {
    let name = name.trim_end_matches('/');
    bases
        .iter()
        .map(|base| join(base, name))
        .find(|path| exists(path))
}

fn missing(line: usize, name: &str, bases: &[String]) -> String {
    let places: Vec<String> = bases
        .iter()
        .map(|b| {
            if b.is_empty() {
                "the root".to_owned()
            } else {
                format!("`{b}/`")
            }
        })
        .collect();
    format!(
        "line {line} of the block: `{name}` does not exist (looked under {})",
        places.join(", ")
    )
}

pub fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}/{name}")
    }
}

/// The file modules (`mod name;`, any visibility) declared at the top level of a crate
/// root, except those compiled only for tests or doctests.
pub fn file_modules(root_rs: &str) -> Vec<String> {
    let mut modules = Vec::new();
    let mut test_only = false;
    for line in root_rs.lines() {
        let line = line.trim_end();
        if line.starts_with("#[") {
            test_only |= line == "#[cfg(test)]" || line == "#[cfg(doctest)]";
            continue;
        }
        let decl = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .find_map(|vis| line.strip_prefix(vis))
            .unwrap_or(line);
        let name = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';'));
        if let Some(name) = name.filter(|n| is_ident(n)) {
            if !test_only {
                modules.push(name.to_owned());
            }
        }
        test_only = false;
    }
    modules
}

/// The module names the crate doc of `root_rs` indexes (see the module doc).
pub fn module_index(root_rs: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in root_rs.lines().filter_map(|l| l.strip_prefix("//!")) {
        let Some(item) = line
            .trim_start()
            .strip_prefix("- ")
            .or_else(|| line.trim_start().strip_prefix("* "))
        else {
            continue;
        };
        if !(item.starts_with("[`") || item.starts_with('`')) {
            continue;
        }
        let head = item.split([':', '—']).next().unwrap_or(item);
        let spans = head.split('`').skip(1).step_by(2);
        for span in spans {
            let name = span.trim_end_matches('/').trim_end_matches(".rs");
            if is_ident(name) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
