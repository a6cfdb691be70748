use clap::Parser;

fn main() {
    let cli = deployer_bench::Cli::parse();
    if let Err(e) = deployer_bench::main_with(cli) {
        eprintln!("deployer-bench: {e}");
        std::process::exit(1);
    }
}
