//! The code layout stays true: every path the "Code layout" block of
//! `docs/architecture.md` names exists; it names every crate directory of the workspace
//! (`[workspace] members` of the root `Cargo.toml`) and every top-level file module of each
//! crate (the `mod name;` of its `src/lib.rs` and `src/main.rs`, test-only ones aside);
//! and every `lib.rs` that declares two modules or more has a module index in its crate
//! doc that names each of them and nothing else. Nothing here lists a module by name: a
//! rename, a new module or a new crate fails until the docs say so. The syntax of the
//! block and of an index is in `tests/support/layout.rs`.

#[path = "support/layout.rs"]
mod layout;
#[path = "support/markdown.rs"]
mod markdown;

use layout::{file_modules, join, module_index, path_word, read_layout};
use std::collections::HashSet;

const ARCHITECTURE: &str = "docs/architecture.md";

/// The text of the first fenced block after the "Code layout" heading.
fn layout_block() -> String {
    let md = markdown::read(ARCHITECTURE);
    let heading = md
        .lines()
        .position(|l| l.trim() == "## Code layout")
        .unwrap_or_else(|| panic!("{ARCHITECTURE} has no \"## Code layout\" heading"));
    markdown::blocks(&md)
        .into_iter()
        .find(|b| b.line > heading)
        .unwrap_or_else(|| panic!("{ARCHITECTURE}: no code block under \"## Code layout\""))
        .text
}

/// The workspace members, as directories relative to the root ("" for the root crate).
fn crate_dirs() -> Vec<String> {
    let manifest: toml::Table = markdown::read("Cargo.toml").parse().expect("Cargo.toml");
    manifest["workspace"]["members"]
        .as_array()
        .expect("[workspace] members")
        .iter()
        .map(|m| {
            m.as_str()
                .expect("a member is a path")
                .trim_matches(['.', '/'])
        })
        .map(str::to_owned)
        .collect()
}

fn exists(path: &str) -> bool {
    markdown::root().join(path).exists()
}

/// The file modules of the crate in `dir`, with the crate root that declares them.
fn crate_modules(dir: &str) -> Vec<(String, String)> {
    ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|root| join(dir, root))
        .filter(|root| exists(root))
        .flat_map(|root| {
            let modules = file_modules(&markdown::read(&root));
            modules.into_iter().map(move |m| (root.clone(), m))
        })
        .collect()
}

#[test]
fn every_path_in_the_code_layout_exists() {
    let layout = read_layout(&layout_block(), &exists);
    assert!(
        layout.problems.is_empty(),
        "{ARCHITECTURE}, Code layout:\n{}",
        layout.problems.join("\n")
    );
}

