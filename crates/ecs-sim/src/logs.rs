//! CloudWatch Logs (`Logs_20140328.*`) for the awslogs streams of simulated tasks.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::protocol::{ApiError, ApiResult, int, required, s, strings};
use crate::state::State;

struct Stream {
    created: f64,
    events: Vec<(i64, String)>,
}

/// Visible streams of a log group: (stream name -> events up to now), in ms.
fn streams(state: &State, group: &str) -> BTreeMap<String, Stream> {
    let now = state.now;
    let mut out: BTreeMap<String, Stream> = BTreeMap::new();
    for t in state.tasks.values() {
        let Some(started) = t.started_at.or(t.plan.running_at) else {
            continue;
        };
        if started > now {
            continue;
        }
        for c in &t.containers {
            let Some((g, stream)) = &c.log_target else {
                continue;
            };
            if g != group {
                continue;
            }
            let events = c
                .logs
                .iter()
                .filter(|l| l.at <= now && t.stopped_at.is_none_or(|s| l.at <= s))
                .map(|l| ((l.at * 1000.0) as i64, l.message.clone()))
                .collect();
            out.insert(
                stream.clone(),
                Stream {
                    created: started,
                    events,
                },
            );
        }
    }
    out
}

fn group_exists(state: &State, group: &str) -> bool {
    state.tasks.values().any(|t| {
        t.containers
            .iter()
            .any(|c| c.log_target.as_ref().is_some_and(|(g, _)| g == group))
    })
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        400,
        "ResourceNotFoundException",
        format!("The specified {what} does not exist."),
    )
}

fn parse_token(token: Option<&str>) -> Option<(char, usize)> {
    let t = token?;
    let (kind, n) = t.split_once('/')?;
    let c = kind.chars().next()?;
    Some((c, n.parse().ok()?))
}

pub fn handle(state: &mut State, op: &str, body: &Value) -> ApiResult {
    match op {
        "GetLogEvents" => get_log_events(state, body),
        "FilterLogEvents" => filter_log_events(state, body),
        "DescribeLogStreams" => describe_log_streams(state, body),
        _ => Err(ApiError::new(
            400,
            "UnknownOperationException",
            format!("Operation {op} is not supported by ecs-sim."),
        )),
    }
}

fn get_log_events(state: &State, body: &Value) -> ApiResult {
    let group = s(body, "logGroupName").or_else(|| s(body, "logGroupIdentifier"));
    let group = group.ok_or_else(|| {
        ApiError::new(
            400,
            "InvalidParameterException",
            "logGroupName is required.",
        )
    })?;
    let stream_name = required(body, "logStreamName")?;
    let all = streams(state, group);
    let Some(stream) = all.get(stream_name) else {
        return Err(if group_exists(state, group) {
            not_found("log stream")
        } else {
            not_found("log group")
        });
    };
    let start = int(body, "startTime");
    let end = int(body, "endTime");
    let events: Vec<&(i64, String)> = stream
        .events
        .iter()
        .filter(|(t, _)| start.is_none_or(|s| *t >= s) && end.is_none_or(|e| *t < e))
        .collect();
    let limit = int(body, "limit")
        .filter(|l| *l > 0)
        .map(|l| l.min(10_000) as usize)
        .unwrap_or(10_000);
    let from_head = body
        .get("startFromHead")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (lo, hi) = match parse_token(s(body, "nextToken")) {
        Some(('f', n)) => (
            n.min(events.len()),
            n.saturating_add(limit).min(events.len()),
        ),
        Some(('b', n)) => {
            let hi = n.min(events.len());
            (hi.saturating_sub(limit), hi)
        }
        _ if from_head => (0, limit.min(events.len())),
        _ => (events.len().saturating_sub(limit), events.len()),
    };
    let out: Vec<Value> = events[lo..hi]
        .iter()
        .map(|(t, m)| json!({"timestamp": t, "message": m, "ingestionTime": t + 150}))
        .collect();
    Ok(json!({
        "events": out,
        "nextForwardToken": format!("f/{hi:056}"),
        "nextBackwardToken": format!("b/{lo:056}"),
    }))
}

