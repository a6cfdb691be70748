//! `ecs-sim --port P --scenario file.yml --time-scale 60 --seed 1`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A faithful ECS control-plane simulator (ECS + CloudWatch Logs JSON 1.1 on 127.0.0.1).
#[derive(Debug, Parser)]
#[command(name = "ecs-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, env = "ECS_SIM_PORT", default_value_t = 0)]
    port: u16,
    /// Scenario YAML file (see crates/ecs-sim/README.md). Default: every image healthy after 10 s.
    #[arg(long, env = "ECS_SIM_SCENARIO")]
    scenario: Option<PathBuf>,
    /// Simulated seconds per real second.
    #[arg(long, env = "ECS_SIM_TIME_SCALE", default_value_t = 1.0)]
    time_scale: f64,
    /// Seed for ids and fault injection.
    #[arg(long, env = "ECS_SIM_SEED", default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let scenario = match &args.scenario {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!(
                        "ecs-sim: cannot read the scenario file {}: {e}",
                        path.display()
                    );
                    return ExitCode::from(2);
                }
            };
            match ecs_sim::Scenario::from_yaml(&text) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("ecs-sim: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
        None => ecs_sim::Scenario::default(),
    };
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        eprintln!(
            "ecs-sim: --time-scale must be a positive number, got {}",
            args.time_scale
        );
        return ExitCode::from(2);
    }
    let config = ecs_sim::SimConfig {
        scenario,
        time_scale: args.time_scale,
        seed: args.seed,
    };
    match ecs_sim::spawn_on(config, args.port) {
        Ok(handle) => {
            println!("{}", handle.endpoint());
            eprintln!(
                "ecs-sim listening on {} (time scale {}, seed {}); set AWS_ENDPOINT_URL_ECS and AWS_ENDPOINT_URL_CLOUDWATCH_LOGS to it. Ctrl-C to stop.",
                handle.endpoint(),
                args.time_scale,
                args.seed
            );
            handle.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ecs-sim: cannot listen on 127.0.0.1:{}: {e}", args.port);
            ExitCode::from(1)
        }
    }
}
