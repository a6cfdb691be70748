//! Every malformed-configuration class names the file, the line and the field path,
//! and classifies as bad input (exit 2).

use deployer_config::{ConfigError, ProblemKind, parse};
use deployer_core::{Classify, ErrorKind};

const FILE: &str = ".github/deployer.yml";

fn error(text: &str) -> ConfigError {
    match parse(text, FILE) {
        Ok(config) => panic!("expected an error, got {config:#?}"),
        Err(e) => e,
    }
}

/// Asserts the rendered message contains the file, `:line:` and the field path.
fn assert_names(err: &ConfigError, line: usize, path: &str) -> String {
    let message = err.to_string();
    assert!(message.contains(FILE), "no file in: {message}");
    assert!(
        message.contains(&format!("{FILE}:{line}:")),
        "no line {line} in: {message}"
    );
    assert!(
        message.contains(&format!("`{path}`")),
        "no path {path} in: {message}"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);
    message
}

const BASE: &str = "services:\n  api:\n    paths: [\"services/api/**\"]\n";

#[test]
fn bad_yaml_syntax() {
    let err = error("services:\n  api:\n    paths: [\"a\"\n    image: x\n");
    let msg = assert_names(&err, 4, "services.api.image");
    assert!(msg.contains("invalid YAML"), "{msg}");
    assert_eq!(err.problems()[0].kind, ProblemKind::Syntax);
}

#[test]
fn bad_yaml_tab_indentation_hints_at_tabs() {
    let err = error("services:\n\tapi:\n");
    let msg = assert_names(&err, 2, "services.api");
    assert!(msg.contains("spaces, not tabs"), "{msg}");
}

#[test]
fn unknown_key_nested_suggests_the_right_one() {
    let text = format!("{BASE}    migration:\n      comand: [alembic, upgrade, head]\n");
    let err = error(&text);
    let msg = assert_names(&err, 5, "services.api.migration.comand");
    assert!(
        msg.contains("did you mean `command`?") || msg.contains("Did you mean `command`?"),
        "{msg}"
    );
    assert!(msg.contains("`container`, `command`, `preset`"), "{msg}");
    assert!(msg.contains(":5:7:"), "column: {msg}");
    assert_eq!(err.problems()[0].kind, ProblemKind::UnknownKey);
}

#[test]
fn unknown_key_snake_case_mentions_kebab_case() {
    let err = error(&format!("{BASE}    tag_prefix: api-v\n"));
    let msg = assert_names(&err, 4, "services.api.tag_prefix");
    assert!(
        msg.contains("`tag-prefix`") && msg.contains("kebab-case"),
        "{msg}"
    );
}

#[test]
fn unknown_top_level_key() {
    let err = error(&format!("{BASE}enviroments: {{}}\n"));
    let msg = assert_names(&err, 4, "enviroments");
    assert!(msg.contains("Did you mean `environments`?"), "{msg}");
}

#[test]
fn wrong_type() {
    let err = error("services:\n  api:\n    paths: services/api/**\n");
    let msg = assert_names(&err, 3, "services.api.paths");
    assert!(msg.contains("expected a list"), "{msg}");
    assert!(msg.contains("[a]"), "fix suggested: {msg}");
    assert_eq!(err.problems()[0].kind, ProblemKind::WrongType);
}

#[test]
fn wrong_type_number() {
    let err = error(&format!(
        "{BASE}    health:\n      url: http://x/\n      timeout-seconds: 1m\n"
    ));
    let msg = assert_names(&err, 6, "services.api.health.timeout-seconds");
    assert!(msg.contains("whole number"), "{msg}");
}

#[test]
fn wrong_enum_value_lists_allowed_values() {
    let err = error(&format!("{BASE}release:\n  non-conventional: warn\n"));
    let msg = assert_names(&err, 5, "release.non-conventional");
    assert!(msg.contains("`ignore`, `error`"), "{msg}");
}

#[test]
fn missing_required_field() {
    let err =
        error("services:\n  api:\n    image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/api\n");
    let msg = assert_names(&err, 2, "services.api.paths");
    assert!(msg.contains("required field `paths` is missing"), "{msg}");
    assert!(msg.contains("paths: ["), "example given: {msg}");
    assert_eq!(err.problems()[0].kind, ProblemKind::MissingField);
}

#[test]
fn missing_services() {
    let err = error("environments:\n  dev: {}\n");
    assert_names(&err, 1, "services");
}

#[test]
fn duplicate_service_key() {
    let err = error(&format!("{BASE}  api:\n    paths: [b]\n"));
    let msg = assert_names(&err, 4, "services.api");
    assert!(msg.contains("appears twice"), "{msg}");
    assert_eq!(err.problems()[0].kind, ProblemKind::DuplicateKey);
}

#[test]
fn duplicate_field_key() {
    let err = error(&format!("{BASE}    image: a\n    image: b\n"));
    let msg = assert_names(&err, 5, "services.api.image");
    assert!(msg.contains("appears twice"), "{msg}");
}

#[test]
fn bad_placeholder() {
    let err = error(&format!("{BASE}    cluster: storefront-{{stage}}\n"));
    let msg = assert_names(&err, 4, "services.api.cluster");
    assert!(
        msg.contains("`{stage}`") && msg.contains("`{env}`"),
        "{msg}"
    );
}

#[test]
fn bad_placeholder_in_health_url() {
    let err = error(&format!(
        "{BASE}    health:\n      ready: https://{{host}}/ready\n"
    ));
    assert_names(&err, 5, "services.api.health.ready");
}

