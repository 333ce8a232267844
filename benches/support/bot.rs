//! The bot as a benchmark runs it: the release binary, in a child process of
//! its own, with the bench's config and token and nothing from the caller's
//! environment that could change what is measured.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts the bot on `dir/config.toml` with `token`: this build's binary, or
/// the one `BENCH_BOT_BIN` names (another build, to compare with).
pub fn spawn_bot(dir: &Path, token: &str) -> Child {
    let binary = std::env::var_os("BENCH_BOT_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_embassy-bot").into());
    Command::new(binary)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .env("TELOXIDE_TOKEN", token)
        .env_remove("TELOXIDE_API_URL")
        .env_remove("EMBASSY_BOT_DATA_DIR")
        .env_remove("EMBASSY_BOT_HTTP_LISTEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn embassy-bot")
}

/// SIGTERM, as `docker stop` sends; the bot must exit 0.
pub fn stop(bot: &mut Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(bot.id() as libc::pid_t, libc::SIGTERM) };
    let status = bot.wait().expect("wait for the bot");
    assert!(status.success(), "the bot exited with {status}");
}