#[test]
fn the_code_layout_names_every_crate_and_its_top_level_modules() {
    let named: HashSet<String> = read_layout(&layout_block(), &exists)
        .named
        .into_iter()
        .collect();
    let mut unnamed = Vec::new();
    for dir in crate_dirs() {
        if !dir.is_empty() && !named.contains(&dir) {
            unnamed.push(format!("crate directory `{dir}/`"));
        }
        for (root, module) in crate_modules(&dir) {
            let file = join(&dir, &format!("src/{module}.rs"));
            if !named.contains(&file) && !named.contains(file.trim_end_matches(".rs")) {
                unnamed.push(format!(
                    "module `{module}` of {root} (`{file}` or its directory)"
                ));
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "{ARCHITECTURE}'s Code layout does not name:\n{}",
        unnamed.join("\n")
    );
}

#[test]
fn every_lib_rs_module_index_names_exactly_its_modules() {
    let mut wrong = Vec::new();
    for dir in crate_dirs() {
        let lib = join(&dir, "src/lib.rs");
        if !exists(&lib) {
            continue;
        }
        let text = markdown::read(&lib);
        let modules = file_modules(&text);
        if modules.len() < 2 {
            continue; // a crate of one module: its crate doc is the index
        }
        wrong.extend(index_problems(&lib, &modules, &module_index(&text)));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What is wrong with the module index `index` of `lib` declaring `modules`.
fn index_problems(lib: &str, modules: &[String], index: &[String]) -> Vec<String> {
    let absent = modules.iter().filter(|m| !index.contains(m));
    let stale = index.iter().filter(|m| !modules.contains(m));
    absent
        .map(|m| format!("{lib}: the module index (`//! - [`{m}`]: ...`) lacks `{m}`"))
        .chain(stale.map(|m| format!("{lib}: the module index names `{m}`, not a module")))
        .collect()
}

// The checks themselves, on made-up trees and crate roots: each must see what is wrong.

fn tree(paths: &[&str]) -> impl Fn(&str) -> bool {
    let paths: HashSet<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    move |p| paths.contains(p)
}

#[test]
fn a_layout_resolves_crate_entries_under_src_and_reports_what_does_not_exist() {
    let exists = tree(&[
        "Cargo.toml",
        "core",
        "core/Cargo.toml",
        "core/src",
        "core/src/error.rs",
        "core/src/ports",
        "core/src/ports/memory.rs",
        "core/fuzz",
        "scripts",
        "scripts/run.sh",
    ]);
    let block = "\
Cargo.toml        workspace
core/             the domain (fuzz/)
  error.rs          the error
  ports/            traits; memory.rs: in memory,
                    see scripts/run.sh and gone.rs
  topics.rs         renamed away
scripts/          run.sh
";
    let layout = read_layout(block, &exists);
    let mut named = layout.named.clone();
    named.sort();
    let want = [
        "Cargo.toml",
        "core",
        "core/fuzz",
        "core/src/error.rs",
        "core/src/ports",
        "core/src/ports/memory.rs",
        "scripts",
        "scripts/run.sh",
        "scripts/run.sh",
    ];
    assert_eq!(named, want);
    let problems = layout.problems.join("\n");
    assert_eq!(layout.problems.len(), 2, "{problems}");
    assert!(
        problems.contains("line 5 of the block: `gone.rs`"),
        "{problems}"
    );
    assert!(
        problems.contains("line 6 of the block: `topics.rs`"),
        "{problems}"
    );
}

#[test]
fn words_of_a_description_are_paths_only_with_an_extension_or_a_slash() {
    let cases = [
        ("(main.rs),", Some("main.rs")),
        ("fastly_platform/)", Some("fastly_platform/")),
        (".cargo/config.toml", Some(".cargo/config.toml")),
        ("scripts/wasm-link.sh;", Some("scripts/wasm-link.sh")),
        ("`wsevents/`", Some("wsevents/")),
        ("/mqtt", None),
        ("unwrap/expect", None),
        ("Config::load:", None),
        ("1.36", None),
        ("[setup]", None),
        ("/", None),
    ];
    for (word, want) in cases {
        assert_eq!(path_word(word), want, "{word}");
    }
}

#[test]
fn file_modules_leave_out_test_only_and_inline_modules() {
    let lib = "\
//! The crate.
pub mod error;
pub(crate) mod parse;
mod net;
#[cfg(target_arch = \"wasm32\")]
pub mod platform;
#[cfg(any(test, feature = \"test-util\"))]
pub mod test_util;
#[cfg(test)]
pub(crate) mod test_helpers;
#[cfg(test)]
mod tests {
    mod inner;
}
";
    let want = ["error", "parse", "net", "platform", "test_util"];
    assert_eq!(file_modules(lib), want);
}

#[test]
fn a_module_index_that_misses_or_keeps_a_stale_module_is_reported() {
    let lib = "\
//! The domain.
//!
//! - [`error`]: the one error enum.
//! - [`tokens`], [`keys`]: access tokens (`Principal`) and the keys: see [`jwt`].
//!   A continuation naming `retained` is not an entry.
//! * `net` — loopback helpers
//! - the `pubsub-dev` binary: not an entry
mod error;
mod tokens;
mod keys;
mod net;
mod retained;
";
    let index = module_index(lib);
    assert_eq!(index, ["error", "tokens", "keys", "net"]);
    let modules = file_modules(lib);
    let mut declared = modules.clone();
    declared.retain(|m| m != "keys" && m != "retained");
    declared.push("message".to_owned());
    let problems = index_problems("lib.rs", &declared, &index);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("lacks `message`"), "{problems:?}");
    assert!(
        problems[1].contains("names `keys`, not a module"),
        "{problems:?}"
    );
    assert_eq!(index_problems("lib.rs", &modules, &index).len(), 1);
}
