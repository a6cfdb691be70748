//! Emergency bypass: named gates may fail without blocking, and the summary records who
//! bypassed them (`GITHUB_ACTOR`) and why (a required reason).

use crate::GateError;
use crate::gate::{GateResult, Outcome};

/// An emergency promotion.
#[derive(Debug, Clone, PartialEq)]
pub struct Emergency {
    /// Who declared it (GITHUB_ACTOR), "unknown" when not known.
    pub actor: String,
    pub reason: String,
    /// Gate names or kinds that may be bypassed. Empty: every gate except typed confirmations.
    pub bypass: Vec<String>,
}

impl Emergency {
    /// Validates the inputs: a reason is required so the audit trail says why.
    pub fn new(
        actor: Option<&str>,
        reason: Option<&str>,
        bypass: Vec<String>,
    ) -> Result<Emergency, GateError> {
        let reason = reason.map(str::trim).unwrap_or("");
        if reason.is_empty() {
            return Err(GateError::invalid(
                "emergency-reason",
                "an emergency bypass needs a reason (--emergency-reason / DEPLOYER_EMERGENCY_REASON); it is recorded in the summary",
            ));
        }
        let actor = actor
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or("unknown")
            .to_string();
        let bypass = bypass
            .into_iter()
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
            .collect();
        Ok(Emergency {
            actor,
            reason: reason.to_string(),
            bypass,
        })
    }

    /// Whether the gate with this name and kind is bypassed.
    pub fn covers(&self, name: &str, kind: &str) -> bool {
        if self.bypass.is_empty() {
            kind != "confirmation"
        } else {
            self.bypass.iter().any(|b| b == name || b == kind)
        }
    }

    /// Marks failed gates it covers as bypassed (they no longer block) and returns
    /// the names of the gates it bypassed.
    pub fn apply(&self, results: &mut [GateResult]) -> Vec<String> {
        let mut bypassed = Vec::new();
        for r in results.iter_mut() {
            if r.outcome == Outcome::Failed && self.covers(&r.name, &r.kind) {
                r.outcome = Outcome::Bypassed;
                bypassed.push(r.name.clone());
            }
        }
        bypassed
    }

    /// Markdown for the job summary: who, why, what was bypassed.
    pub fn summary(&self, bypassed: &[String]) -> String {
        let scope = if self.bypass.is_empty() {
            "all gates except typed confirmation".to_string()
        } else {
            self.bypass.join(", ")
        };
        let what = if bypassed.is_empty() {
            "none (every gate passed)".to_string()
        } else {
            bypassed.join(", ")
        };
        format!(
            "> [!WARNING]\n> **Emergency promotion** declared by **{}**: {}\n> Bypassable: {scope}. Bypassed failures: {what}.\n",
            deployer_core::markdown::escape_cell(&self.actor),
            deployer_core::markdown::escape_cell(&self.reason).replace('\n', " ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_required_and_actor_recorded() {
        assert!(Emergency::new(Some("octocat"), Some("  "), vec![]).is_err());
        assert!(Emergency::new(Some("octocat"), None, vec![]).is_err());
        let e = Emergency::new(None, Some("hotfix for INC-42"), vec![]).expect("valid");
        assert_eq!(e.actor, "unknown");
    }

    #[test]
    fn bypasses_only_named_failed_gates() {
        let e = Emergency::new(
            Some("octocat"),
            Some("INC-42"),
            vec!["tests".into(), "perf-checkout".into()],
        )
        .expect("valid");
        let mut results = vec![
            GateResult::new("tests", false, "1 failed", "0", ""),
            GateResult::new("performance", false, "90 %", "95 %", "").named("perf-checkout"),
            GateResult::new("coverage", false, "70 %", "80 %", ""),
            GateResult::new("security", true, "no findings", "", ""),
        ];
        let bypassed = e.apply(&mut results);
        assert_eq!(
            bypassed,
            vec!["tests".to_string(), "perf-checkout".to_string()]
        );
        assert_eq!(results[0].outcome, Outcome::Bypassed);
        assert!(!results[0].blocks());
        assert!(results[2].blocks());
        assert_eq!(results[3].outcome, Outcome::Passed);
        let md = e.summary(&bypassed);
        assert!(md.contains("**octocat**: INC-42"), "{md}");
    }

    #[test]
    fn default_scope_spares_typed_confirmation() {
        let e = Emergency::new(Some("a"), Some("b"), vec![]).expect("valid");
        assert!(e.covers("tests", "tests"));
        assert!(!e.covers("confirmation", "confirmation"));
        let explicit =
            Emergency::new(Some("a"), Some("b"), vec!["confirmation".into()]).expect("valid");
        assert!(explicit.covers("confirmation", "confirmation"));
    }
}
