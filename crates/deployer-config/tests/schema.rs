//! The committed JSON Schema (`schema/deployer.schema.json`) must match the types.
//! Regenerate with: DEPLOYER_BLESS=1 cargo test -p deployer-config --test schema

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/deployer.schema.json")
}

#[test]
fn schema_is_up_to_date() {
    let generated = deployer_config::json_schema();
    let path = committed_path();
    if std::env::var_os("DEPLOYER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("schema dir")).expect("create schema/");
        std::fs::write(&path, &generated).expect("write schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/deployer.schema.json is stale (or missing). Regenerate it with:\n\n    \
         DEPLOYER_BLESS=1 cargo test -p deployer-config --test schema\n\nand commit the result."
    );
}

#[test]
fn schema_describes_fields_and_defaults() {
    let schema: serde_json::Value =
        serde_json::from_str(&deployer_config::json_schema()).expect("schema is JSON");
    let text = schema.to_string();
    // Doc comments became descriptions; kebab-case names; defaults are visible.
    assert!(text.contains("tag-prefix"), "{text}");
    assert!(text.contains("\"additionalProperties\":false"), "{text}");
    assert!(text.contains("GitHub-style globs"), "{text}");
    assert!(text.contains("[deploy-all]"), "{text}");
    assert_eq!(schema["required"], serde_json::json!(["services"]));
}
