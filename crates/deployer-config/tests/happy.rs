//! Valid configurations: the sample repository's file, defaults, helper methods.

use std::path::PathBuf;

use deployer_config::{
    Config, ConfigError, DEFAULT_SKIP_MARKERS, HealthUrl, NonConventional, load, parse,
    substitute_env,
};

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/storefront/.github/deployer.yml")
}

fn sample() -> Config {
    load(&sample_path()).unwrap_or_else(|e| panic!("sample config must load: {e}"))
}

#[test]
fn sample_config_loads() {
    let config = sample();
    assert_eq!(config.service_names(), ["api", "web"]);
    assert_eq!(
        config.environments.keys().collect::<Vec<_>>(),
        ["dev", "production", "staging"]
    );

    let api = config.service("api").expect("api");
    assert_eq!(
        api.image.as_deref(),
        Some("111111111111.dkr.ecr.us-east-1.amazonaws.com/api")
    );
    let migration = api.migration.as_ref().expect("migration");
    assert_eq!(migration.preset.as_deref(), Some("alembic"));
    assert_eq!(migration.upgrade_command(), ["alembic", "upgrade", "head"]);
    assert_eq!(migration.container_in(api), Some("api"));
    assert_eq!(
        api.health_urls("staging"),
        vec![
            HealthUrl {
                kind: "url",
                url: "https://api.staging.storefront.example.com/health".into()
            },
            HealthUrl {
                kind: "ready",
                url: "https://api.staging.storefront.example.com/ready".into()
            },
            HealthUrl {
                kind: "live",
                url: "https://api.staging.storefront.example.com/live".into()
            },
        ]
    );
    assert_eq!(api.health_timeout_seconds(), 120);

    for (env, account) in [
        ("dev", "111111111111"),
        ("staging", "222222222222"),
        ("production", "333333333333"),
    ] {
        let e = config.environment(env).expect("env");
        assert!(
            e.role.as_deref().is_some_and(|r| r.contains(account)),
            "{env}"
        );
        assert_eq!(e.region.as_deref(), Some("us-east-1"));
    }
    let production = config.environment("production").expect("production");
    assert!(production.gates.is_empty());

    // cluster: environment override first, then the service template.
    let dev = config.environment("dev").expect("dev");
    assert_eq!(
        api.cluster_for("dev", dev).as_deref(),
        Some("storefront-dev")
    );
    assert_eq!(
        api.cluster_for("production", production).as_deref(),
        Some("storefront-prod")
    );
    assert_eq!(api.service_for("dev").as_deref(), Some("api-dev"));

    let web = config.service("web").expect("web");
    assert_eq!(
        web.containers,
        ["web"],
        "containers default to the service key"
    );
    assert_eq!(web.health_timeout_seconds(), 60);
    assert_eq!(
        dev.url_for("dev").as_deref(),
        Some("https://www.dev.storefront.example.com/")
    );
}

#[test]
fn minimal_config_gets_every_default() {
    let config = parse("services:\n  api:\n    paths: [\"**\"]\n", "t.yml").expect("valid");
    assert_eq!(config.release.tag_prefix, "v");
    assert_eq!(config.release.initial_version, "0.1.0");
    assert_eq!(config.release.prerelease_label, "rc");
    assert_eq!(config.release.non_conventional, NonConventional::Ignore);
    assert_eq!(config.markers.deploy_all, "[deploy-all]");
    assert_eq!(config.markers.skip, DEFAULT_SKIP_MARKERS);
    assert_eq!(
        config.markers.skip,
        [
            "[skip ci]",
            "[ci skip]",
            "[no ci]",
            "[skip actions]",
            "[actions skip]"
        ]
    );
    assert!(config.environments.is_empty());
    let api = config.service("api").expect("api");
    assert_eq!(api.containers, ["api"]);
    assert_eq!(api.image, None);
    assert_eq!(api.health_urls("dev"), vec![]);
    assert_eq!(api.health_timeout_seconds(), 60);
    assert_eq!(config.tag_prefix_for("api"), "v");
}

