//! The ECS API's request throttling, per "Request throttling for the Amazon ECS API"
//! (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html):
//! "throttles all API requests for each AWS account on a per-Region basis", with a token
//! bucket per API action category ("All API actions in a category share the same token
//! bucket"), the bucket size being the burst rate and the refill rate the sustained rate.
//! Buckets are shared by every caller of the account and Region (any access key), and
//! refill on the real clock: clients pace their calls in real time, whatever the time scale.
//! Actions the table does not list (StopServiceDeployment, ContinueServiceDeployment, and
//! CloudWatch Logs) are not throttled here.

use std::collections::BTreeMap;
use std::time::Instant;

/// (category, bucket maximum capacity, refill per second) of an ECS action.
pub fn category(op: &str) -> Option<(&'static str, f64, f64)> {
    Some(match op {
        "CreateCluster"
        | "DeleteCluster"
        | "PutClusterCapacityProviders"
        | "UpdateCluster"
        | "UpdateClusterSettings" => ("cluster-modify", 20.0, 1.0),
        "DescribeClusters" | "ListClusters" => ("cluster-read", 50.0, 20.0),
        "DeregisterTaskDefinition" | "RegisterTaskDefinition" => {
            ("task-definition-modify", 20.0, 1.0)
        }
        "DescribeTaskDefinition" | "ListTaskDefinitions" | "ListTaskDefinitionFamilies" => {
            ("task-definition-read", 50.0, 20.0)
        }
        "DeleteTaskDefinitions" => ("task-definition-delete", 5.0, 1.0),
        "TagResource" | "UntagResource" => ("tag-modify", 20.0, 10.0),
        "ListTagsForResource" => ("tag-read", 50.0, 20.0),
        "RunTask" | "StartTask" | "StopTask" | "ExecuteCommand" => {
            ("cluster-resource-modify", 100.0, 40.0)
        }
        "DescribeTasks" | "ListTasks" | "DescribeContainerInstances" | "ListContainerInstances" => {
            ("cluster-resource-read", 100.0, 20.0)
        }
        "CreateService" | "DeleteService" | "UpdateService" => ("service-modify", 50.0, 5.0),
        "DescribeServices" | "ListServices" => ("service-read", 100.0, 20.0),
        "DescribeServiceDeployments" | "ListServiceDeployments" => {
            ("service-deployment", 50.0, 20.0)
        }
        "DescribeServiceRevisions" => ("service-revision", 50.0, 20.0),
        _ => return None,
    })
}

/// One token bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    capacity: f64,
    refill: f64,
    at: Instant,
}

impl Bucket {
    pub fn full(capacity: f64, refill: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: capacity,
            capacity,
            refill,
            at: now,
        }
    }

    /// Takes a token if there is one (after refilling up to `now`).
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Every bucket of the simulator, keyed by (Region, category); the account is always the same.
#[derive(Debug, Default)]
pub struct Buckets(BTreeMap<(String, &'static str), Bucket>);

impl Buckets {
    /// Whether a call of `op` in `region` may proceed (false: ThrottlingException).
    pub fn admit(&mut self, region: &str, op: &str, now: Instant) -> bool {
        let Some((cat, capacity, refill)) = category(op) else {
            return true;
        };
        self.0
            .entry((region.to_string(), cat))
            .or_insert_with(|| Bucket::full(capacity, refill, now))
            .take(now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_refill_rate() {
        let t0 = Instant::now();
        let mut b = Buckets::default();
        let ok = (0..150)
            .filter(|_| b.admit("us-east-1", "DescribeServices", t0))
            .count();
        assert_eq!(ok, 100, "burst of the service read actions bucket");
        // ListServices shares the bucket.
        assert!(!b.admit("us-east-1", "ListServices", t0));
        // Another Region has its own.
        assert!(b.admit("eu-west-1", "DescribeServices", t0));
        // Another category too.
        assert!(b.admit("us-east-1", "DescribeTasks", t0));
        // One second later: 20 more (sustained rate).
        let t1 = t0 + Duration::from_secs(1);
        let ok = (0..50)
            .filter(|_| b.admit("us-east-1", "DescribeServices", t1))
            .count();
        assert_eq!(ok, 20);
        // Unlisted actions are never throttled.
        assert!((0..1000).all(|_| b.admit("us-east-1", "StopServiceDeployment", t1)));
    }

    #[test]
    fn service_modify_actions_refill_slowly() {
        let t0 = Instant::now();
        let mut b = Buckets::default();
        assert_eq!(
            (0..60)
                .filter(|_| b.admit("us-east-1", "UpdateService", t0))
                .count(),
            50
        );
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(
            (0..60)
                .filter(|_| b.admit("us-east-1", "CreateService", t1))
                .count(),
            5
        );
    }
}
