//! A binary's flags as the action sees them: the environment variable each clap argument
//! reads, its default and whether it is required, read from the clap `Command` itself.

use clap::Command;

/// One clap argument that reads an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// `--long` as the user types it (for messages).
    pub long: String,
    /// The variable clap reads, e.g. `DEPLOYER_TIMEOUT`.
    pub env: String,
    /// clap's default, values joined with `,`; `None` when it has none.
    pub default: Option<String>,
    pub required: bool,
}

/// Every argument of `command` that reads an environment variable, flattened groups
/// included (clap merges `#[command(flatten)]` arguments into the command).
///
/// The command is built first: clap fills implied defaults (`false` for a `SetTrue` flag)
/// only then.
pub fn flags(mut command: Command) -> Vec<Flag> {
    command.build();
    command
        .get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_str()?.to_string();
            let defaults: Vec<&str> = arg
                .get_default_values()
                .iter()
                .filter_map(|v| v.to_str())
                .collect();
            Some(Flag {
                long: arg
                    .get_long()
                    .map(|l| format!("--{l}"))
                    .unwrap_or_else(|| arg.get_id().to_string()),
                env,
                default: (!defaults.is_empty()).then(|| defaults.join(",")),
                required: arg.is_required_set(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    #[test]
    fn reads_env_default_and_required_and_skips_args_without_env() {
        let cmd = Command::new("x")
            .arg(
                Arg::new("timeout")
                    .long("timeout")
                    .env("X_TIMEOUT")
                    .default_value("15m"),
            )
            .arg(
                Arg::new("service")
                    .long("service")
                    .env("X_SERVICE")
                    .required(true),
            )
            .arg(
                Arg::new("dry")
                    .long("dry-run")
                    .env("X_DRY")
                    .action(ArgAction::SetTrue),
            )
            .arg(Arg::new("plain").long("plain"));
        let got = flags(cmd);
        let find = |env: &str| got.iter().find(|f| f.env == env).unwrap().clone();
        assert_eq!(find("X_TIMEOUT").default.as_deref(), Some("15m"));
        assert!(find("X_SERVICE").required);
        assert_eq!(find("X_DRY").default.as_deref(), Some("false"));
        assert_eq!(find("X_DRY").long, "--dry-run");
        assert_eq!(
            got.len(),
            3,
            "an argument without env is not part of the surface"
        );
    }
}
