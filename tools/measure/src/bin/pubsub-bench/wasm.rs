//! Building the two release modules: the working tree's, and a git revision's from a
//! throw-away `git worktree` (so the working tree is never touched) with its own
//! `CARGO_TARGET_DIR`. A revision's module is cached by commit hash under
//! `<target dir>/bench/wasm/`.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A built module, copied to where the benchmark runs it from.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    /// The short commit hash, plus `+ uncommitted changes` for a dirty working tree.
    pub(crate) label: String,
    pub(crate) wasm: PathBuf,
    pub(crate) bytes: u64,
}

/// `<target dir>/bench`: the modules, the revisions' target dir and the CSV.
pub(crate) fn bench_dir() -> PathBuf {
    let workspace = pubsub_devstack::workspace_dir();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"));
    target.join("bench")
}

/// Builds the working tree's release module (with the caller's `CARGO_TARGET_DIR`) and
/// copies it to `<bench dir>/wasm/current.wasm`, so that a rebuild during the run does
/// not change what is measured.
pub(crate) fn working_tree() -> io::Result<Built> {
    let workspace = pubsub_devstack::workspace_dir();
    eprintln!("pubsub-bench: building the working tree's release wasm");
    cargo_build(&workspace, None)?;
    let mut label = git(&workspace, &["rev-parse", "--short", "HEAD"])?;
    let dirty = !git(
        &workspace,
        &["status", "--porcelain", "--untracked-files=no"],
    )?
    .is_empty();
    if dirty {
        label.push_str(" + uncommitted changes");
    }
    let dest = bench_dir().join("wasm").join("current.wasm");
    copy(&pubsub_devstack::default_wasm(), &dest)?;
    built(label, dest)
}

/// The release module of git revision `rev`, built once per commit from a temporary
/// worktree into `<bench dir>/rev-target` and cached as `<bench dir>/wasm/<hash>.wasm`.
pub(crate) fn revision(rev: &str) -> io::Result<Built> {
    let workspace = pubsub_devstack::workspace_dir();
    let spec = format!("{rev}^{{commit}}");
    let hash = git(&workspace, &["rev-parse", "--verify", "--quiet", &spec])
        .map_err(|e| io::Error::other(format!("unknown revision {rev}: {e}")))?;
    let short = git(&workspace, &["rev-parse", "--short", &hash])?;
    let dest = bench_dir().join("wasm").join(format!("{hash}.wasm"));
    if dest.is_file() {
        eprintln!("pubsub-bench: {short}: cached module {}", dest.display());
        return built(short, dest);
    }
    let tree = Worktree::add(&workspace, &hash)?;
    eprintln!(
        "pubsub-bench: {short}: building its release wasm in worktree {}",
        tree.dir.display()
    );
    let target = bench_dir().join("rev-target");
    cargo_build(&tree.dir, Some(&target))?;
    copy(
        &target
            .join("wasm32-wasip1")
            .join("release")
            .join("edge-pubsub.wasm"),
        &dest,
    )?;
    drop(tree);
    built(short, dest)
}

fn built(label: String, wasm: PathBuf) -> io::Result<Built> {
    let bytes = std::fs::metadata(&wasm)?.len();
    Ok(Built { label, wasm, bytes })
}

/// `cargo build --bin edge-pubsub --release --target wasm32-wasip1` in `dir`.
fn cargo_build(dir: &Path, target_dir: Option<&Path>) -> io::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--bin",
        "edge-pubsub",
        "--release",
        "--target",
        "wasm32-wasip1",
    ])
    .current_dir(dir);
    if let Some(target) = target_dir {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let status = cmd.status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "cargo build of the wasm in {} failed ({status})",
            dir.display()
        )));
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot copy {}: {e}", from.display())))
}

/// `git args..` in `dir`; its trimmed output.
fn git(dir: &Path, args: &[&str]) -> io::Result<String> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A detached worktree in the temp dir, removed (with `git worktree remove`) on drop.
struct Worktree {
    repo: PathBuf,
    dir: PathBuf,
}

impl Worktree {
    fn add(repo: &Path, hash: &str) -> io::Result<Self> {
        let short = hash.get(..12).unwrap_or(hash);
        let dir = std::env::temp_dir().join(format!("pubsub-bench-{short}-{}", std::process::id()));
        // A worktree left behind by a killed run is forgotten first.
        let _ = git(repo, &["worktree", "prune"]);
        let dir_str = dir.to_string_lossy().into_owned();
        git(repo, &["worktree", "add", "--detach", &dir_str, hash])?;
        Ok(Self {
            repo: repo.to_path_buf(),
            dir,
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let dir = self.dir.to_string_lossy().into_owned();
        if let Err(e) = git(&self.repo, &["worktree", "remove", "--force", &dir]) {
            eprintln!("pubsub-bench: cannot remove worktree {dir}: {e}");
        }
    }
}
