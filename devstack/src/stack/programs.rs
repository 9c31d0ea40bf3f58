//! What a stack runs: the wasm app, and Viceroy and Pushpin found on the machine.

use std::io;
use std::path::{Path, PathBuf};

use crate::conf;

/// What a stack runs: the wasm app, Viceroy and Pushpin.
#[derive(Debug)]
pub(super) struct Programs {
    pub(super) wasm: PathBuf,
    pub(super) viceroy: PathBuf,
    pub(super) pushpin: PathBuf,
}

impl Programs {
    /// Checks that the wasm app (`wasm`, relative to `workspace`) exists, then finds
    /// Viceroy and Pushpin.
    pub(super) fn find(workspace: &Path, wasm: &Path) -> io::Result<Self> {
        let wasm = conf::absolute(workspace, wasm);
        if !wasm.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "wasm app {} not found; build it with `cargo build --bin edge-pubsub \
                     --release --target wasm32-wasip1`",
                    wasm.display()
                ),
            ));
        }
        Ok(Self {
            wasm,
            viceroy: find_program("viceroy", "PUBSUB_VICEROY_BIN")?,
            pushpin: find_program("pushpin", "PUBSUB_PUSHPIN_BIN")?,
        })
    }
}

/// Finds an executable: `$<env_var>`, then `PATH`, then Cargo's bin directory (where
/// `cargo install viceroy` puts it).
fn find_program(name: &str, env_var: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(path) = std::env::var_os(env_var) {
        return Ok(PathBuf::from(path));
    }
    let is_exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo_home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_exec(p))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "`{name}` not found on PATH or in ~/.cargo/bin; run scripts/setup.sh (or \
                     set {env_var})"
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_on_path() {
        assert!(find_program("sh", "PUBSUB_TEST_UNSET_VARIABLE").is_ok());
        let err =
            find_program("no-such-program-xyz", "PUBSUB_TEST_UNSET_VARIABLE").expect_err("missing");
        assert!(err.to_string().contains("scripts/setup.sh"));
    }
}
