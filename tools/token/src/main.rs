//! `pubsub-token`: prints an Edge Pub/Sub token for the given key and topics (see the
//! library documentation and `--help`). Errors go to stderr with exit code 2.

use std::io::Write as _;
use std::process::ExitCode;

use pubsub_token::{mint, now_secs, parse_args, Command, SECRET_ENV, USAGE};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub-token: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), pubsub_token::Error> {
    let options = match parse_args(std::env::args().skip(1), std::env::var(SECRET_ENV).ok())? {
        Command::Help => {
            print!("{USAGE}");
            return Ok(());
        }
        Command::Mint(options) => options,
    };
    let key = options.load_key()?;
    let token = mint(
        &options.kid,
        &key,
        &options.read,
        &options.write,
        options.ttl_secs,
        now_secs(),
    )?;
    // A closed stdout (e.g. `| head -c0`) is not worth a panic.
    let _ = writeln!(std::io::stdout(), "{token}");
    Ok(())
}
