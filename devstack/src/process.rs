//! Child processes that can never outlive the process that started them.
//!
//! Each service runs under a tiny `sh` wrapper whose stdin is a pipe held only by this
//! process. The wrapper starts the service in the background with output appended to a
//! log file, prints the service's pid, and then waits. When the pipe reaches end of file,
//! which happens when [`Supervised::stop`] closes it *or when this process dies for any
//! reason* (panic, `exit` without running destructors, SIGKILL, Ctrl-C), the wrapper
//! sends SIGTERM to the service and waits for it. Pushpin's runner needs exactly that:
//! on SIGTERM it stops condure, zurl, pushpin-proxy and pushpin-handler, while SIGKILL
//! would leave them running. When the service exits on its own, the wrapper exits too,
//! so [`Supervised::exit_status`] notices crashes.
//!
//! The wrapper ignores SIGINT and SIGHUP: a Ctrl-C in a terminal reaches the whole
//! foreground process group, and if the wrapper died of it, nobody would stop the
//! service, which (started in the background by a non-interactive shell) ignores SIGINT.
//! Instead the Ctrl-C kills the parent, the pipe closes, and the wrapper shuts the
//! service down in order. A SIGTERM to the wrapper (e.g. `timeout`, which signals its
//! whole process group) is passed on to the service, and the wrapper still waits and
//! cleans up. Optionally the wrapper removes a directory once the service has stopped on
//! request (the run directory; not for a crash, nor after a `keep` line on the pipe).

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The wrapper. Arguments: `$1` log file, `$2` directory to remove after a requested stop
/// (or empty), then the command line. The directory is kept when the service exits on its
/// own, so that its logs can still be read, and when a `keep` line came on the pipe.
const WRAPPER: &str = r#"
log=$1; cleanup=$2; shift 2
trap '' INT HUP
exec 3<&0
"$@" 0</dev/null 3<&- >>"$log" 2>&1 &
child=$!
stopping=
trap 'stopping=1; kill -TERM "$child" 2>/dev/null' TERM
echo "$child"
{
  trap - TERM
  while read -r line 0<&3; do [ "$line" = keep ] && cleanup=; done
  if [ -n "$cleanup" ]; then : >"$cleanup/.stopping" 2>/dev/null; fi
  kill -TERM "$child" 2>/dev/null
} 0</dev/null 1>/dev/null &
watcher=$!
exec 3<&-
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
if [ -n "$cleanup" ] && { [ -n "$stopping" ] || [ -e "$cleanup/.stopping" ]; }; then
  rm -rf "$cleanup"
fi
exit "$status"
"#;

/// A service running under the stdin-pipe wrapper.
#[derive(Debug)]
pub(crate) struct Supervised {
    name: String,
    wrapper: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    exited: Option<ExitStatus>,
}

impl Supervised {
    /// Starts `program args..` in `cwd` with stdout and stderr appended to `log`.
    /// `cleanup`, if given, is removed by the wrapper once the service has stopped after
    /// the pipe closed (not when it exited on its own).
    pub(crate) fn spawn(
        name: &str,
        program: &Path,
        args: &[OsString],
        cwd: &Path,
        log: &Path,
        cleanup: Option<&Path>,
    ) -> io::Result<Self> {
        let log_file = OpenOptions::new().create(true).append(true).open(log)?;
        let mut wrapper = Command::new("/bin/sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("sh")
            .arg(log)
            .arg(cleanup.map(Path::as_os_str).unwrap_or_default())
            .arg(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot start /bin/sh for {name}: {e}"))
            })?;
        let stdin = wrapper.stdin.take();
        let pid_line = match wrapper.stdout.take() {
            Some(out) => {
                let mut line = String::new();
                BufReader::new(out).read_line(&mut line)?;
                line
            }
            None => String::new(),
        };
        let pid = match pid_line.trim().parse() {
            Ok(pid) => pid,
            Err(_) => {
                let _ = wrapper.kill();
                let _ = wrapper.wait();
                return Err(io::Error::other(format!(
                    "the wrapper for {name} did not report a pid; log {}:\n{}",
                    log.display(),
                    tail(log, 20)
                )));
            }
        };
        Ok(Self {
            name: name.to_string(),
            wrapper,
            stdin,
            pid,
            exited: None,
        })
    }

    /// The service's name as given to [`Supervised::spawn`].
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The wrapper's pid.
    #[cfg(test)]
    fn wrapper_pid(&self) -> u32 {
        self.wrapper.id()
    }

