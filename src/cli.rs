//! The command line: `embassy-bot [--config PATH] [run | preview [TARGET] | check-source TARGET | check-config | export [FILE] | import FILE]`,
//! parsed by clap (help, version and usage errors come from there), and logging set-up.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::builder::{OsStringValueParser, TypedValueParser as _};
use clap::{Parser, Subcommand};

use crate::config::{Config, TELEGRAM_API};
use crate::redact::Redacted;
use crate::store::Store;

/// Environment variable naming the configuration file when `--config` is not given
/// (the flag wins), so a container can point at a mounted file without changing its command.
pub const CONFIG_ENV: &str = "EMBASSY_BOT_CONFIG";

/// Shown after the options in `--help`: the settings that only the environment carries.
/// The token is not an argument at all (a command line is visible to every user of the
/// machine), so no help text can ever show its value.
const ENVIRONMENT: &str = "\
Environment (wins over the configuration file):
  TELOXIDE_TOKEN        the bot token from @BotFather (needed by `run`)
  TELOXIDE_API_URL      a self-hosted Bot API server
  EMBASSY_BOT_DATA_DIR  the database directory (`data_dir`)
  RUST_LOG              logging, for example RUST_LOG=debug";

/// What the user asked for: the global options and the subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "embassy-bot",
    version,
    about = "A Telegram bot that watches a news site (by default the Russian Embassy in the UK)\n\
             and pushes each new release to the chats that subscribed.",
    after_help = ENVIRONMENT,
    // Without a subcommand the bot runs, so the bare binary is the service.
    subcommand_value_name = "COMMAND",
    subcommand_help_heading = "Commands (default: run)"
)]
pub struct Cli {
    /// TOML configuration (default: the built-in embassy settings)
    ///
    /// An empty value also means the built-in settings.
    // Empty counts as not given, like the other variables config.rs reads, so
    // `EMBASSY_BOT_CONFIG=` from a compose file means the defaults, not an error.
    #[arg(
        short,
        long,
        global = true,
        value_name = "PATH",
        env = CONFIG_ENV,
        hide_env_values = true,
        value_parser = OsStringValueParser::new().map(PathBuf::from)
    )]
    config: Option<PathBuf>,
    /// What to do; `run` when none is given.
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands. Each reads the configuration first, so a bad file is
/// reported the same way whichever one was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the bot; needs TELOXIDE_TOKEN
    Run,
    /// Read a page once: what /latest, /time, /counters and /contact would answer
    ///
    /// Needs no token and touches no database.
    Preview {
        /// A saved page, a URL, or a configured source's name (default: the first source)
        target: Option<String>,
    },
    /// Read a source once: its items, charset, HTTP caching headers and warnings
    ///
    /// For tuning link patterns and selectors. Exits 1 on a read error or when
    /// nothing is found. A bare URL or file is read with the first source's
    /// settings and `kind = "auto"`.
    #[command(verbatim_doc_comment)]
    CheckSource {
        /// A configured source's name, a URL, or a saved file
        target: String,
    },
    /// Validate the configuration and print the effective values (never the token)
    CheckConfig,
    /// Write the bot's whole state (data_dir) as JSON Lines, to FILE or stdout
    ///
    /// Subscriptions, releases, ids of pruned releases, pushes still owed and
    /// each source's state: what `import` needs to rebuild it exactly. Stop the
    /// bot first: a running bot holds the database.
    #[command(verbatim_doc_comment)]
    Export {
        /// Where to write (default, or `-`: stdout); replaced only once complete
        file: Option<PathBuf>,
    },
    /// Rebuild the bot's state from an export, into an empty data_dir
    Import {
        /// A file written by `export`
        file: PathBuf,
    },
}

impl Cli {
    /// The configuration file and the command, with the defaults applied: no
    /// file when the path is empty, `run` when no command was given.
    pub fn into_parts(self) -> (Option<PathBuf>, Command) {
        (
            self.config.filter(|path| !path.as_os_str().is_empty()),
            self.command.unwrap_or(Command::Run),
        )
    }

