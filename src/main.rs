//! The `embassy-bot` binary: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use embassy_bot::cli;

fn main() -> ExitCode {
    let action = match cli::parse(std::env::args().skip(1)) {
        Ok(action) => action,
        Err(message) => {
            eprintln!("embassy-bot: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match cli::execute(action) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embassy-bot: {e:#}");
            ExitCode::FAILURE
        }
    }
}
