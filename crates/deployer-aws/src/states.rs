//! ECS states as types. [`crate::ecs`] parses every status ECS answers into one of these,
//! once, at the seam; everything after it (the verdict, the cancel path, the rollback wait,
//! the summaries) matches on variants, never on text.
//!
//! Each enum keeps an `Unknown(String)` arm for a value AWS adds later: it is carried and
//! printed as AWS spelled it, and no rule treats it as success. The values are those of the
//! ECS API reference (Amazon ECS API Reference, Data Types: `ServiceDeployment`,
//! `Deployment`, `Task`, `ServiceDeploymentCircuitBreaker`, `DeploymentLifecycleHookDetail`,
//! `DeploymentConfiguration`), as aws-sdk-ecs 1.157 models them.

use std::fmt;

/// An enum of AWS's spellings, with `parse`/`as_str`/`Display` and an `Unknown` arm.
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of deployer does not know (AWS added it later).
            Unknown(String),
        }

        impl $name {
            /// AWS's spelling → the variant (anything else is `Unknown`, kept verbatim).
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                }
            }

            /// The value as AWS spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::parse(text)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self::parse(&text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

aws_enum! {
    /// `ServiceDeployment.status` (DescribeServiceDeployments / ListServiceDeployments).
    ServiceDeploymentStatus {
        Pending = "PENDING",
        InProgress = "IN_PROGRESS",
        Successful = "SUCCESSFUL",
        StopRequested = "STOP_REQUESTED",
        Stopped = "STOPPED",
        RollbackRequested = "ROLLBACK_REQUESTED",
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        RollbackSuccessful = "ROLLBACK_SUCCESSFUL",
        RollbackFailed = "ROLLBACK_FAILED",
    }
}

/// A record built by hand (tests, a deployment not yet read) starts as PENDING.
impl Default for ServiceDeploymentStatus {
    fn default() -> Self {
        Self::Pending
    }
}

impl ServiceDeploymentStatus {
    /// ECS is rolling this deployment back, or has.
    pub fn is_rollback(&self) -> bool {
        matches!(
            self,
            Self::RollbackRequested
                | Self::RollbackInProgress
                | Self::RollbackSuccessful
                | Self::RollbackFailed
        )
    }

    /// Nothing more will happen to it: SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL or
    /// ROLLBACK_FAILED.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Self::Successful | Self::Stopped | Self::RollbackSuccessful | Self::RollbackFailed
        )
    }

    /// Still rolling out towards its own target revision.
    pub fn is_rolling_out(&self) -> bool {
        matches!(self, Self::Pending | Self::InProgress)
    }

    /// Anything that still moves tasks: rolling out, being stopped, or being rolled back.
    /// A value deployer does not know counts as moving (never as settled).
    pub fn is_in_flight(&self) -> bool {
        !self.is_finished()
    }
}

aws_enum! {
    /// `Deployment.status` in DescribeServices: the service's own view of its deployments.
    DeploymentRole {
        /// The most recent deployment.
        Primary = "PRIMARY",
        /// An older deployment still running tasks (being replaced, or kept beside a
        /// failed PRIMARY when the circuit breaker does not roll back).
        Active = "ACTIVE",
        Inactive = "INACTIVE",
    }
}

aws_enum! {
    /// `Deployment.rolloutState` in DescribeServices.
    RolloutState {
        Completed = "COMPLETED",
        Failed = "FAILED",
        InProgress = "IN_PROGRESS",
    }
}

aws_enum! {
    /// `ServiceDeployment.lifecycleStage`, in the order a blue/green deployment passes them.
    LifecycleStage {
        ReconcileService = "RECONCILE_SERVICE",
        PreScaleUp = "PRE_SCALE_UP",
        ScaleUp = "SCALE_UP",
        PostScaleUp = "POST_SCALE_UP",
        TestTrafficShift = "TEST_TRAFFIC_SHIFT",
        PostTestTrafficShift = "POST_TEST_TRAFFIC_SHIFT",
        /// Before each production traffic shift (blue/green, and every LINEAR/CANARY step).
        /// The API reference lists it; aws-sdk-ecs 1.157 does not model it yet, so it arrives
        /// as the SDK's unknown value and is parsed from its text.
        PreProductionTrafficShift = "PRE_PRODUCTION_TRAFFIC_SHIFT",
        ProductionTrafficShift = "PRODUCTION_TRAFFIC_SHIFT",
        PostProductionTrafficShift = "POST_PRODUCTION_TRAFFIC_SHIFT",
        BakeTime = "BAKE_TIME",
        CleanUp = "CLEAN_UP",
    }
}

impl LifecycleStage {
    /// Position in the blue/green stage order; None for a stage deployer does not know.
    pub fn order(&self) -> Option<usize> {
        const ORDER: [LifecycleStage; 11] = [
            LifecycleStage::ReconcileService,
            LifecycleStage::PreScaleUp,
            LifecycleStage::ScaleUp,
            LifecycleStage::PostScaleUp,
            LifecycleStage::TestTrafficShift,
            LifecycleStage::PostTestTrafficShift,
            LifecycleStage::PreProductionTrafficShift,
            LifecycleStage::ProductionTrafficShift,
            LifecycleStage::PostProductionTrafficShift,
            LifecycleStage::BakeTime,
            LifecycleStage::CleanUp,
        ];
        ORDER.iter().position(|s| s == self)
    }

