//! The OIDC and role-chaining trust policies, and the STS/CloudFormation calls that no
//! simulator counts (checked against a hand-kept list, see NON_ECS_CALLS).

use deployer_iam_check::{allows, load, statements, strings, wildcard_match};
use serde_json::Value;

const GITHUB: &str = "token.actions.githubusercontent.com";

/// STS and CloudFormation actions deployer uses, and the document that must grant each.
/// Kept by hand from crates/deployer-aws/src/credentials.rs (assume_with_web_identity,
/// assume_role, caller_identity) and src/probe.rs (stack_states): moto, which serves these
/// in tests, has no per-operation counter. sts:GetCallerIdentity is deliberately absent:
/// AWS always allows it, no policy can grant or deny it.
const NON_ECS_CALLS: &[(&str, &str)] = &[
    ("sts:AssumeRoleWithWebIdentity", "oidc-trust-policy.json"),
    ("sts:AssumeRole", "chain-trust-policy.json"),
    ("sts:AssumeRole", "chain-first-hop-policy.json"),
    ("cloudformation:DescribeStacks", "deploy-role-policy.json"),
];

fn condition(statement: &Value, operator: &str, key: &str) -> Vec<String> {
    strings(
        statement
            .get("Condition")
            .and_then(|c| c.get(operator))
            .and_then(|o| o.get(key)),
    )
}

#[test]
fn every_non_ecs_call_is_granted_by_its_document() {
    for (action, file) in NON_ECS_CALLS {
        let doc = load(file).expect("document");
        assert!(allows(&doc, action), "{file} does not allow {action}");
    }
}

#[test]
fn oidc_trust_requires_audience_and_a_repo_and_environment_subject() {
    let doc = load("oidc-trust-policy.json").expect("trust policy");
    let list = statements(&doc);
    assert!(!list.is_empty(), "no statements");
    for s in list {
        assert_eq!(s.get("Effect").and_then(Value::as_str), Some("Allow"));
        let federated = strings(s.get("Principal").and_then(|p| p.get("Federated")));
        assert_eq!(
            federated,
            vec![format!("arn:aws:iam::ACCOUNT_ID:oidc-provider/{GITHUB}")]
        );
        assert_eq!(
            strings(s.get("Action")),
            vec!["sts:AssumeRoleWithWebIdentity".to_string()]
        );
        // aud: exactly sts.amazonaws.com, compared with StringEquals.
        assert_eq!(
            condition(s, "StringEquals", &format!("{GITHUB}:aud")),
            vec!["sts.amazonaws.com".to_string()]
        );
        // sub: present, and never a wildcard over every repository.
        let mut subs = condition(s, "StringEquals", &format!("{GITHUB}:sub"));
        subs.extend(condition(s, "StringLike", &format!("{GITHUB}:sub")));
        assert!(!subs.is_empty(), "no sub condition");
        for sub in &subs {
            assert!(sub_is_restricted(sub), "sub {sub:?} is too broad");
            assert!(
                sub.contains(":environment:"),
                "sub {sub:?} must name the environment"
            );
        }
    }
}

/// A sub pattern is restricted when it names one owner and one repository without
/// wildcards there (`repo:*`, `repo:ORG/*`, `*` are refused).
fn sub_is_restricted(sub: &str) -> bool {
    let Some(rest) = sub.strip_prefix("repo:") else {
        return false;
    };
    let repo = rest.split(':').next().unwrap_or_default();
    let Some((owner, name)) = repo.split_once('/') else {
        return false;
    };
    let plain = |s: &str| !s.is_empty() && !s.contains('*') && !s.contains('?');
    plain(owner) && plain(name) && !wildcard_match(sub, "repo:someone-else/other:environment:x")
}

#[test]
fn broad_subjects_are_refused() {
    for bad in [
        "*",
        "repo:*",
        "repo:ORG/*",
        "repo:*/REPO:environment:production",
        "repo:ORG/REPO*",
        "ORG/REPO",
    ] {
        assert!(!sub_is_restricted(bad), "{bad} accepted");
    }
    assert!(sub_is_restricted("repo:ORG/REPO:environment:production"));
}

#[test]
fn chain_trust_names_the_first_role_and_no_one_else() {
    let doc = load("chain-trust-policy.json").expect("chain trust");
    for s in statements(&doc) {
        let principals = strings(s.get("Principal").and_then(|p| p.get("AWS")));
        assert_eq!(principals.len(), 1, "{principals:?}");
        assert!(
            principals[0].starts_with("arn:aws:iam::") && principals[0].contains(":role/"),
            "{principals:?}"
        );
        assert!(!principals[0].contains('*'));
        // credentials.rs assume_role sets no session tags, so sts:TagSession is not granted.
        assert_eq!(strings(s.get("Action")), vec!["sts:AssumeRole".to_string()]);
    }
}

#[test]
fn pass_role_only_to_ecs_tasks() {
    let doc = load("deploy-role-policy.json").expect("policy");
    let pass: Vec<&Value> = statements(&doc)
        .into_iter()
        .filter(|s| strings(s.get("Action")).iter().any(|a| a == "iam:PassRole"))
        .collect();
    assert!(!pass.is_empty());
    for s in pass {
        assert_eq!(
            condition(s, "StringEquals", "iam:PassedToService"),
            vec!["ecs-tasks.amazonaws.com".to_string()]
        );
        assert!(
            strings(s.get("Resource"))
                .iter()
                .all(|r| !r.ends_with(":role/*") && r != "*")
        );
    }
}

/// Actions AWS only authorises with `"Resource": "*"` (no resource-level permissions, or
/// a resource type deployer's calls cannot name), as documented in examples/iam/README.md.
/// Any other action on `*` is a scoping mistake.
const STAR_RESOURCE_ACTIONS: &[&str] = &[
    "ecs:RegisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitions",
    // resource type container-instance, which Fargate tasks lack; scoped by ecs:cluster
    "ecs:ListTasks",
    // DescribeStacks without a stack name (gate-check's prefix listing)
    "cloudformation:DescribeStacks",
];

#[test]
fn resources_are_scoped_except_where_aws_requires_star() {
    let doc = load("deploy-role-policy.json").expect("policy");
    for s in statements(&doc) {
        let resources = strings(s.get("Resource"));
        assert!(!resources.is_empty(), "statement without Resource: {s}");
        if resources.iter().any(|r| r == "*") {
            for action in strings(s.get("Action")) {
                assert!(
                    STAR_RESOURCE_ACTIONS.contains(&action.as_str()),
                    "{action} is granted on \"*\""
                );
            }
        } else {
            for r in &resources {
                assert!(r.contains("ACCOUNT_ID"), "{r} is not scoped to the account");
            }
        }
        // ECS task operations outside the service ARNs are held to the cluster.
        let actions = strings(s.get("Action"));
        if actions
            .iter()
            .any(|a| ["ecs:RunTask", "ecs:ListTasks", "ecs:StopTask"].contains(&a.as_str()))
        {
            assert_eq!(
                condition(s, "ArnEquals", "ecs:cluster"),
                vec!["arn:aws:ecs:REGION:ACCOUNT_ID:cluster/CLUSTER".to_string()]
            );
        }
    }
}
