//! Pure, lossless task-definition rendering.
//!
//! The definition is kept as JSON from end to end: read-only fields are dropped, images,
//! environment variables and tags are set, and everything else — including fields this
//! code has never heard of — goes to RegisterTaskDefinition untouched (see
//! [`crate::ecs::Ecs::register_task_definition`], which sends this JSON as the request body).

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Fields DescribeTaskDefinition returns that RegisterTaskDefinition does not accept.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// Which image goes into which container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// `None`: the only container (or the containers named in the config).
    pub container: Option<String>,
    pub image: String,
}

/// Parses `api=repo/api:v1,worker=repo/worker:v1` or a bare `repo/api:v1`.
pub fn parse_images(text: &str) -> Result<Vec<ImageSpec>> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((container, image)) => {
                let (container, image) = (container.trim(), image.trim());
                if container.is_empty() || image.is_empty() {
                    return Err(Error::BadInput(format!(
                        "image `{part}` must be `container=image:tag` (or just `image:tag`)"
                    )));
                }
                out.push(ImageSpec {
                    container: Some(container.into()),
                    image: image.into(),
                });
            }
            None => out.push(ImageSpec {
                container: None,
                image: part.into(),
            }),
        }
    }
    Ok(out)
}

/// An environment variable: `KEY=VALUE` (containers whose image changes) or `container:KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSpec {
    pub container: Option<String>,
    pub name: String,
    pub value: String,
}

pub fn parse_env(text: &str) -> Result<EnvSpec> {
    let Some((left, value)) = text.split_once('=') else {
        return Err(Error::BadInput(format!(
            "env `{text}` must be KEY=VALUE or container:KEY=VALUE"
        )));
    };
    let (container, name) = match left.split_once(':') {
        Some((c, n)) => (Some(c.trim().to_string()), n.trim().to_string()),
        None => (None, left.trim().to_string()),
    };
    if name.is_empty() {
        return Err(Error::BadInput(format!(
            "env `{text}` has an empty variable name"
        )));
    }
    Ok(EnvSpec {
        container,
        name,
        value: value.to_string(),
    })
}

/// `key=value` task-definition tag.
pub fn parse_tag(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Error::BadInput(format!("tag `{text}` must be key=value"))),
    }
}

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub images: Vec<ImageSpec>,
    /// Containers a bare image applies to (from deployer.yml); empty = the only container.
    pub default_containers: Vec<String>,
    pub env: Vec<EnvSpec>,
    pub tags: Vec<(String, String)>,
}

/// Parses a task definition file (JSON or YAML).
pub fn parse_file(text: &str, origin: &str) -> Result<Value> {
    let trimmed = text.trim_start();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(text)
            .map_err(|e| Error::BadInput(format!("{origin}: not valid JSON: {e}")))?
    } else {
        yaml_serde::from_str(text)
            .map_err(|e| Error::BadInput(format!("{origin}: not valid YAML/JSON: {e}")))?
    };
    if !value.is_object() {
        return Err(Error::BadInput(format!(
            "{origin}: a task definition must be an object"
        )));
    }
    Ok(value)
}

/// Turns a DescribeTaskDefinition answer (bare, or wrapped in `{"taskDefinition": …, "tags": …}`)
/// or a user file into a RegisterTaskDefinition input.
pub fn to_register_input(described: &Value) -> Result<Value> {
    let mut tags = None;
    let inner = match described.get("taskDefinition") {
        Some(inner) if inner.is_object() => {
            tags = described.get("tags").cloned();
            inner
        }
        _ => described,
    };
    let Some(obj) = inner.as_object() else {
        return Err(Error::BadInput(
            "a task definition must be a JSON object".into(),
        ));
    };
    let mut out: Map<String, Value> = obj
        .iter()
        .filter(|(k, v)| !READ_ONLY_FIELDS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(tags) = tags.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
        out.entry("tags").or_insert(tags);
    }
    if !out.get("family").is_some_and(Value::is_string) {
        return Err(Error::BadInput(
            "the task definition has no `family`".into(),
        ));
    }
    if out
        .get("containerDefinitions")
        .is_none_or(|c| c.as_array().is_none_or(|a| a.is_empty()))
    {
        return Err(Error::BadInput(
            "the task definition has no `containerDefinitions`".into(),
        ));
    }
    Ok(Value::Object(out))
}