    /// At or past POST_TEST_TRAFFIC_SHIFT: test traffic reaches the new revision.
    pub fn test_traffic_reached(&self) -> bool {
        self.order() >= LifecycleStage::PostTestTrafficShift.order()
    }
}

aws_enum! {
    /// `DeploymentLifecycleHookDetail.status`.
    HookStatus {
        InProgress = "IN_PROGRESS",
        /// A PAUSE hook waits for ContinueServiceDeployment.
        AwaitingAction = "AWAITING_ACTION",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        TimedOut = "TIMED_OUT",
    }
}

aws_enum! {
    /// `ServiceDeploymentCircuitBreaker.status` and `ServiceDeploymentAlarms.status`
    /// (`ServiceDeploymentRollbackMonitorsStatus`).
    MonitorStatus {
        Triggered = "TRIGGERED",
        Monitoring = "MONITORING",
        MonitoringComplete = "MONITORING_COMPLETE",
        Disabled = "DISABLED",
    }
}

aws_enum! {
    /// `Task.lastStatus` / `desiredStatus` (the task lifecycle of the developer guide).
    TaskStatus {
        Provisioning = "PROVISIONING",
        Pending = "PENDING",
        Activating = "ACTIVATING",
        Running = "RUNNING",
        Deactivating = "DEACTIVATING",
        Stopping = "STOPPING",
        Deprovisioning = "DEPROVISIONING",
        Stopped = "STOPPED",
        Deleted = "DELETED",
    }
}

impl TaskStatus {
    /// Its stop code, exit codes and reason are final.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Stopped | Self::Deleted)
    }
}

aws_enum! {
    /// `Task.stopCode`.
    StopCode {
        TaskFailedToStart = "TaskFailedToStart",
        EssentialContainerExited = "EssentialContainerExited",
        UserInitiated = "UserInitiated",
        ServiceSchedulerInitiated = "ServiceSchedulerInitiated",
        SpotInterruption = "SpotInterruption",
        TerminationNotice = "TerminationNotice",
        InfrastructureHealth = "InfrastructureHealth",
    }
}

aws_enum! {
    /// `Service.status`.
    ServiceStatus {
        Active = "ACTIVE",
        Draining = "DRAINING",
        Inactive = "INACTIVE",
    }
}

aws_enum! {
    /// `TaskDefinition.status`.
    TaskDefinitionStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        DeleteInProgress = "DELETE_IN_PROGRESS",
    }
}

aws_enum! {
    /// `DeploymentController.type`.
    Controller {
        Ecs = "ECS",
        CodeDeploy = "CODE_DEPLOY",
        External = "EXTERNAL",
    }
}

aws_enum! {
    /// `DeploymentConfiguration.strategy`.
    Strategy {
        Rolling = "ROLLING",
        BlueGreen = "BLUE_GREEN",
        Linear = "LINEAR",
        Canary = "CANARY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_and_new_values_are_kept_verbatim() {
        for text in [
            "PENDING",
            "IN_PROGRESS",
            "SUCCESSFUL",
            "STOP_REQUESTED",
            "STOPPED",
            "ROLLBACK_REQUESTED",
            "ROLLBACK_IN_PROGRESS",
            "ROLLBACK_SUCCESSFUL",
            "ROLLBACK_FAILED",
        ] {
            let parsed = ServiceDeploymentStatus::parse(text);
            assert!(
                !matches!(parsed, ServiceDeploymentStatus::Unknown(_)),
                "{text}"
            );
            assert_eq!(parsed.as_str(), text);
        }
        let later = ServiceDeploymentStatus::parse("PAUSED_FOR_SOMETHING");
        assert_eq!(
            later,
            ServiceDeploymentStatus::Unknown("PAUSED_FOR_SOMETHING".into())
        );
        assert_eq!(later.to_string(), "PAUSED_FOR_SOMETHING");
        // A status deployer does not know is never taken as settled.
        assert!(later.is_in_flight() && !later.is_finished());
    }

    #[test]
    fn rollback_and_finished_follow_the_api_reference() {
        use ServiceDeploymentStatus as S;
        assert!(S::RollbackInProgress.is_rollback() && !S::RollbackInProgress.is_finished());
        assert!(S::RollbackSuccessful.is_rollback() && S::RollbackSuccessful.is_finished());
        assert!(S::StopRequested.is_in_flight());
        assert!(S::Stopped.is_finished() && !S::Stopped.is_rollback());
        assert!(S::Pending.is_rolling_out() && S::InProgress.is_rolling_out());
    }

    #[test]
    fn stages_are_ordered_and_unknown_stages_are_not_past_test_traffic() {
        assert!(LifecycleStage::PostTestTrafficShift.test_traffic_reached());
        assert!(LifecycleStage::CleanUp.test_traffic_reached());
        assert!(!LifecycleStage::TestTrafficShift.test_traffic_reached());
        // Listed by the API reference, not yet by the SDK: parsed from its text.
        assert_eq!(
            LifecycleStage::parse("PRE_PRODUCTION_TRAFFIC_SHIFT"),
            LifecycleStage::PreProductionTrafficShift
        );
        assert!(LifecycleStage::PreProductionTrafficShift.test_traffic_reached());
        assert!(!LifecycleStage::parse("SOME_NEW_STAGE").test_traffic_reached());
    }
}
