//! `deployer-e2e demo`: the act-based demo scripts/demo runs.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => match deployer_e2e::demo::run() {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("deployer-e2e demo: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: deployer-e2e demo   (run through scripts/demo, which sets DEPLOYER_MOTO_ENDPOINT and DEPLOYER_VENV)"
            );
            ExitCode::from(2)
        }
    }
}
