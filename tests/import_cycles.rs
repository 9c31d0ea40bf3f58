//! No two files of a crate import each other, through any path: the module graph of each
//! crate's `src/` (edges from `use crate::…`, `use super::…` and `use self::…` in product
//! code; test modules left out) has no cycle. A cycle means one concept spread over
//! several files, or two concepts that do not know which one comes first.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The crates whose `src/` is checked, relative to the workspace root.
const CRATES: [&str; 6] = [
    "src",
    "config/src",
    "core/src",
    "codec/src",
    "middleware/src",
    "handlers/src",
];

type Module = Vec<String>;

/// Every `.rs` file under `root` by its module path (`a/mod.rs` and `a.rs` are `a`).
fn modules(root: &Path, dir: &Path, out: &mut BTreeMap<Module, String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            modules(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .with_extension("");
            let mut module: Module = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let is_test = module.iter().any(|s| s == "tests");
            if !is_test {
                out.insert(module, fs::read_to_string(&path).expect("readable"));
            }
        }
    }
}

/// The product part of a file: everything before its `#[cfg(test)]` test module.
fn product(src: &str) -> &str {
    src.find("#[cfg(test)]\nmod ").map_or(src, |i| &src[..i])
}

/// The paths one `use` tree names, braces expanded (`a::{b, c::d}` → `a::b`, `a::c::d`).
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let (base, inner) = (&tree[..open], &tree[open + 1..tree.len() - 1]);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{base}{p}")))
        .collect()
}

/// The `use` trees of a file's product code: each item from its `use` to its `;`.
fn use_trees(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = product(src).lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let rest = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        let Some(rest) = rest else { continue };
        let mut tree = rest.to_owned();
        while !tree.contains(';') {
            let Some(next) = lines.next() else { break };
            tree.push_str(next);
        }
        out.push(tree.split(';').next().unwrap_or_default().to_owned());
    }
    out
}

/// The modules of the crate that `module`'s `use` items name.
fn imports(module: &Module, src: &str, all: &BTreeMap<Module, String>) -> BTreeSet<Module> {
    let mut out = BTreeSet::new();
    for tree in use_trees(src) {
        for path in expand(&tree) {
            let mut segs = path.split("::").map(str::to_owned).peekable();
            let mut target: Module = match segs.peek().map(String::as_str) {
                Some("crate") => Vec::new(),
                Some("super" | "self") => module.clone(),
                _ => continue,
            };
            for seg in segs {
                match seg.as_str() {
                    "crate" | "self" | "*" => {}
                    "super" => {
                        target.pop();
                    }
                    _ => target.push(seg),
                }
            }
            while !target.is_empty() && !all.contains_key(&target) {
                target.pop();
            }
            // The crate root only re-exports: an edge to it says nothing of the design.
            if !target.is_empty() && &target != module && all.contains_key(&target) {
                out.insert(target);
            }
        }
    }
    out
}

/// The cycles of the graph: its strongly connected components of more than one module.
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for (m, from_m) in &reachable {
        if done.contains(*m) || !from_m.contains(*m) {
            continue;
        }
        let component: Vec<Module> = from_m
            .iter()
            .filter(|other| reachable[other].contains(*m))
            .cloned()
            .collect();
        done.extend(component.iter().cloned());
        out.push(component);
    }
    out
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("/")
    }
}

#[test]
fn no_two_files_of_a_crate_import_each_other() {
    let mut found = Vec::new();
    for krate in CRATES {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate);
        let mut all = BTreeMap::new();
        modules(&root, &root, &mut all);
        let graph = all
            .iter()
            .map(|(m, src)| (m.clone(), imports(m, src, &all)))
            .collect();
        for cycle in cycles(&graph) {
            let names: Vec<String> = cycle.iter().map(name).collect();
            found.push(format!("{krate}: {}", names.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_cycle_and_expands_use_trees() {
    let all: BTreeMap<Module, String> = [
        (
            vec!["a".to_owned()],
            "//! doc\n\nuse crate::b::{X,\n    c::Y};\n".to_owned(),
        ),
        (vec!["b".to_owned()], "use super::a::Z;\n".to_owned()),
        (vec!["b".to_owned(), "c".to_owned()], String::new()),
    ]
    .into_iter()
    .collect();
    let graph = all
        .iter()
        .map(|(m, src)| (m.clone(), imports(m, src, &all)))
        .collect();
    let found = cycles(&graph);
    assert_eq!(
        found,
        vec![vec![vec!["a".to_owned()], vec!["b".to_owned()]]]
    );
    assert_eq!(expand("a::{b, c::{d, e}}"), ["a::b", "a::c::d", "a::c::e"]);
}
