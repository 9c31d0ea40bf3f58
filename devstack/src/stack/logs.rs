//! The logs of a [`Stack`] (in its run directory) and what they tell when a service
//! exited.

use std::io;
use std::path::Path;

use super::Stack;
use crate::process::tail;

/// Log files of Pushpin's services, relative to the run directory.
pub(super) const PUSHPIN_LOGS: [&str; 5] = [
    "pushpin.log",
    "log/condure.log",
    "log/zurl.log",
    "log/pushpin-proxy.log",
    "log/pushpin-handler.log",
];

impl Stack {
    /// The last lines of every log, for diagnosing a failed test.
    pub fn logs(&self) -> String {
        let mut names = vec!["viceroy.log"];
        names.extend(PUSHPIN_LOGS);
        self.log_tails(&names, 30)
    }

    /// `Ok` while both Viceroy and Pushpin run; otherwise an error naming the one that
    /// exited, with the tail of its log.
    pub fn check_running(&mut self) -> io::Result<()> {
        for (slot, logs) in [
            (&mut self.viceroy, &["viceroy.log"][..]),
            (&mut self.pushpin, &PUSHPIN_LOGS[..]),
        ] {
            if let Some(p) = slot.as_mut() {
                if let Some(status) = p.exit_status() {
                    let (name, pid) = (p.name().to_string(), p.pid());
                    return Err(io::Error::other(format!(
                        "{name} (pid {pid}) exited unexpectedly ({status})\n{}",
                        log_tails(&self.run_dir, logs, 30)
                    )));
                }
            }
        }
        Ok(())
    }

    pub(super) fn log_tails(&self, names: &[&str], lines: usize) -> String {
        log_tails(&self.run_dir, names, lines)
    }
}

/// Tails of the named logs that exist (a service that never started has none).
fn log_tails(run_dir: &Path, names: &[&str], lines: usize) -> String {
    names
        .iter()
        .map(|name| run_dir.join(name))
        .filter(|path| path.exists())
        .map(|path| format!("--- {} ---\n{}", path.display(), tail(&path, lines)))
        .collect::<Vec<_>>()
        .join("\n")
}
