//! The command line: `embassy-bot [--config PATH] [run | preview [TARGET] | check-source TARGET | check-config | healthcheck | backfill [SOURCE] [--pages N] | export [FILE] | import FILE [--unchecked-legacy-export]]`,
//! parsed by clap (help, version and usage errors come from there), and logging set-up.

pub(crate) mod backfill;
pub(crate) mod check_source;
pub(crate) mod preview;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::builder::{OsStringValueParser, TypedValueParser as _};
use clap::{Parser, Subcommand};

use crate::config::redact::Redacted;
use crate::config::{Config, HTTP_LISTEN_ENV, TELEGRAM_API};
use crate::store::Store;

/// Environment variable naming the configuration file when `--config` is not given
/// (the flag wins), so a container can point at a mounted file without changing its command.
pub(crate) const CONFIG_ENV: &str = "EMBASSY_BOT_CONFIG";

/// Shown after the options in `--help`: the settings that only the environment carries.
/// The token is not an argument at all (a command line is visible to every user of the
/// machine), so no help text can ever show its value.
const ENVIRONMENT: &str = "\
Environment (wins over the configuration file):
  TELOXIDE_TOKEN        the bot token from @BotFather (needed by `run`)
  TELOXIDE_API_URL      a self-hosted Bot API server
  EMBASSY_BOT_DATA_DIR  the database directory (`data_dir`)
  EMBASSY_BOT_HTTP_LISTEN  the HTTP server's address (`http.listen`)
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
    /// Ask the running bot's /healthz; exit 0 when healthy, 1 when not
    ///
    /// For a container's health check (the image has no curl). Reads
    /// `http.listen` from the configuration (or EMBASSY_BOT_HTTP_LISTEN) and
    /// prints the answer.
    #[command(verbatim_doc_comment)]
    Healthcheck {
        /// Give up after this many seconds
        #[arg(long, default_value_t = 5, value_name = "SECS")]
        timeout: u64,
    },
    /// Read sources' archive pages and record every release silently
    ///
    /// For the history in /latest and /search. One request a second; nothing
    /// is pushed. Starts at page 1 of a source never read (page 2 once the bot
    /// has read it), and stops at the first page with nothing new once a page
    /// has brought something new, at the archive's end, or after --pages.
    /// Needs the data directory: stop the running bot first.
    #[command(verbatim_doc_comment)]
    Backfill {
        /// A source with an `archive` URL template (default: every such source)
        source: Option<String>,
        /// Read at most N pages of each source (default 1000)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=crate::cli::backfill::MAX_PAGES as i64))]
        pages: Option<u32>,
        /// Milliseconds between requests; shorter than the default only for tests
        #[arg(long, hide = true, default_value_t = crate::cli::backfill::PACE.as_millis() as u64)]
        pace_ms: u64,
    },
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
    ///
    /// All or nothing: the state is built aside and moved into data_dir only
    /// once the file proved whole (it must end with its record counts, and
    /// hold what they say) and the database is closed. A file cut short, an
    /// error or a kill leaves data_dir as it was.
    #[command(verbatim_doc_comment)]
    Import {
        /// A file written by `export`
        file: PathBuf,
        /// Also import an export written before exports ended with their
        /// record counts (format version 1): whether it is whole cannot be
        /// checked, so use it only on a file you know is complete
        #[arg(long)]
        unchecked_legacy_export: bool,
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
                let report = runtime()?.block_on(crate::cli::preview::run(
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
                let report = runtime()?.block_on(crate::cli::check_source::run(
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
            Command::Healthcheck { timeout } => {
                let config = Config::load(config.as_deref())?;
                let (healthy, answer) = runtime()?.block_on(healthcheck(
                    &config,
                    std::time::Duration::from_secs(timeout),
                ))?;
                println!("{answer}");
                if !healthy {
                    anyhow::bail!("the bot is not healthy");
                }
                Ok(())
            }
            Command::Backfill {
                source,
                pages,
                pace_ms,
            } => {
                init_logging("warn");
                let config = Config::load(config.as_deref())?;
                let options = crate::cli::backfill::Options {
                    source,
                    pages,
                    pace: std::time::Duration::from_millis(pace_ms),
                };
                let summary = runtime()?.block_on(crate::cli::backfill::run(&config, &options))?;
                print!("{summary}");
                Ok(())
            }
            Command::Export { file } => {
                init_logging("warn");
                let config = Config::load(config.as_deref())?;
                crate::store::restrict_umask();
                export(&config.data_dir, file.filter(|f| f.as_os_str() != "-"))
            }
            Command::Import {
                file,
                unchecked_legacy_export,
            } => import(config.as_deref(), &file, unchecked_legacy_export),
            Command::Run => run(config.as_deref()),
        }
    }
}

/// `import`: the export `file` into the configured (empty) data directory.
fn import(config: Option<&Path>, file: &Path, unchecked_legacy_export: bool) -> anyhow::Result<()> {
    init_logging("warn");
    let config = Config::load(config)?;
    crate::store::restrict_umask();
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let input = std::io::BufReader::new(input);
    let summary = if unchecked_legacy_export {
        Store::import_unchecked_legacy(&config.data_dir, input)
    } else {
        Store::import(&config.data_dir, input)
    }
    .with_context(|| format!("cannot import {}", file.display()))?;
    eprintln!("imported {summary} into {}", config.data_dir.display());
    Ok(())
}

/// `run`: the bot, until a signal; says so when the environment widens a
/// loopback `http.listen` the file chose.
fn run(path: Option<&Path>) -> anyhow::Result<()> {
    init_logging("info");
    let config = Config::load(path)?;
    if let (Some(in_file), Some(in_force)) = (listen_in_file(path), config.http.listen)
        && crate::http::widened(in_file, in_force)
    {
        tracing::warn!(
            "{HTTP_LISTEN_ENV}={in_force} overrides http.listen = {in_file} in the config file: the HTTP server listens beyond loopback; unset the variable (or set it to the file's address) to keep it private"
        );
    }
    config.require_token()?;
    // Whatever sled creates in the data directory later stays private.
    crate::store::restrict_umask();
    runtime()?.block_on(crate::app::run(config))
}

/// The `http.listen` the config file at `path` names itself, before the
/// environment's override, if it names one that parses (the file has been
/// read and checked already: this only looks again at one key). No file, or
/// none named there: the environment widens nothing the file chose.
fn listen_in_file(path: Option<&Path>) -> Option<std::net::SocketAddr> {
    let text = std::fs::read_to_string(path?).ok()?;
    let file: toml::Table = text.parse().ok()?;
    file.get("http")?
        .get("listen")?
        .as_str()?
        .trim()
        .parse()
        .ok()
}

/// Asks `/healthz` of the bot configured by `config`: whether it answered
/// 200, and what it said.
async fn healthcheck(
    config: &Config,
    timeout: std::time::Duration,
) -> anyhow::Result<(bool, String)> {
    let Some(mut addr) = config.http.listen else {
        anyhow::bail!(
            "the HTTP server is off: set http.listen (or EMBASSY_BOT_HTTP_LISTEN) for the bot and for this command"
        );
    };
    // A server on every address is reached on loopback.
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()?;
    let response = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .with_context(|| format!("no answer from http://{addr}/healthz"))?;
    let healthy = response.status() == reqwest::StatusCode::OK;
    let body = response.text().await.unwrap_or_default();
    Ok((healthy, body.trim_end().to_string()))
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
        // a storage fault, which crate::app::store_fault has already reported.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("{default},sled=warn,sled::tree=off"))
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// An error as a person reads it: each cause once. An error's own message
/// often already ends with its cause's (reqwest's and io's do, and ours put
/// the cause in our words), so anyhow's `{:#}` would say it twice: a cause
/// whose text is already in what was said is left out.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut said = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if said.contains(text.as_str()) {
            continue;
        }
        if !said.is_empty() {
            said.push_str(": ");
        }
        said.push_str(&text);
    }
    said
}

