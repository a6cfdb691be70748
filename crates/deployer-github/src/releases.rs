//! Releases and tag refs. Every call needs `permissions: contents: write` for the
//! job's `GITHUB_TOKEN` (reads work with `contents: read`, but the release flow writes).

use serde::{Deserialize, Serialize};

use crate::{Call, Client, GithubError, Permission};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
    #[serde(default)]
    pub name: Option<String>,
}

/// A release to create (never a draft; pre-releases are never marked latest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    pub tag: String,
    /// Commit SHA the tag is created at when it does not exist yet.
    pub target_sha: String,
    pub name: String,
    pub body: String,
    pub prerelease: bool,
}

#[derive(Debug, Serialize)]
struct CreateReleaseBody<'a> {
    tag_name: &'a str,
    target_commitish: &'a str,
    name: &'a str,
    body: &'a str,
    draft: bool,
    prerelease: bool,
    make_latest: &'a str,
}

#[derive(Debug, Serialize)]
struct CreateRefBody<'a> {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: &'a str,
}

#[derive(Debug, Deserialize)]
struct RefObject {
    sha: String,
    #[serde(rename = "type", default)]
    kind: String,
}

/// `GET /git/tags/{sha}`: an annotated tag object.
#[derive(Debug, Deserialize)]
struct TagObject {
    object: RefObject,
}

#[derive(Debug, Deserialize)]
struct GitRef {
    object: RefObject,
}

/// What [`Client::create_tag_ref`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRefOutcome {
    Created,
    /// The tag already pointed at the requested commit.
    AlreadyExists,
}

const CONTENTS: Permission = Permission::ContentsWrite;

impl Client {
    /// `GET /repos/{o}/{r}/releases/tags/{tag}`; `None` when there is no such release.
    pub async fn get_release_by_tag(&self, tag: &str) -> Result<Option<Release>, GithubError> {
        let action = format!("look up the release of tag {tag}");
        let url = self.repo_url(&["releases", "tags", tag]);
        let found = self
            .send::<(), Release>(&Call::get(&action, CONTENTS, url), true)
            .await?;
        Ok(found.map(|(_, r)| r))
    }

    /// `POST /repos/{o}/{r}/releases`.
    pub async fn create_release(&self, release: &NewRelease) -> Result<Release, GithubError> {
        self.check_token(CONTENTS)?;
        let action = format!("create the release {}", release.tag);
        let body = CreateReleaseBody {
            tag_name: &release.tag,
            target_commitish: &release.target_sha,
            name: &release.name,
            body: &release.body,
            draft: false,
            prerelease: release.prerelease,
            make_latest: if release.prerelease { "false" } else { "true" },
        };
        let url = self.repo_url(&["releases"]);
        let (_, created) = self
            .send_json(&Call::post(&action, CONTENTS, url, &body))
            .await?;
        Ok(created)
    }

    /// The release for `tag`, created when missing (idempotent). `true` when created.
    pub async fn ensure_release(
        &self,
        release: &NewRelease,
    ) -> Result<(Release, bool), GithubError> {
        if let Some(existing) = self.get_release_by_tag(&release.tag).await? {
            return Ok((existing, false));
        }
        match self.create_release(release).await {
            Ok(created) => Ok((created, true)),
            // A retried POST whose first attempt was applied (or a concurrent run) answers
            // 422 `already_exists`: the release is there, which is what was asked.
            Err(err @ GithubError::Unprocessable { .. }) => {
                match self.get_release_by_tag(&release.tag).await? {
                    Some(existing) => Ok((existing, false)),
                    None => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// The commit a tag ref points at, annotated tag objects peeled; `None` when absent.
    pub async fn get_tag_ref(&self, tag: &str) -> Result<Option<String>, GithubError> {
        let action = format!("look up tag {tag}");
        let url = self.repo_url(&["git", "ref", "tags", tag]);
        let Some((_, found)) = self
            .send::<(), GitRef>(&Call::get(&action, CONTENTS, url), true)
            .await?
        else {
            return Ok(None);
        };
        let mut object = found.object;
        // A tag may point at another tag object; follow a few levels.
        for _ in 0..4 {
            if object.kind != "tag" {
                return Ok(Some(object.sha));
            }
            let url = self.repo_url(&["git", "tags", &object.sha]);
            let (_, t) = self
                .send_json::<(), TagObject>(&Call::get(&action, CONTENTS, url))
                .await?;
            object = t.object;
        }
        Ok(Some(object.sha))
    }

    /// `POST /repos/{o}/{r}/git/refs` for `refs/tags/{tag}` at `sha`; an existing tag at
    /// the same commit is fine, at another commit an error.
    pub async fn create_tag_ref(&self, tag: &str, sha: &str) -> Result<TagRefOutcome, GithubError> {
        self.check_token(CONTENTS)?;
        let existing_at = |existing: String| {
            if existing == sha {
                Ok(TagRefOutcome::AlreadyExists)
            } else {
                Err(GithubError::TagConflict {
                    tag: tag.into(),
                    existing,
                    wanted: sha.into(),
                })
            }
        };
        if let Some(existing) = self.get_tag_ref(tag).await? {
            return existing_at(existing);
        }
        let action = format!("create tag {tag}");
        let body = CreateRefBody {
            git_ref: format!("refs/tags/{tag}"),
            sha,
        };
        let url = self.repo_url(&["git", "refs"]);
        match self
            .send_json::<_, serde_json::Value>(&Call::post(&action, CONTENTS, url, &body))
            .await
        {
            Ok(_) => Ok(TagRefOutcome::Created),
            // 422 `Reference already exists`: a retried POST or a concurrent run made it.
            Err(err @ GithubError::Unprocessable { .. }) => match self.get_tag_ref(tag).await? {
                Some(existing) => existing_at(existing),
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }
}
