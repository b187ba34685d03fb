//! Step-up audit events: one structured log event per decision, without secrets.
//!
//! Events go to the `stepup::audit` target at `info`, with `outcome`, `user.sub`,
//! `http.route`, `stepup.acr_values` and `stepup.max_age`, so a log pipeline can count
//! challenges and failures per route without parsing messages.

use stepup::Requirement;

/// Outcome of a step-up decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The request fell short and was asked to step up.
    Challenged,
    /// The request met a non-empty requirement, or a step-up sign-in met what it asked for.
    Satisfied,
    /// The provider returned that it cannot meet the requirement.
    Unmet,
    /// A step-up sign-in came back still short of the requirement, so the app stopped
    /// instead of redirecting again.
    LoopStopped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Challenged => "challenged",
            Self::Satisfied => "satisfied",
            Self::Unmet => "unmet",
            Self::LoopStopped => "loop_stopped",
        }
    }
}

/// Logs one audit event. Requests with an empty requirement are not step-up decisions and
/// are not logged.
pub fn record(outcome: Outcome, subject: Option<&str>, route: &str, requirement: &Requirement) {
    if requirement.is_empty() {
        return;
    }
    tracing::info!(
        target: "stepup::audit",
        outcome = outcome.as_str(),
        user.sub = subject.unwrap_or("-"),
        http.route = route,
        stepup.acr_values = %requirement.acr_values.join(" "),
        stepup.max_age = ?requirement.max_age,
        "step-up decision"
    );
}