#[test]
fn partial_sections_keep_other_defaults() {
    let text = "services:\n  api:\n    paths: [a]\n    tag-prefix: api-v\nrelease:\n  prerelease-label: beta\n  non-conventional: error\nmarkers:\n  skip: [\"[no deploy]\"]\n";
    let config = parse(text, "t.yml").expect("valid");
    assert_eq!(config.release.tag_prefix, "v");
    assert_eq!(config.release.prerelease_label, "beta");
    assert_eq!(config.release.non_conventional, NonConventional::Error);
    assert_eq!(config.markers.deploy_all, "[deploy-all]");
    assert_eq!(config.markers.skip, ["[no deploy]"]);
    assert_eq!(config.tag_prefix_for("api"), "api-v");
}

#[test]
fn environment_may_be_empty_or_null() {
    let text = "services:\n  api:\n    paths: [a]\n    cluster: c-{env}\nenvironments:\n  dev:\n  staging: {}\n";
    let config = parse(text, "t.yml").expect("valid");
    let dev = config.environment("dev").expect("dev");
    assert_eq!(dev.role, None);
    let api = config.service("api").expect("api");
    assert_eq!(api.cluster_for("dev", dev).as_deref(), Some("c-dev"));
    assert_eq!(api.service_for("dev"), None);
}

#[test]
fn unknown_service_and_environment_list_known_names() {
    let config = sample();
    let err = config.service("apii").expect_err("unknown");
    let msg = err.to_string();
    assert!(
        msg.contains("`apii`") && msg.contains("`api`, `web`"),
        "{msg}"
    );
    assert!(msg.contains("Did you mean `api`?"), "{msg}");
    assert!(matches!(err, ConfigError::UnknownService { .. }));

    let err = config.environment("prod").expect_err("unknown");
    let msg = err.to_string();
    assert!(msg.contains("`dev`, `production`, `staging`"), "{msg}");
    assert_eq!(
        deployer_core::Classify::kind(&err),
        deployer_core::ErrorKind::BadInput
    );
}

#[test]
fn substitute_env_replaces_every_occurrence() {
    assert_eq!(substitute_env("{env}-api-{env}", "dev"), "dev-api-dev");
    assert_eq!(substitute_env("plain", "dev"), "plain");
}

#[test]
fn migration_command_alone() {
    let text =
        "services:\n  api:\n    paths: [a]\n    migration:\n      command: [python, -m, migrate]\n";
    let config = parse(text, "t.yml").expect("valid");
    let api = config.service("api").expect("api");
    let migration = api.migration.as_ref().expect("migration");
    assert_eq!(migration.upgrade_command(), ["python", "-m", "migrate"]);
    assert_eq!(migration.container_in(api), Some("api"));
}

#[test]
fn yaml_anchors_and_flow_style_are_fine() {
    let text = "x-common: &common\n  paths: [a]\nservices: {api: {paths: [a], cluster: \"c\"}}\n";
    // `x-common` is an unknown top-level key: extensions are not allowed.
    assert!(parse(text, "t.yml").is_err());
    let text = "services:\n  api: &svc\n    paths: [a]\n  web: *svc\n";
    let config = parse(text, "t.yml").expect("aliases work");
    assert_eq!(config.service("web").expect("web").containers, ["web"]);
}

#[test]
fn services_may_be_empty_for_infrastructure_only_repositories() {
    let text = "services: {}\nenvironments:\n  test:\n    role: arn:aws:iam::222222222222:role/cdk-deploy\n    region: eu-west-1\nrelease:\n  prerelease-label: rc\n";
    let config = parse(text, "t.yml").expect("valid");
    assert!(config.services.is_empty());
    assert!(config.service("api").is_err());
}
