use std::process::ExitCode;

use deployer_core::Runtime;
use deployer_core::cli::{conclude, init_logging, parse_args};
use ecs_deploy::{Args, run};

fn main() -> ExitCode {
    let args: Args = parse_args();
    init_logging();
    let mut runtime = Runtime::from_env(args.common.json);
    let result = run(&args, &mut runtime);
    conclude("ecs-deploy", &mut runtime, result)
}
