//! The documents' shape: every relative link and image resolves, with its `#anchor`; every
//! code fence names its language (rustdoc would compile an unnamed one as Rust); every
//! document with Rust examples is compiled as doctests (`src/lib.rs`); the README stays a
//! front door (at most 250 lines) that links every guide under `docs/`.

#[path = "support/markdown.rs"]
mod markdown;

use markdown::read;

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    for doc in markdown::documents() {
        let md = read(&doc);
        for link in markdown::links(&md) {
            let target = link.target.as_str();
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if path.is_empty() {
                std::path::PathBuf::from(&doc)
            } else {
                markdown::resolve(&doc, path)
            };
            let full = markdown::root().join(&file);
            if !full.exists() {
                broken.push(format!(
                    "{doc}:{}: {target} (no {})",
                    link.line,
                    file.display()
                ));
                continue;
            }
            let is_md = file.extension().is_some_and(|e| e == "md");
            if !anchor.is_empty() && is_md {
                let text = std::fs::read_to_string(&full).unwrap_or_default();
                if !markdown::anchors(&text).iter().any(|a| a == anchor) {
                    broken.push(format!(
                        "{doc}:{}: {target} (no heading #{anchor})",
                        link.line
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_code_fence_names_its_language() {
    for doc in markdown::documents() {
        for block in markdown::blocks(&read(&doc)) {
            assert!(
                !block.lang.is_empty(),
                "{doc}:{}: name the block's language (`text` for diagrams and output): \
                 rustdoc compiles an unnamed block as Rust",
                block.line
            );
        }
    }
}

#[test]
fn every_document_with_rust_examples_is_a_doctest() {
    let lib = read("src/lib.rs");
    for doc in markdown::documents() {
        let rust = markdown::blocks(&read(&doc))
            .iter()
            .any(|b| b.lang == "rust");
        let included = lib.contains(&format!("include_str!(\"../{doc}\")"));
        assert!(
            !rust || included,
            "{doc} has Rust examples: include it in src/lib.rs's doctests so they compile"
        );
    }
}

#[test]
fn the_readme_is_a_front_door_to_every_guide() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: move detail into a guide under docs/"
    );
    for doc in markdown::documents()
        .iter()
        .filter(|d| d.starts_with("docs/"))
    {
        assert!(
            readme.contains(&format!("]({doc}")),
            "README.md does not link {doc}: add it to the map of the guides"
        );
    }
}