    /// Runs the chosen command: builds the runtime and logging it needs first.
    pub fn execute(self) -> anyhow::Result<()> {
        let (config, command) = self.into_parts();
        match command {
            Command::CheckConfig => {
                let config = Config::load(config.as_deref())?;
                println!("{}", describe(&config));
                Ok(())
            }
            Command::Preview { target } => {
                init_logging("warn");
                let config = Config::load(config.as_deref())?;
                let report = runtime()?.block_on(crate::preview::run(
                    &config,
                    target.as_deref(),
                    chrono::Utc::now(),
                ))?;
                print!("{report}");
                Ok(())
            }
            Command::CheckSource { target } => {
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
            Command::Export { file } => {
                init_logging("warn");
                let config = Config::load(config.as_deref())?;
                crate::store::restrict_umask();
                export(&config.data_dir, file.filter(|f| f.as_os_str() != "-"))
            }
            Command::Import { file } => {
                init_logging("warn");
                let config = Config::load(config.as_deref())?;
                crate::store::restrict_umask();
                let input = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                let summary = Store::import(&config.data_dir, std::io::BufReader::new(input))
                    .with_context(|| format!("cannot import {}", file.display()))?;
                eprintln!("imported {summary} into {}", config.data_dir.display());
                Ok(())
            }
            Command::Run => {
                init_logging("info");
                let config = Config::load(config.as_deref())?;
                config.require_token()?;
                // Whatever sled creates in the data directory later stays private.
                crate::store::restrict_umask();
                runtime()?.block_on(crate::app::run(config))
            }
        }
    }
}

/// Writes the export of the store in `data_dir` to `file` (through a
/// temporary file beside it, so an earlier export there survives a failure)
/// or to stdout.
fn export(data_dir: &Path, file: Option<PathBuf>) -> anyhow::Result<()> {
    let store = Store::open(data_dir)?;
    let now = chrono::Utc::now();
    let summary = match &file {
        None => store.export(&mut std::io::stdout().lock(), now)?,
        Some(path) => {
            let mut partial = path.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            let written = (|| {
                let created = crate::store::private_create(&partial)
                    .with_context(|| format!("cannot create {}", partial.display()))?;
                let mut out = std::io::BufWriter::new(created);
                let summary = store.export(&mut out, now)?;
                out.into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .and_then(|()| std::fs::rename(&partial, path))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                anyhow::Ok(summary)
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&partial);
            }
            written?
        }
    };
    let to = file.map_or("stdout".to_string(), |f| f.display().to_string());
    eprintln!("exported {summary} from {} to {to}", data_dir.display());
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // sled::tree logs a failed flush once per tree as the handles drop after
        // a storage fault, which crate::storage has already reported.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("{default},sled=warn,sled::tree=off"))
        });
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
            "source `{}` ({}{}): {} every {}s, flood guard {} new items, pushes items up to {} days old, alerts admins after {}s of failures, keeps {} releases and {} ids of pruned ones\n",
            s.name,
            s.kind,
            if s.selectors.is_some() { ", CSS selectors" } else { "" },
            Redacted(&s.url),
            s.interval.as_secs(),
            s.max_new_items,
            s.max_age_days,
            s.alert_after.as_secs(),
            s.retention.keep_items,
            s.retention.keep_seen_ids
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn parse(args: &[&str]) -> (Option<PathBuf>, Command) {
        let args = std::iter::once("embassy-bot").chain(args.iter().copied());
        Cli::try_parse_from(args).unwrap().into_parts()
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn config_goes_before_or_after_the_command_and_run_is_the_default() {
        let c = Some(PathBuf::from("c.toml"));
        assert_eq!(parse(&["--config", "c.toml"]), (c.clone(), Command::Run));
        assert_eq!(parse(&["-c", "c.toml", "check-config"]).0, c);
        assert_eq!(parse(&["check-config", "--config=c.toml"]).0, c);
        assert_eq!(
            parse(&["preview", "page.html", "-c", "c.toml"]),
            (
                c.clone(),
                Command::Preview {
                    target: Some("page.html".into())
                }
            )
        );
        assert_eq!(
            parse(&["--config", "", "check-source", "press"]),
            (
                None,
                Command::CheckSource {
                    target: "press".into()
                }
            ),
            "an empty path means the built-in settings"
        );
    }
}
