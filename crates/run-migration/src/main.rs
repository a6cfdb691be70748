use std::process::ExitCode;

use deployer_core::Runtime;
use deployer_core::cli::{conclude, init_logging, parse_args};
use run_migration::{Args, run};

fn main() -> ExitCode {
    let args: Args = parse_args();
    init_logging();
    let mut runtime = Runtime::from_env(args.common.json);
    let result = run(&args, &mut runtime);
    // The migration container's own exit code becomes ours.
    let own = result.as_ref().err().map(|e| e.exit_code());
    let code = conclude("run-migration", &mut runtime, result);
    match own {
        Some(c) => ExitCode::from(c),
        None => code,
    }
}
