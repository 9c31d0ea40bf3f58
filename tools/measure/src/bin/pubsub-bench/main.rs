//! `pubsub-bench`: the CPU time per request of the current module against a baseline's,
//! side by side in one run, on the real local stack. Run it with `scripts/bench.sh`.
//!
//! 1. Builds the release wasm of the working tree (or `--current REV`) and of
//!    `--baseline REV` (default `125a015`); a revision is built in a temporary
//!    `git worktree` with its own `CARGO_TARGET_DIR` and cached by commit hash
//!    (`wasm.rs`).
//! 2. Starts each module on its own Pushpin + Viceroy (`measure.rs`), both with
//!    `max-topics = 10`, the current one also with the `--current-config` entries (to
//!    measure a layer that configuration switches on against the baseline).
//! 3. Warms every path up, then runs `--rounds` rounds; in each round every path
//!    (`paths.rs`) gets a batch of `--requests` sequential requests on each module,
//!    alternating which module goes first. A batch's cost is the CPU time of Viceroy's
//!    threads over the batch (`/proc/<pid>/task/*/schedstat`, ns; when a thread came or
//!    went during the batch, the process's `utime + stime` in clock ticks from
//!    `/proc/<pid>/stat`), divided by the requests; the wall time gives requests per
//!    second. Every answer is checked.
//! 4. Prints one table (median per path with min–max over the rounds, the ratio
//!    current / baseline, the app work = path − no-op of the same round, req/s, module
//!    sizes) and writes it as CSV (`report.rs`; `<target dir>/bench/bench.csv`).
//!
//! Loopback only; every process it starts stops when it ends (or dies).

mod client;
mod measure;
mod mqtt;
mod paths;
mod report;
mod wasm;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use measure::{Module, Sample};
use paths::Path;

const USAGE: &str = "usage: pubsub-bench [--baseline REV (125a015)] [--current REV (the working \
                     tree)] [--requests N per batch (500)] [--rounds R (5)] [--warmup N (20)] \
                     [--quick (100 requests, 3 rounds)] [--max-minutes M (10)] [--out CSV \
                     (<target dir>/bench/bench.csv)] [--show (print one answer of each path, then measure)] \
                     [--current-config KEY=VALUE (a Config Store entry of the current module; repeatable)]";

/// The start of the performance work, the default baseline.
const DEFAULT_BASELINE: &str = "125a015";

struct Args {
    baseline: String,
    current: Option<String>,
    requests: usize,
    rounds: usize,
    warmup: usize,
    max_time: Duration,
    out: PathBuf,
    show: bool,
    current_config: Vec<(String, String)>,
}

fn main() -> ExitCode {
    match parse_args().and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> io::Result<Args> {
    let mut args = Args {
        baseline: DEFAULT_BASELINE.into(),
        current: None,
        requests: 500,
        rounds: 5,
        warmup: 20,
        max_time: Duration::from_secs(600),
        out: wasm::bench_dir().join("bench.csv"),
        show: false,
        current_config: Vec::new(),
    };
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}\n{USAGE}"));
    let number = |v: String, what: &str| v.parse::<usize>().map_err(|_| bad(what));
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| bad(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--baseline" => args.baseline = value()?,
            "--current" => args.current = Some(value()?),
            "--requests" => args.requests = number(value()?, "bad --requests")?,
            "--rounds" => args.rounds = number(value()?, "bad --rounds")?,
            "--warmup" => args.warmup = number(value()?, "bad --warmup")?,
            "--max-minutes" => {
                let minutes = number(value()?, "bad --max-minutes")? as u64;
                args.max_time = Duration::from_secs(minutes * 60);
            }
            "--quick" => (args.requests, args.rounds) = (100, 3),
            "--out" => args.out = PathBuf::from(value()?),
            "--show" => args.show = true,
            "--current-config" => {
                let entry = value()?;
                let (key, value) = entry
                    .split_once('=')
                    .ok_or_else(|| bad("--current-config needs KEY=VALUE"))?;
                args.current_config.push((key.into(), value.into()));
            }
            "-h" | "--help" => return Err(bad("")),
            other => return Err(bad(&format!("unknown argument {other}"))),
        }
    }
    if !(1..=100_000).contains(&args.requests) || !(1..=100).contains(&args.rounds) {
        return Err(bad(
            "--requests must be in 1..=100000 and --rounds in 1..=100",
        ));
    }
    Ok(args)
}

fn run(args: &Args) -> io::Result<()> {
    let baseline = wasm::revision(&args.baseline)?;
    let current = match &args.current {
        Some(rev) => wasm::revision(rev)?,
        None => wasm::working_tree()?,
    };
    let clk_tck = pubsub_measure::cpu::clk_tck();
    eprintln!(
        "pubsub-bench: baseline {} ({} B), current {} ({} B); starting two stacks",
        baseline.label, baseline.bytes, current.label, current.bytes
    );
    for (key, value) in &args.current_config {
        eprintln!("pubsub-bench: current module with Config Store {key} = {value:?}");
    }
    let mut modules = [
        Module::start('b', baseline, clk_tck, &[])?,
        Module::start('c', current, clk_tck, &args.current_config)?,
    ];
    if args.show {
        for m in &mut modules {
            m.show()?;
        }
    }
    let samples = rounds(&mut modules, args);
    for m in &mut modules {
        m.stop();
    }
    let samples = samples?;
    let builds = modules.map(|m| m.built.clone());
    let rows = report::rows(&samples);
    let all: Vec<&Sample> = samples.iter().flatten().flatten().collect();
    let ticked = all.iter().filter(|s| !s.precise).count();
    println!(
        "\nbaseline {} · current {} · {} requests × {} rounds per path and module · Viceroy \
         CPU time of its threads (/proc/<pid>/task/*/schedstat; {ticked} of {} batches from \
         /proc/<pid>/stat's {clk_tck} ticks/s, a thread came or went) · median (min–max)\n",
        builds[0].label,
        builds[1].label,
        args.requests,
        samples[0][0].len(),
        all.len()
    );
    print!("{}", report::table(&rows, &builds));
    report::write_csv(&args.out, &rows, &builds)?;
    println!("\nCSV: {}", args.out.display());
    Ok(())
}

/// The warm-up, then the rounds: `samples[path][module][round]`. Stops early (with the
/// rounds done so far) once `--max-minutes` have passed.
fn rounds(modules: &mut [Module; 2], args: &Args) -> io::Result<Vec<[Vec<Sample>; 2]>> {
    let mut samples: Vec<[Vec<Sample>; 2]> =
        Path::ALL.iter().map(|_| [Vec::new(), Vec::new()]).collect();
    let start = Instant::now();
    for module in modules.iter_mut() {
        module.connect_mqtt(0)?;
        for path in Path::ALL {
            module.batch(path, 0, args.warmup)?;
        }
    }
    eprintln!("pubsub-bench: warmed up in {:.0?}", start.elapsed());
    for round in 1..=args.rounds {
        let order = if round % 2 == 1 { [0, 1] } else { [1, 0] };
        for m in order {
            modules[m].connect_mqtt(round)?;
        }
        for (p, path) in Path::ALL.into_iter().enumerate() {
            for m in order {
                let sample = modules[m].batch(path, round, args.requests)?;
                samples[p][m].push(sample);
            }
        }
        eprintln!(
            "pubsub-bench: round {round}/{} done after {:.0?}",
            args.rounds,
            start.elapsed()
        );
        if start.elapsed() > args.max_time && round < args.rounds {
            eprintln!("pubsub-bench: --max-minutes reached; reporting {round} rounds");
            break;
        }
    }
    Ok(samples)
}
