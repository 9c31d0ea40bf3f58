//! The shell and JavaScript examples of the documentation, run against the real local stack
//! (Pushpin + Viceroy running the release wasm), straight from the Markdown: a changed
//! endpoint, parameter, status or event breaks this test, not the reader.
//!
//! Each document below is one test. Its `sh` blocks run in one `bash`, in order, as a reader
//! pasting them into one terminal would (variables carry over); its `js` blocks run one by one
//! in Chromium or Node. What a command or block must print is what the document shows under
//! it; `tests/support/examples.rs` states the conventions. The runner changes only this:
//!
//! - the documented addresses `http://127.0.0.1:7676` and `ws://…` (what `scripts/run.sh`
//!   serves, with its settings: history for every topic) and
//!   `https://pubsub.example.com` / `wss://pubsub.example.com` (a deployed service) point at
//!   this test's stack, which runs on free ports;
//! - `$TOKEN` (shell) and `token` (JavaScript) hold a dev token, as `scripts/run.sh` prints
//!   one: for topic `demo` in the README, for every topic (`#`) in the API reference;
//! - `curl` runs with `-sS` (no progress meter) and a time limit;
//! - commands run in a fresh temporary directory.
//!
//! Nothing is skipped: a block that cannot run here says `norun` in its info string, and a
//! document with runnable blocks must be listed here (checked).

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/examples.rs"]
mod examples;
#[path = "support/js_example.rs"]
mod js_example;
#[path = "support/markdown.rs"]
mod markdown;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use examples::{commands, indent, js_expect, missing, Command};
use js_example::js_dir;
use markdown::{blocks, Block};

/// The documents whose examples run, with the topics of the token they get.
const RUN: &[(&str, &[&str])] = &[
    ("README.md", &["demo"]),
    ("docs/api.md", &["#"]),
    ("docs/ai-streams.md", &["#"]),
];

/// The stack's Config Store settings: every topic keeps history, as `scripts/run.sh` has it.
const LOCAL_CONFIG: &[(&str, &str)] = &[("history", "# 1000 1h")];

/// How long a document's shell part may take, and how long output may be waited for.
const SCRIPT_LIMIT: Duration = Duration::from_secs(120);
const OUTPUT_WAIT: Duration = Duration::from_secs(15);

#[test]
fn the_readme_tour_runs() {
    run("README.md");
}

#[test]
fn the_api_reference_examples_run() {
    run("docs/api.md");
}

#[test]
fn the_ai_stream_recipe_runs() {
    run("docs/ai-streams.md");
}

#[test]
fn every_document_with_runnable_examples_is_run() {
    for doc in markdown::documents() {
        let runnable = blocks(&markdown::read(&doc))
            .into_iter()
            .filter(is_runnable)
            .count();
        let listed = RUN.iter().any(|(d, _)| *d == doc);
        assert!(
            runnable == 0 || listed,
            "{doc} has {runnable} sh/js blocks without `norun`: list it in RUN (and add a test) \
             or mark them `norun`"
        );
    }
}

fn is_runnable(b: &Block) -> bool {
    matches!(b.lang.as_str(), "sh" | "bash" | "js") && !b.attrs.iter().any(|a| a == "norun")
}

