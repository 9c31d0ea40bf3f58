//! The command line: [`parse_args`] turns it into a [`Command`].

use std::path::PathBuf;

use jsonwebtoken::Algorithm;

use crate::{Error, KeySource, Options, DEFAULT_TTL_SECS, SECRET_ENV};

/// The command-line help.
pub const USAGE: &str = "\
Mints an Edge Pub/Sub token and prints it.

usage:
  pubsub-token --kid ID --secret VALUE [options]
  pubsub-token --kid ID --key-file PRIVATE.pem [--alg ES256|EdDSA] [options]

key:
  --kid ID            key id (the `id` answered by POST /admin/keys)
  --secret VALUE      HS256 secret (the `value` answered by POST /admin/keys);
                      default: $PUBSUB_TOKEN_SECRET
  --key-file FILE     PKCS#8 PEM private key of a registered ES256 or EdDSA key
  --alg ALG           ES256 or EdDSA (default: the key file's type)

options:
  --read TOPICS       topics the token may subscribe to (comma-separated, repeatable)
  --write TOPICS      topics the token may publish to (comma-separated, repeatable)
  --ttl SECONDS       lifetime (default 3600)
  -h, --help          this help
";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Print the help.
    Help,
    /// Mint a token.
    Mint(Options),
}

/// The flags seen so far.
#[derive(Default)]
struct Flags {
    kid: Option<String>,
    secret: Option<String>,
    key_file: Option<PathBuf>,
    alg: Option<Algorithm>,
    ttl: Option<u64>,
    read: Vec<String>,
    write: Vec<String>,
}

/// Records a flag's value in [`Flags`], or says why the value is wrong.
type Setter = fn(&mut Flags, String) -> Result<(), Error>;

/// Every flag that takes a value, and what it sets.
const FLAGS: [(&str, Setter); 7] = [
    ("--kid", |f, v| {
        f.kid = Some(v);
        Ok(())
    }),
    ("--secret", |f, v| {
        f.secret = Some(v);
        Ok(())
    }),
    ("--key-file", |f, v| {
        f.key_file = Some(PathBuf::from(v));
        Ok(())
    }),
    ("--alg", |f, v| {
        f.alg = Some(algorithm(&v)?);
        Ok(())
    }),
    ("--read", |f, v| {
        f.read.extend(topics(&v));
        Ok(())
    }),
    ("--write", |f, v| {
        f.write.extend(topics(&v));
        Ok(())
    }),
    ("--ttl", |f, v| {
        f.ttl = Some(ttl(&v)?);
        Ok(())
    }),
];

/// Parses the arguments (without the program name). `env_secret` is the value of
/// [`SECRET_ENV`], used when neither `--secret` nor `--key-file` is given.
pub fn parse_args(
    args: impl IntoIterator<Item = String>,
    env_secret: Option<String>,
) -> Result<Command, Error> {
    let mut args = args.into_iter();
    let mut flags = Flags::default();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        let (_, set) = FLAGS
            .iter()
            .find(|(name, _)| *name == flag)
            .ok_or_else(|| usage(format!("unknown argument {flag:?}")))?;
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| usage(format!("{flag} needs a value")))?;
        set(&mut flags, value)?;
    }
    flags.into_command(env_secret)
}

impl Flags {
    /// Checks that the flags go together and fills in the defaults.
    fn into_command(self, env_secret: Option<String>) -> Result<Command, Error> {
        let kid = self.kid.ok_or_else(|| usage("--kid is required"))?;
        if kid.is_empty() {
            return Err(usage("--kid is empty"));
        }
        let key = key_source(self.secret, self.key_file, self.alg, env_secret)?;
        if self.read.is_empty() && self.write.is_empty() {
            return Err(usage("give at least one --read or --write topic"));
        }
        Ok(Command::Mint(Options {
            kid,
            key,
            read: self.read,
            write: self.write,
            ttl_secs: self.ttl.unwrap_or(DEFAULT_TTL_SECS),
        }))
    }
}

