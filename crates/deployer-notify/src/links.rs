//! URLs to the current run and to the workflows that continue or roll back a deploy.

/// Where this run lives on GitHub, from the variables every Actions job has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    /// `GITHUB_SERVER_URL`, default `https://github.com`.
    pub server_url: String,
    /// `GITHUB_REPOSITORY`, `owner/name`.
    pub repository: String,
    /// `GITHUB_RUN_ID`.
    pub run_id: Option<String>,
    /// `GITHUB_ACTOR`.
    pub actor: Option<String>,
    /// `GITHUB_SHA`.
    pub sha: Option<String>,
}

pub const DEFAULT_SERVER_URL: &str = "https://github.com";

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl RunContext {
    /// Reads `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`, `GITHUB_ACTOR`,
    /// `GITHUB_SHA`. Outside Actions most are empty and the URLs are `None`.
    pub fn from_env() -> Self {
        RunContext {
            server_url: var("GITHUB_SERVER_URL").unwrap_or_else(|| DEFAULT_SERVER_URL.into()),
            repository: var("GITHUB_REPOSITORY").unwrap_or_default(),
            run_id: var("GITHUB_RUN_ID"),
            actor: var("GITHUB_ACTOR"),
            sha: var("GITHUB_SHA"),
        }
    }

    fn repo_base(&self) -> Option<String> {
        let repo = self.repository.trim().trim_matches('/');
        if repo.is_empty() || !repo.contains('/') {
            return None;
        }
        let server = self.server_url.trim().trim_end_matches('/');
        let server = if server.is_empty() {
            DEFAULT_SERVER_URL
        } else {
            server
        };
        Some(format!("{server}/{repo}"))
    }

    /// `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`.
    pub fn run_url(&self) -> Option<String> {
        let run_id = self.run_id.as_deref()?.trim();
        if run_id.is_empty() {
            return None;
        }
        Some(format!("{}/actions/runs/{run_id}", self.repo_base()?))
    }

    /// `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/workflows/<file>`: the page with
    /// the "Run workflow" button of a `workflow_dispatch` workflow. `workflow` may be a file
    /// name (`rollback.yml`) or a path (`.github/workflows/rollback.yml`).
    pub fn workflow_url(&self, workflow: &str) -> Option<String> {
        let file = workflow.trim().rsplit('/').next().unwrap_or("").trim();
        if file.is_empty() {
            return None;
        }
        Some(format!("{}/actions/workflows/{file}", self.repo_base()?))
    }
}

/// The links a message carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// This run.
    pub run_url: Option<String>,
    /// The workflow that continues the deploy (e.g. cut traffic over, promote), with its
    /// file name for the label.
    pub continue_workflow: Option<(String, String)>,
    /// The workflow that rolls back, with its file name for the label.
    pub rollback_workflow: Option<(String, String)>,
}

impl Links {
    /// Links for `ctx` and the given workflow files (e.g. `cutover.yml`, `rollback.yml`).
    pub fn new(
        ctx: &RunContext,
        continue_workflow: Option<&str>,
        rollback_workflow: Option<&str>,
    ) -> Self {
        let pair = |w: Option<&str>| {
            let w = w?.trim();
            let url = ctx.workflow_url(w)?;
            let name = w.rsplit('/').next().unwrap_or(w).to_string();
            Some((name, url))
        };
        Links {
            run_url: ctx.run_url(),
            continue_workflow: pair(continue_workflow),
            rollback_workflow: pair(rollback_workflow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RunContext {
        RunContext {
            server_url: "https://github.example.com/".into(),
            repository: "org/app".into(),
            run_id: Some("123".into()),
            actor: Some("octocat".into()),
            sha: None,
        }
    }

    #[test]
    fn run_and_workflow_urls() {
        let c = ctx();
        assert_eq!(
            c.run_url().as_deref(),
            Some("https://github.example.com/org/app/actions/runs/123")
        );
        assert_eq!(
            c.workflow_url(".github/workflows/rollback.yml").as_deref(),
            Some("https://github.example.com/org/app/actions/workflows/rollback.yml")
        );
        let links = Links::new(&c, Some("cutover.yml"), None);
        assert_eq!(
            links.continue_workflow.as_ref().map(|p| p.0.as_str()),
            Some("cutover.yml")
        );
        assert!(links.rollback_workflow.is_none());
    }

    #[test]
    fn missing_repository_or_run_gives_no_url() {
        let mut c = ctx();
        c.run_id = None;
        assert_eq!(c.run_url(), None);
        c.repository = String::new();
        assert_eq!(c.workflow_url("rollback.yml"), None);
    }
}