    /// The service's own pid (not the wrapper's).
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status if the service (and therefore its wrapper) has exited.
    pub(crate) fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.wrapper.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Like [`Supervised::stop`], but the wrapper leaves its cleanup directory in place
    /// (the service is to be started again in it).
    pub(crate) fn stop_keeping_files(&mut self, grace: Duration) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(b"keep\n").and_then(|()| stdin.flush());
        }
        self.stop(grace);
    }

    /// Closes the pipe (the wrapper sends SIGTERM and waits for the service) and waits
    /// up to `grace` for the wrapper; after that the service and the wrapper get SIGKILL.
    pub(crate) fn stop(&mut self, grace: Duration) {
        drop(self.stdin.take());
        if self.exited.is_some() {
            return;
        }
        let deadline = Instant::now() + grace;
        loop {
            match self.wrapper.try_wait() {
                Ok(Some(status)) => {
                    self.exited = Some(status);
                    return;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => break,
            }
        }
        let _ = writeln!(
            io::stderr(),
            "pubsub-devstack: {} (pid {}) did not stop within {:?}; killing it",
            self.name,
            self.pid,
            grace
        );
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(self.pid.to_string())
            .stderr(Stdio::null())
            .status();
        let _ = self.wrapper.kill();
        self.exited = self.wrapper.wait().ok();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}

/// The last `lines` lines of a log file (or a note that it cannot be read).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = match File::open(path) {
        Ok(mut f) => {
            // Only the end matters; skip ahead in big logs.
            if let Ok(len) = f.metadata().map(|m| m.len()) {
                let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
            }
            let mut bytes = Vec::new();
            if f.read_to_end(&mut bytes).is_err() {
                return format!("    (cannot read {})", path.display());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Err(e) => return format!("    (cannot read {}: {e})", path.display()),
    };
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    if all.is_empty() {
        return "    (empty)".to_string();
    }
    all[start..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Copies lines appended to a log file to this process's stderr, with a prefix.
#[derive(Debug)]
pub(crate) struct LogForwarder {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LogForwarder {
    /// Starts following `path` from its current end.
    pub(crate) fn start(path: &Path, prefix: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let path = path.to_path_buf();
        let prefix = prefix.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("log {prefix}"))
            .spawn(move || follow(&path, &prefix, &flag))
            .ok();
        Self { stop, thread }
    }

    /// Prints what is left and stops following.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for LogForwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

fn follow(path: &Path, prefix: &str, stop: &AtomicBool) {
    let mut file = None;
    let mut pending = Vec::new();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if file.is_none() {
            file = File::open(path).ok();
        }
        let mut got = 0;
        if let Some(f) = file.as_mut() {
            let mut buf = [0u8; 8192];
            while let Ok(n) = f.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got += n;
                pending.extend_from_slice(&buf[..n]);
            }
        }
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let _ = writeln!(io::stderr(), "[{prefix}] {}", line.trim_end());
        }
        if stopping && got == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A supervised `sleep 300` with a cleanup directory, in a scratch directory.
    fn supervised_sleep(name: &str) -> (PathBuf, PathBuf, Supervised) {
        let dir = scratch(name);
        let doomed = dir.join("doomed");
        std::fs::create_dir_all(&doomed).expect("mkdir");
        let log = dir.join("sleep.log");
        let p = Supervised::spawn(
            "sleep",
            Path::new("sleep"),
            &["300".into()],
            &dir,
            &log,
            Some(&doomed),
        )
        .expect("spawn");
        (dir, doomed, p)
    }

    /// Runs `program args..` supervised in scratch directory `name`, with the directory
    /// as cleanup directory if `cleanup`, and waits up to 5 s for it to exit. Returns the
    /// directory, the log and the service.
    fn run_to_exit(
        name: &str,
        program: &str,
        args: &[OsString],
        cleanup: bool,
    ) -> (PathBuf, PathBuf, Supervised) {
        let dir = scratch(name);
        let log = dir.join(format!("{name}.log"));
        let mut p = Supervised::spawn(
            program,
            Path::new(program),
            args,
            &dir,
            &log,
            cleanup.then_some(dir.as_path()),
        )
        .expect("the wrapper itself starts");
        wait_for_exit(&mut p);
        (dir, log, p)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "pubsub-devstack-proc-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    /// Waits up to 5 s for `p` to exit.
    fn wait_for_exit(p: &mut Supervised) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while p.exit_status().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn alive(pid: u32) -> bool {
        Command::new("kill")
            .arg("-0")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    #[test]
    fn closing_the_pipe_terminates_the_service_and_removes_the_cleanup_dir() {
        let (dir, doomed, mut p) = supervised_sleep("stop");
        let pid = p.pid();
        assert!(alive(pid));
        assert!(p.exit_status().is_none());
        let started = Instant::now();
        p.stop(Duration::from_secs(5));
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "stop took too long"
        );
        assert!(!alive(pid), "service survived");
        assert!(!doomed.exists(), "cleanup dir left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stop_that_keeps_the_files_leaves_the_cleanup_dir() {
        let (dir, doomed, mut p) = supervised_sleep("keep");
        let pid = p.pid();
        p.stop_keeping_files(Duration::from_secs(5));
        assert!(!alive(pid), "service survived");
        assert!(doomed.exists(), "the cleanup dir was removed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sigterm_to_the_wrapper_stops_the_service_and_cleans_up() {
        let (dir, doomed, mut p) = supervised_sleep("term");
        let pid = p.pid();
        let killed = Command::new("kill")
            .arg("-TERM")
            .arg(p.wrapper_pid().to_string())
            .status()
            .expect("kill");
        assert!(killed.success());
        wait_for_exit(&mut p);
        assert!(p.exit_status().is_some(), "wrapper still running");
        assert!(!alive(pid), "service survived");
        assert!(!doomed.exists(), "cleanup dir left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_service_that_exits_is_noticed_and_its_output_logged() {
        let (dir, log, mut p) = run_to_exit(
            "exit",
            "sh",
            &["-c".into(), "echo hello-from-service; exit 3".into()],
            true,
        );
        assert_eq!(p.exit_status().and_then(|s| s.code()), Some(3));
        assert!(dir.exists(), "a crashed service's directory must be kept");
        assert!(tail(&log, 5).contains("hello-from-service"));
        assert_eq!(p.name(), "sh");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_program_fails_with_its_log() {
        let (dir, log, mut p) = run_to_exit("missing", "/nonexistent/program", &[], false);
        assert!(p.exit_status().is_some_and(|s| !s.success()));
        assert!(tail(&log, 5).contains("/nonexistent/program"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
