//! Glue between gate-check and the environment-health gates of
//! `deployer_gates::environment`, which match images and word stack problems themselves.

use deployer_gates::environment::{
    EcsServiceState, EnvironmentProbe, ProbeError, ProbeFuture, StackState,
};

/// The probe for a run whose AWS-reading gates are all bypassed by an emergency: those
/// gates are not evaluated, so it is never asked; if it were, it answers with an error.
pub(crate) struct NotEvaluated;

const NOT_EVALUATED: &str = "AWS was not contacted: the emergency bypasses this gate";

impl EnvironmentProbe for NotEvaluated {
    fn ecs_service<'a>(&'a self, _: &'a str, _: &'a str) -> ProbeFuture<'a, EcsServiceState> {
        Box::pin(async { Err(ProbeError::Failed(NOT_EVALUATED.into())) })
    }

    fn stacks<'a>(
        &'a self,
        _: &'a [String],
        _: Option<&'a str>,
    ) -> ProbeFuture<'a, Vec<StackState>> {
        Box::pin(async { Err(ProbeError::Failed(NOT_EVALUATED.into())) })
    }
}
