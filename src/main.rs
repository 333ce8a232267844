//! The `embassy-bot` binary: parse the command line, hand over to the library.

use std::process::ExitCode;

use clap::Parser as _;
use embassy_bot::Cli;

fn main() -> ExitCode {
    // Help, the version and usage errors (exit 2) are printed by clap, which exits.
    match Cli::parse().execute() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embassy-bot: {}", embassy_bot::error_text(&e));
            ExitCode::FAILURE
        }
    }
}
