use clap::Parser;

fn main() {
    // Every measured command is spawned through this binary itself (see `measure`).
    if let Some(code) = deployer_bench::measure::helper_main() {
        std::process::exit(code);
    }
    let cli = deployer_bench::Cli::parse();
    if let Err(e) = deployer_bench::main_with(cli) {
        eprintln!("deployer-bench: {e}");
        std::process::exit(1);
    }
}
