//! The command line: `embassy-bot [--config PATH] [run | preview [TARGET] | check-source TARGET | check-config]`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::config::{Config, TELEGRAM_API};
use crate::redact::Redacted;

/// Shown by `--help` and after a usage error.
pub const USAGE: &str = "\
Usage: embassy-bot [--config PATH] [COMMAND]

Commands:
  run                  run the bot (the default); needs TELOXIDE_TOKEN
  preview [TARGET]     read a page once and print what /latest, /time, /counters
                       and /contact would answer (no token needed)
  check-source TARGET  read a source once and print each item, the charset, the
                       HTTP caching headers and warnings (for tuning patterns and
                       selectors; exits 1 on a read error or when nothing is found)
                       TARGET: a configured source's name, a URL, or a saved file
  check-config         validate the configuration and print the effective values

Options:
  -c, --config PATH    TOML configuration (default: built-in embassy settings;
                       also EMBASSY_BOT_CONFIG)
  -h, --help           this text
  -V, --version        the version

Logging: RUST_LOG (for example RUST_LOG=debug).";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Run {
        config: Option<PathBuf>,
    },
    Preview {
        config: Option<PathBuf>,
        target: Option<String>,
    },
    CheckSource {
        config: Option<PathBuf>,
        target: String,
    },
    CheckConfig {
        config: Option<PathBuf>,
    },
    Help,
    Version,
}

/// Parses arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Action, String> {
    let mut config: Option<PathBuf> = std::env::var_os("EMBASSY_BOT_CONFIG").map(PathBuf::from);
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Action::Help),
            "-V" | "--version" => return Ok(Action::Version),
            "-c" | "--config" => {
                let path = args.next().ok_or("--config needs a file path")?;
                config = Some(PathBuf::from(path));
            }
            _ if arg.starts_with("--config=") => {
                config = Some(PathBuf::from(&arg["--config=".len()..]));
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`")),
            _ => positional.push(arg),
        }
    }
    let mut positional = positional.into_iter();
    let action = match positional.next().as_deref() {
        None | Some("run") => Action::Run { config },
        Some("preview") => Action::Preview {
            config,
            target: positional.next(),
        },
        Some("check-source") => Action::CheckSource {
            config,
            target: positional
                .next()
                .ok_or("check-source needs a source name, a URL or a file")?,
        },
        Some("check-config") => Action::CheckConfig { config },
        Some(other) => return Err(format!("unknown command `{other}`")),
    };
    if let Some(extra) = positional.next() {
        return Err(format!("unexpected argument `{extra}`"));
    }
    Ok(action)
}

/// Runs the action: builds the runtime and logging, then the chosen command.
pub fn execute(action: Action) -> anyhow::Result<()> {
    match action {
        Action::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Action::Version => {
            println!("embassy-bot {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Action::CheckConfig { config } => {
            let config = Config::load(config.as_deref())?;
            println!("{}", describe(&config));
            Ok(())
        }
        Action::Preview { config, target } => {
            init_logging("warn");
            let config = Config::load(config.as_deref())?;
            let runtime = runtime()?;
            let report = runtime.block_on(crate::preview::run(
                &config,
                target.as_deref(),
                chrono::Utc::now(),
            ))?;
            print!("{report}");
            Ok(())
        }
        Action::CheckSource { config, target } => {
            init_logging("warn");
            let config = Config::load(config.as_deref())?;
            let report = runtime()?.block_on(crate::check_source::run(
                &config,
                &target,
                chrono::Utc::now(),
            ))?;
            print!("{}", report.text);
            if report.items == 0 {
                anyhow::bail!("no items found in {target}");
            }
            Ok(())
        }
        Action::Run { config } => {
            init_logging("info");
            let config = Config::load(config.as_deref())?;
            config.require_token()?;
            runtime()?.block_on(crate::app::run(config))
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},sled=warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// A human summary of the effective configuration (never the token, and URLs
/// without credentials or secret query values).
pub fn describe(config: &Config) -> String {
    let mut out = format!(
        "configuration is valid\ndata_dir = {}\n",
        config.data_dir.display()
    );
    out.push_str(&format!(
        "telegram: token {}, api {}, long poll {}s, throttle {} ({}/s, {} chats at once)\n",
        if config.telegram.token.is_some() {
            "set"
        } else {
            "NOT set"
        },
        config
            .telegram
            .api_url
            .as_ref()
            .map_or(TELEGRAM_API.to_string(), |u| Redacted(u).to_string()),
        config.telegram.long_poll.as_secs(),
        config.telegram.throttle,
        config.telegram.messages_per_sec,
        config.telegram.send_concurrency
    ));
    for s in &config.sources {
        out.push_str(&format!(
            "source `{}` ({}{}): {} every {}s, flood guard {} new items, pushes items up to {} days old, alerts admins after {}s of failures\n",
            s.name,
            s.kind,
            if s.selectors.is_some() { ", CSS selectors" } else { "" },
            Redacted(&s.url),
            s.interval.as_secs(),
            s.max_new_items,
            s.max_age_days,
            s.alert_after.as_secs()
        ));
    }
    for c in &config.time.clocks {
        out.push_str(&format!("clock {}: {}\n", c.label, c.zone));
    }
    for c in &config.counters {
        out.push_str(&format!(
            "counter since {} ({}): {}\n",
            c.since, c.zone, c.text
        ));
    }
    out.push_str(&format!(
        "contact fallback: {} / {}",
        config.contact.phone, config.contact.email
    ));
    out
}