/// A human summary of the effective configuration (never the token, and URLs
/// without credentials or secret query values).
pub(crate) fn describe(config: &Config) -> String {
    let mut out = format!(
        "configuration is valid\ndata_dir = {}\nsite_name = {}\n",
        config.data_dir.display(),
        config.site_name
    );
    out.push_str(&format!(
        "telegram: token {}, api {}, {}, throttle {} ({}/s{}, {} chats at once), link preview on pushes {}\n",
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
        match &config.telegram.webhook_url {
            Some(url) => format!("webhook at {}", Redacted(url)),
            None => format!("long poll {}s", config.telegram.long_poll.as_secs()),
        },
        config.telegram.throttle,
        config.telegram.messages_per_sec,
        if config.telegram.allow_paid_broadcast {
            ", paid broadcasts"
        } else {
            ""
        },
        config.telegram.send_concurrency,
        if config.telegram.link_preview.push {
            "on"
        } else {
            "off"
        }
    ));
    match config.http.listen {
        Some(addr) => out.push_str(&format!(
            "http: listening on {addr} (/healthz, /readyz, /metrics, /feed.atom){}\n",
            config
                .http
                .public_url
                .as_ref()
                .map(|u| format!(", public at {}", Redacted(u)))
                .unwrap_or_default()
        )),
        None => out.push_str("http: off (set http.listen for health, metrics and feeds)\n"),
    }
    out.push_str(&format!(
        "operators (user ids): {:?}; groups: who_can_subscribe = {}; commands: {} per user per minute\n",
        config.operators, config.groups.who_can_subscribe, config.commands_per_user_per_minute
    ));
    for s in &config.sources {
        out.push_str(&format!(
            "source `{}` \"{}\" ({}{}): {} every {}s, flood guard {} new items, pushes items up to {} days old, alerts admins after {}s of failures, keeps {} releases and {} ids of pruned ones{}{}\n",
            s.name,
            s.label,
            s.kind,
            if s.selectors.is_some() { ", CSS selectors" } else { "" },
            Redacted(&s.url),
            s.interval.as_secs(),
            s.max_new_items,
            s.max_age_days,
            s.alert_after.as_secs(),
            s.retention.keep_items,
            s.retention.keep_seen_ids,
            s.archive
                .as_ref()
                .and_then(|a| Some((a.url(1).ok()?, a.page_size())))
                .map_or(String::new(), |(first, size)| format!(
                    ", archive from {} ({size} a page)",
                    Redacted(&first)
                )),
            if s.link_hosts.is_empty() {
                String::new()
            } else {
                format!(", links also to {}", s.link_hosts.join(", "))
            }
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

    #[test]
    fn an_error_says_each_cause_once() {
        let io = std::io::Error::from_raw_os_error(21);
        let repeated = anyhow::Error::new(io).context(format!(
            "cannot read /tmp: {}",
            std::io::Error::from_raw_os_error(21)
        ));
        assert_eq!(
            error_text(&repeated),
            "cannot read /tmp: Is a directory (os error 21)"
        );
        // Causes not yet said are kept, in order.
        let fresh = anyhow::anyhow!("disk full").context("cannot write the export");
        assert_eq!(error_text(&fresh), "cannot write the export: disk full");
    }

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