pub fn container_names(td: &Value) -> Vec<String> {
    td.get("containerDefinitions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn family(td: &Value) -> Option<String> {
    let inner = td.get("taskDefinition").unwrap_or(td);
    inner
        .get("family")
        .and_then(Value::as_str)
        .map(String::from)
}

/// Images per container name.
pub fn images(td: &Value) -> Vec<(String, String)> {
    let inner = td.get("taskDefinition").unwrap_or(td);
    inner
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    Some((
                        c.get("name")?.as_str()?.to_string(),
                        c.get("image")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn container_mut<'a>(td: &'a mut Value, name: &str) -> Option<&'a mut Map<String, Value>> {
    td.get_mut("containerDefinitions")?
        .as_array_mut()?
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

fn unknown_container(name: &str, known: &[String]) -> Error {
    Error::BadInput(format!(
        "the task definition has no container named `{name}`; its containers are: {}",
        known.join(", ")
    ))
}

/// Renders `base` (DescribeTaskDefinition output or a file) with the options applied.
/// Returns the RegisterTaskDefinition input and a list of human-readable changes.
pub fn render(base: &Value, opts: &RenderOptions) -> Result<(Value, Vec<String>)> {
    let mut td = to_register_input(base)?;
    let known = container_names(&td);
    let mut changes = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    for spec in &opts.images {
        let targets: Vec<String> = match &spec.container {
            Some(c) => vec![c.clone()],
            None if !opts.default_containers.is_empty() => opts.default_containers.clone(),
            None if known.len() == 1 => known.clone(),
            None => {
                return Err(Error::BadInput(format!(
                    "image `{}` names no container and the task definition has several ({}); \
                     write it as container=image (e.g. {}={})",
                    spec.image,
                    known.join(", "),
                    known.first().map(String::as_str).unwrap_or("app"),
                    spec.image
                )));
            }
        };
        for name in targets {
            let c =
                container_mut(&mut td, &name).ok_or_else(|| unknown_container(&name, &known))?;
            let old = c
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if old != spec.image {
                changes.push(format!("{name}: image {old} → {}", spec.image));
            }
            c.insert("image".into(), Value::String(spec.image.clone()));
            if !touched.contains(&name) {
                touched.push(name);
            }
        }
    }
    for env in &opts.env {
        let targets: Vec<String> = match &env.container {
            Some(c) => vec![c.clone()],
            None if !touched.is_empty() => touched.clone(),
            None => known.clone(),
        };
        for name in targets {
            let c =
                container_mut(&mut td, &name).ok_or_else(|| unknown_container(&name, &known))?;
            let list = c
                .entry("environment")
                .or_insert_with(|| Value::Array(vec![]));
            if !list.is_array() {
                *list = Value::Array(vec![]);
            }
            if let Some(arr) = list.as_array_mut() {
                let new = serde_json::json!({"name": env.name, "value": env.value});
                match arr
                    .iter_mut()
                    .find(|e| e.get("name").and_then(Value::as_str) == Some(env.name.as_str()))
                {
                    Some(existing) if *existing == new => {}
                    Some(existing) => {
                        *existing = new;
                        changes.push(format!("{name}: env {} updated", env.name));
                    }
                    None => {
                        arr.push(new);
                        changes.push(format!("{name}: env {} added", env.name));
                    }
                }
            }
        }
    }
    if !opts.tags.is_empty() {
        let obj = td
            .as_object_mut()
            .ok_or_else(|| Error::BadInput("task definition is not an object".into()))?;
        let list = obj.entry("tags").or_insert_with(|| Value::Array(vec![]));
        if !list.is_array() {
            *list = Value::Array(vec![]);
        }
        if let Some(arr) = list.as_array_mut() {
            for (k, v) in &opts.tags {
                let new = serde_json::json!({"key": k, "value": v});
                match arr
                    .iter_mut()
                    .find(|t| t.get("key").and_then(Value::as_str) == Some(k.as_str()))
                {
                    Some(existing) => *existing = new,
                    None => arr.push(new),
                }
            }
        }
    }
    Ok((td, changes))
}

/// Recursively drops null, empty arrays and empty objects, and orders `environment`/`secrets`
/// lists by name: the differences ECS introduces on a register → describe round trip.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, val) in m {
                let n = normalize(val);
                let empty = n.is_null()
                    || n.as_array().is_some_and(Vec::is_empty)
                    || n.as_object().is_some_and(Map::is_empty);
                if !empty {
                    let n = if matches!(k.as_str(), "environment" | "secrets") {
                        sort_by_name(n)
                    } else {
                        n
                    };
                    out.insert(k.clone(), n);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        // ECS answers cpu/memory as strings whatever was sent.
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

fn sort_by_name(v: Value) -> Value {
    match v {
        Value::Array(mut a) => {
            a.sort_by(|x, y| {
                let key = |e: &Value| {
                    e.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                key(x).cmp(&key(y))
            });
            Value::Array(a)
        }
        other => other,
    }
}

/// True when registering `rendered` would produce the same definition as `current`
/// (a DescribeTaskDefinition answer): then no new revision is registered.
pub fn is_same(current: &Value, rendered: &Value) -> bool {
    let Ok(cur) = to_register_input(current) else {
        return false;
    };
    let strip_tags = |v: &Value| {
        let mut v = normalize(v);
        if let Some(o) = v.as_object_mut() {
            o.remove("tags");
        }
        v
    };
    let tags_ok = match rendered.get("tags").and_then(Value::as_array) {
        None => true,
        Some(wanted) if wanted.is_empty() => true,
        // Tags only count when the describe answer carried them.
        Some(wanted) => match cur.get("tags").and_then(Value::as_array) {
            Some(have) => wanted.iter().all(|t| have.contains(t)),
            None => false,
        },
    };
    tags_ok && strip_tags(&cur) == strip_tags(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn described() -> Value {
        json!({
            "taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/api:7",
                "family": "api", "revision": 7, "status": "ACTIVE",
                "requiresAttributes": [{"name": "x"}], "compatibilities": ["FARGATE"],
                "registeredAt": 1.0, "registeredBy": "me", "cpu": "256", "memory": "512",
                "networkMode": "awsvpc", "ephemeralStorage": {"sizeInGiB": 30},
                "someFutureField": {"kept": true},
                "containerDefinitions": [
                    {"name": "api", "image": "repo/api:v1", "essential": true,
                     "environment": [{"name": "A", "value": "1"}]},
                    {"name": "worker", "image": "repo/worker:v1"}
                ]
            },
            "tags": [{"key": "team", "value": "core"}]
        })
    }

    #[test]
    fn read_only_fields_dropped_and_unknown_fields_kept() {
        let (td, _) = render(&described(), &RenderOptions::default()).expect("render");
        for f in READ_ONLY_FIELDS {
            assert!(td.get(f).is_none(), "{f} kept");
        }
        assert_eq!(td["someFutureField"], json!({"kept": true}));
        assert_eq!(td["ephemeralStorage"], json!({"sizeInGiB": 30}));
        assert_eq!(td["tags"], json!([{"key": "team", "value": "core"}]));
    }

    #[test]
    fn images_set_per_named_container() {
        let opts = RenderOptions {
            images: parse_images("api=repo/api:v2, worker=repo/worker:v2").expect("parse"),
            ..Default::default()
        };
        let (td, changes) = render(&described(), &opts).expect("render");
        assert_eq!(
            images(&td),
            vec![
                ("api".into(), "repo/api:v2".into()),
                ("worker".into(), "repo/worker:v2".into())
            ]
        );
        assert_eq!(changes.len(), 2);
    }

    #[test]
    fn unknown_container_names_the_existing_ones() {
        let opts = RenderOptions {
            images: parse_images("web=x:1").expect("parse"),
            ..Default::default()
        };
        let err = render(&described(), &opts)
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains("`web`") && err.contains("api, worker"),
            "{err}"
        );
        let opts = RenderOptions {
            images: parse_images("x:1").expect("parse"),
            ..Default::default()
        };
        let err = render(&described(), &opts)
            .expect_err("ambiguous")
            .to_string();
        assert!(err.contains("several"), "{err}");
    }

    #[test]
    fn bare_image_uses_default_containers() {
        let opts = RenderOptions {
            images: parse_images("repo/api:v3").expect("parse"),
            default_containers: vec!["api".into()],
            ..Default::default()
        };
        let (td, _) = render(&described(), &opts).expect("render");
        assert_eq!(images(&td)[0].1, "repo/api:v3");
        assert_eq!(images(&td)[1].1, "repo/worker:v1");
    }

    #[test]
    fn env_and_tags_upserted() {
        let opts = RenderOptions {
            images: parse_images("api=repo/api:v2").expect("parse"),
            env: vec![
                parse_env("A=2").expect("env"),
                parse_env("worker:B=x=y").expect("env"),
            ],
            tags: vec![
                parse_tag("sha=abc").expect("tag"),
                parse_tag("team=web").expect("tag"),
            ],
            ..Default::default()
        };
        let (td, _) = render(&described(), &opts).expect("render");
        assert_eq!(
            td["containerDefinitions"][0]["environment"],
            json!([{"name": "A", "value": "2"}])
        );
        assert_eq!(
            td["containerDefinitions"][1]["environment"],
            json!([{"name": "B", "value": "x=y"}])
        );
        assert_eq!(
            td["tags"],
            json!([{"key": "team", "value": "web"}, {"key": "sha", "value": "abc"}])
        );
    }

    #[test]
    fn same_definition_is_detected() {
        let (same, _) = render(
            &described(),
            &RenderOptions {
                images: parse_images("api=repo/api:v1").expect("p"),
                ..Default::default()
            },
        )
        .expect("render");
        assert!(is_same(&described(), &same));
        let (changed, _) = render(
            &described(),
            &RenderOptions {
                images: parse_images("api=repo/api:v2").expect("p"),
                ..Default::default()
            },
        )
        .expect("render");
        assert!(!is_same(&described(), &changed));
        // ECS fills in empty lists and numbers-as-strings: still the same.
        let mut file = same.clone();
        file["cpu"] = json!(256);
        file["volumes"] = json!([]);
        assert!(is_same(&described(), &file));
    }

    #[test]
    fn yaml_files_parse() {
        let v = parse_file(
            "family: api\ncontainerDefinitions:\n  - name: api\n    image: x:1\n",
            "td.yml",
        )
        .expect("yaml");
        assert_eq!(family(&v).as_deref(), Some("api"));
        assert!(parse_file("[1]", "x").is_err());
        assert!(to_register_input(&json!({"family": "a"})).is_err());
    }
}