#[test]
fn bad_role_arn() {
    let text = format!("{BASE}environments:\n  dev:\n    role: arn:aws:iam::1234:role/deployer\n");
    let err = error(&text);
    let msg = assert_names(&err, 6, "environments.dev.role");
    assert!(
        msg.contains("arn:aws:iam::<12-digit account id>:role/"),
        "{msg}"
    );
}

#[test]
fn bad_chain_role_and_region_reported_together() {
    let text =
        format!("{BASE}environments:\n  prod:\n    chain-role: deployer\n    region: virginia\n");
    let err = error(&text);
    assert_eq!(err.problems().len(), 2, "{err}");
    let msg = assert_names(&err, 6, "environments.prod.chain-role");
    assert!(msg.contains(&format!("{FILE}:7:")), "{msg}");
    assert!(msg.contains("`environments.prod.region`"), "{msg}");
}

#[test]
fn image_with_tag() {
    let err = error(&format!(
        "{BASE}    image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/api:latest\n"
    ));
    let msg = assert_names(&err, 4, "services.api.image");
    assert!(
        msg.contains("`111111111111.dkr.ecr.us-east-1.amazonaws.com/api`"),
        "{msg}"
    );
}

#[test]
fn image_with_registry_port_is_fine() {
    parse(&format!("{BASE}    image: localhost:5000/api\n"), FILE).expect("port is not a tag");
}

#[test]
fn bad_service_name_points_at_the_key() {
    let err = error("services:\n  Api Server:\n    paths: [a]\n");
    assert_names(&err, 2, "services.Api Server");
}

#[test]
fn bad_environment_name() {
    let err = error(&format!("{BASE}environments:\n  _dev: {{}}\n"));
    assert_names(&err, 5, "environments._dev");
}

#[test]
fn empty_paths() {
    let err = error("services:\n  api:\n    paths: []\n");
    assert_names(&err, 3, "services.api.paths");
}

#[test]
fn bad_glob() {
    let err = error("services:\n  api:\n    paths: [\"a/**\", \"b/[x\"]\n");
    assert_names(&err, 3, "services.api.paths[1]");
}

#[test]
fn bad_initial_version() {
    let err = error(&format!("{BASE}release:\n  initial-version: \"1.0\"\n"));
    assert_names(&err, 5, "release.initial-version");
}

#[test]
fn unquoted_number_where_string_expected() {
    let err = error(&format!("{BASE}release:\n  initial-version: 1.0\n"));
    // `1.0` reads as a string here (yaml_serde accepts the scalar), so SemVer rejects it.
    assert_names(&err, 5, "release.initial-version");
}

#[test]
fn empty_markers() {
    let err = error(&format!(
        "{BASE}markers:\n  deploy-all: \"\"\n  skip: [\"[skip ci]\", \" \"]\n"
    ));
    assert_eq!(err.problems().len(), 2, "{err}");
    let msg = assert_names(&err, 5, "markers.deploy-all");
    assert!(msg.contains("`markers.skip[1]`"), "{msg}");
}

#[test]
fn migration_needs_command_or_preset() {
    let err = error(&format!("{BASE}    migration:\n      container: api\n"));
    assert_names(&err, 5, "services.api.migration");
}

#[test]
fn unknown_migration_preset() {
    let err = error(&format!("{BASE}    migration:\n      preset: flyway\n"));
    let msg = assert_names(&err, 5, "services.api.migration.preset");
    assert!(msg.contains("`alembic`"), "{msg}");
}

#[test]
fn health_without_urls() {
    let err = error(&format!("{BASE}    health:\n      timeout-seconds: 5\n"));
    assert_names(&err, 5, "services.api.health");
}

#[test]
fn top_level_list() {
    let err = error("- a\n- b\n");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{FILE}:1:1")), "{msg}");
    assert!(msg.contains("top level"), "{msg}");
}

#[test]
fn two_documents() {
    let err = error(&format!("{BASE}---\nservices: {{}}\n"));
    let msg = err.to_string();
    assert!(msg.contains(&format!("{FILE}:4:")), "{msg}");
    assert!(msg.contains("single YAML document"), "{msg}");
}

#[test]
fn empty_file() {
    for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n"] {
        let err = error(text);
        assert!(matches!(err, ConfigError::Empty { .. }), "{text:?}: {err}");
        assert!(err.to_string().contains(FILE), "{err}");
        assert_eq!(err.kind(), ErrorKind::BadInput);
    }
}

#[test]
fn file_not_found_names_path_and_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing.yml");
    let err = deployer_config::load(&path).expect_err("missing");
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::NotFound { .. }));
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("--config"), "{msg}");
    assert_eq!(err.kind(), ErrorKind::BadInput);
}

#[test]
fn unreadable_path_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = deployer_config::load(dir.path()).expect_err("a directory");
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    assert!(err.to_string().contains("--config"), "{err}");
    assert_eq!(err.kind(), ErrorKind::BadInput);
}

#[test]
fn load_uses_the_path_as_origin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deployer.yml");
    std::fs::write(&path, "services:\n  api:\n    pathz: [a]\n").expect("write");
    let err = deployer_config::load(&path).expect_err("bad");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}:3:5:", path.display())), "{msg}");
    assert!(msg.contains("`services.api.pathz`"), "{msg}");
}

#[test]
fn gate_without_kind_is_reported_at_its_list_item() {
    let text = format!("{BASE}environments:\n  production:\n    gates:\n      - name: nothing\n");
    let err = error(&text);
    assert_names(&err, 7, "environments.production.gates[0]");
}