fn filter_log_events(state: &State, body: &Value) -> ApiResult {
    let group = s(body, "logGroupName").or_else(|| s(body, "logGroupIdentifier"));
    let group = group.ok_or_else(|| {
        ApiError::new(
            400,
            "InvalidParameterException",
            "logGroupName is required.",
        )
    })?;
    if !group_exists(state, group) {
        return Err(not_found("log group"));
    }
    let names = strings(body, "logStreamNames");
    let prefix = s(body, "logStreamNamePrefix");
    let start = int(body, "startTime");
    let end = int(body, "endTime");
    let pattern = s(body, "filterPattern").map(|p| p.trim_matches('"').to_string());
    let mut events = Vec::new();
    let mut searched = Vec::new();
    for (name, stream) in streams(state, group) {
        if (!names.is_empty() && !names.contains(&name))
            || prefix.is_some_and(|p| !name.starts_with(p))
        {
            continue;
        }
        searched.push(json!({"logStreamName": name, "searchedCompletely": true}));
        for (i, (t, m)) in stream.events.iter().enumerate() {
            if start.is_some_and(|s| *t < s) || end.is_some_and(|e| *t > e) {
                continue;
            }
            if pattern
                .as_ref()
                .is_some_and(|p| !p.is_empty() && !m.contains(p.as_str()))
            {
                continue;
            }
            events.push(json!({"logStreamName": name, "timestamp": t, "message": m, "ingestionTime": t + 150,
                "eventId": format!("{t:020}{i:016}")}));
        }
    }
    events.sort_by_key(|e| e.get("timestamp").and_then(Value::as_i64).unwrap_or(0));
    let offset = s(body, "nextToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0)
        .min(events.len());
    let limit = int(body, "limit")
        .filter(|l| *l > 0)
        .map(|l| l.min(10_000) as usize)
        .unwrap_or(10_000);
    let end_idx = offset.saturating_add(limit).min(events.len());
    let mut out =
        json!({"events": events[offset..end_idx].to_vec(), "searchedLogStreams": searched});
    if end_idx < events.len() {
        out["nextToken"] = json!(end_idx.to_string());
    }
    Ok(out)
}

fn describe_log_streams(state: &State, body: &Value) -> ApiResult {
    let group = s(body, "logGroupName").or_else(|| s(body, "logGroupIdentifier"));
    let group = group.ok_or_else(|| {
        ApiError::new(
            400,
            "InvalidParameterException",
            "logGroupName is required.",
        )
    })?;
    if !group_exists(state, group) {
        return Err(not_found("log group"));
    }
    let prefix = s(body, "logStreamNamePrefix");
    let mut list: Vec<(String, Stream)> = streams(state, group)
        .into_iter()
        .filter(|(n, _)| prefix.is_none_or(|p| n.starts_with(p)))
        .collect();
    if s(body, "orderBy") == Some("LastEventTime") {
        list.sort_by_key(|(_, st)| {
            st.events
                .last()
                .map(|e| e.0)
                .unwrap_or((st.created * 1000.0) as i64)
        });
    }
    if body
        .get("descending")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        list.reverse();
    }
    let region = state.region.clone();
    let streams: Vec<Value> = list
        .iter()
        .map(|(n, st)| {
            let mut v = json!({
                "logStreamName": n,
                "creationTime": (st.created * 1000.0) as i64,
                "arn": format!("arn:aws:logs:{region}:{}:log-group:{group}:log-stream:{n}", crate::state::ACCOUNT),
                "storedBytes": 0,
                "uploadSequenceToken": "1",
            });
            if let (Some(first), Some(last)) = (st.events.first(), st.events.last()) {
                v["firstEventTimestamp"] = json!(first.0);
                v["lastEventTimestamp"] = json!(last.0);
                v["lastIngestionTime"] = json!(last.0 + 150);
            }
            v
        })
        .collect();
    Ok(json!({"logStreams": streams}))
}