/// The key from `--secret`, `--key-file` (with `--alg`) or, failing both, `env_secret`.
fn key_source(
    secret: Option<String>,
    key_file: Option<PathBuf>,
    alg: Option<Algorithm>,
    env_secret: Option<String>,
) -> Result<KeySource, Error> {
    let key = match (secret, key_file) {
        (Some(_), Some(_)) => return Err(usage("give --secret or --key-file, not both")),
        (Some(secret), None) => KeySource::Secret(secret),
        (None, Some(path)) => KeySource::File { path, alg },
        (None, None) => match env_secret.filter(|s| !s.is_empty()) {
            Some(secret) => KeySource::Secret(secret),
            None => {
                return Err(usage(format!(
                    "give --secret (or set {SECRET_ENV}) or --key-file"
                )))
            }
        },
    };
    if alg.is_some() && matches!(key, KeySource::Secret(_)) {
        return Err(usage(
            "--alg goes with --key-file (a secret always signs HS256)",
        ));
    }
    Ok(key)
}

fn algorithm(value: &str) -> Result<Algorithm, Error> {
    match value.to_ascii_lowercase().as_str() {
        "es256" => Ok(Algorithm::ES256),
        "eddsa" | "ed25519" => Ok(Algorithm::EdDSA),
        other => Err(usage(format!("--alg {other}: expected ES256 or EdDSA"))),
    }
}

fn ttl(value: &str) -> Result<u64, Error> {
    value
        .parse::<u64>()
        .ok()
        .filter(|t| *t > 0)
        .ok_or_else(|| usage(format!("--ttl {value}: expected a number of seconds > 0")))
}

fn topics(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn usage(why: impl Into<String>) -> Error {
    Error::Usage(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn owned(topics: &[&str]) -> Vec<String> {
        topics.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn command_lines_are_parsed() {
        let secret = |s: &str| KeySource::Secret(s.into());
        let mint = |kid: &str, key, read: &[&str], write: &[&str], ttl| {
            Ok(Command::Mint(Options {
                kid: kid.into(),
                key,
                read: owned(read),
                write: owned(write),
                ttl_secs: ttl,
            }))
        };
        let cases = [
            ("--help", None, Ok(Command::Help)),
            ("--kid k --secret s -h", None, Ok(Command::Help)),
            (
                "--kid k --secret s --read a,b --write c",
                None,
                mint("k", secret("s"), &["a", "b"], &["c"], 3600),
            ),
            (
                "--kid=k --secret=s --read a --read b,,c --ttl=60",
                None,
                mint("k", secret("s"), &["a", "b", "c"], &[], 60),
            ),
            (
                "--kid k --write t",
                Some("from-env"),
                mint("k", secret("from-env"), &[], &["t"], 3600),
            ),
            (
                "--kid k --secret flag --write t",
                Some("from-env"),
                mint("k", secret("flag"), &[], &["t"], 3600),
            ),
            (
                "--kid k --key-file p.pem --alg eddsa --read t",
                None,
                mint(
                    "k",
                    KeySource::File {
                        path: "p.pem".into(),
                        alg: Some(Algorithm::EdDSA),
                    },
                    &["t"],
                    &[],
                    3600,
                ),
            ),
        ];
        for (line, env, want) in cases {
            assert_eq!(
                parse_args(args(line), env.map(str::to_owned)),
                want,
                "{line}"
            );
        }
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let cases = [
            ("--secret s --read a", "--kid is required"),
            ("--kid k --read a", "--secret"),
            ("--kid k --secret s", "at least one"),
            ("--kid k --secret s --key-file f --read a", "not both"),
            ("--kid k --secret s --alg ES256 --read a", "--alg goes with"),
            (
                "--kid k --key-file f --alg RS256 --read a",
                "expected ES256 or EdDSA",
            ),
            ("--kid k --secret s --read a --ttl 0", "--ttl 0"),
            ("--kid k --secret s --read a --ttl soon", "--ttl soon"),
            ("--kid k --secret s --read", "--read needs a value"),
            ("--kid k --secret s --read a --verbose", "unknown argument"),
        ];
        for (line, reason) in cases {
            let err = parse_args(args(line), None).expect_err(line);
            assert!(matches!(err, Error::Usage(_)), "{line}");
            assert!(err.to_string().contains(reason), "{line}: {err}");
        }
    }
}