fn run(doc: &str) {
    e2e::stack_with(LOCAL_CONFIG);
    let topics = RUN
        .iter()
        .find(|(d, _)| *d == doc)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("{doc} is not in RUN"));
    let token = e2e::token(topics, topics);
    let md = markdown::read(doc);
    let runnable: Vec<Block> = blocks(&md).into_iter().filter(is_runnable).collect();
    assert!(!runnable.is_empty(), "{doc} has no example to run");
    check_prerequisites();
    let started = Instant::now();
    let dir = work_dir(doc);
    let shell: Vec<Command> = runnable
        .iter()
        .filter(|b| b.lang != "js")
        .flat_map(commands)
        .collect();
    let mut failures = run_shell(doc, &shell, &dir, &token);
    for block in runnable.iter().filter(|b| b.lang == "js") {
        failures.extend(run_js(doc, block, &dir, &token));
    }
    eprintln!(
        "{doc}: {} commands, {} JavaScript blocks in {:.1} s",
        shell.len(),
        runnable.iter().filter(|b| b.lang == "js").count(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} example(s) of {doc} failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Fails (never skips) when a tool the examples use is missing.
fn check_prerequisites() {
    for package in ["mqtt", "playwright-core"] {
        let installed = js_dir()
            .join("node_modules")
            .join(package)
            .join("package.json");
        assert!(
            installed.is_file(),
            "{package} is not installed in tests/js: run scripts/setup.sh"
        );
    }
    let tools = [
        ("node", "--version"),
        ("curl", "--version"),
        ("jq", "--version"),
    ];
    for (tool, arg) in tools.into_iter().chain([("openssl", "version")]) {
        let ran = std::process::Command::new(tool).arg(arg).output();
        assert!(
            matches!(&ran, Ok(out) if out.status.success()),
            "`{tool}` is not runnable ({ran:?}): run scripts/setup.sh"
        );
    }
}

/// A fresh directory for one document's run.
fn work_dir(doc: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("docs-examples")
        .join(doc.replace('/', "_"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the examples' directory");
    dir
}

/// The documented addresses, pointed at this test's stack.
fn rewrite(code: &str) -> String {
    let app = e2e::stack().app_url();
    let ws = app.replacen("http://", "ws://", 1);
    code.replace("http://127.0.0.1:7676", &app)
        .replace("ws://127.0.0.1:7676", &ws)
        .replace("https://pubsub.example.com", &app)
        .replace("wss://pubsub.example.com", &ws)
}

const PRELUDE: &str = r#"
curl() {
  case " $* " in
    *" -N "*) command curl -sS --max-time 60 "$@" ;;
    *) command curl -sS --max-time 15 "$@" ;;
  esac
}
# Waits (at most 10 s) until the stream in file $1 opened or failed, or its job $2 ended.
__wait_stream() {
  for _ in $(seq 100); do
    grep -qE 'stream-(open|error)' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 0
    sleep 0.1
  done
}
"#;

/// Runs the commands in one `bash` and checks what each printed.
fn run_shell(doc: &str, cmds: &[Command], dir: &Path, token: &str) -> Vec<String> {
    if cmds.is_empty() {
        return Vec::new();
    }
    let out = |n: usize| dir.join(format!("{n}.out"));
    let mut script = String::from(PRELUDE);
    for (n, cmd) in cmds.iter().enumerate() {
        let text = rewrite(&cmd.text);
        let file = out(n).display().to_string();
        if cmd.stream {
            script.push_str(&format!(
                "{{\n{text}\n}} >'{file}' 2>&1 &\n__wait_stream '{file}' $!\n"
            ));
        } else {
            script.push_str(&format!(
                "{{\n{text}\n}} >'{file}' 2>&1\necho $? >'{file}.rc'\n"
            ));
        }
    }
    let path = dir.join("examples.sh");
    std::fs::write(&path, script).expect("write the script");
    let mut bash = std::process::Command::new("bash")
        .arg(&path)
        .current_dir(dir)
        .env("TOKEN", token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("run bash");
    let mut failures = Vec::new();
    if !wait(&mut bash, SCRIPT_LIMIT) {
        failures.push(format!(
            "{doc}: the shell examples did not end within {SCRIPT_LIMIT:?}"
        ));
    }
    let deadline = Instant::now() + OUTPUT_WAIT;
    for (n, cmd) in cmds.iter().enumerate() {
        let read = || std::fs::read_to_string(out(n)).unwrap_or_default();
        let mut output = read();
        while cmd.stream && missing(&cmd.expect, &output).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            output = read();
        }
        let rc = std::fs::read_to_string(format!("{}.rc", out(n).display())).ok();
        let failed = !cmd.stream && rc.as_deref().map(str::trim) != Some("0");
        let lacking = missing(&cmd.expect, &output);
        if failed || lacking.is_some() {
            let why = match lacking {
                Some(line) => format!("lacks the documented line {line:?}"),
                None => format!("exited with {:?}", rc.unwrap_or_default().trim()),
            };
            failures.push(format!(
                "{doc}:{}: {}\n  {why}; it printed:\n{}",
                cmd.line,
                cmd.text,
                indent(&output)
            ));
        }
    }
    stop_group(&mut bash);
    failures
}

/// Waits for `child` at most `limit`; false if it is still running.
fn wait(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Stops `child`'s process group (the background streams with it).
fn stop_group(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs one `js` block until it printed what the document shows (or the wait passed).
fn run_js(doc: &str, block: &Block, dir: &Path, token: &str) -> Option<String> {
    let expect = js_expect(block);
    let here = format!("{doc}:{}", block.line);
    if expect.is_empty() {
        return Some(format!(
            "{here}: a js block must end with the lines it prints (as comments), or say `norun`"
        ));
    }
    let code = format!("const token = {token:?};\n{}", rewrite(&block.text));
    let example = js_example::Example {
        here: &here,
        code: &code,
        expect: &expect,
        dir,
        app_url: &e2e::stack().app_url(),
    };
    example.run(OUTPUT_WAIT + Duration::from_secs(10))
}
