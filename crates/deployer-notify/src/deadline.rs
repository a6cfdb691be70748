//! When notifications must give up, so a hung webhook or API never delays a deploy.
//!
//! A "started" notification is sent while the deploy runs, before anyone knows when it
//! must stop: its [`Deadline`] is [`Deadline::later`], and the command sets it (with
//! [`DeadlineSetter::set`]) when the deploy ends, giving the notification what is left of
//! the short budget the "finished" ones get.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// The end of a notification budget: never, at a fixed instant, or at an instant set later.
#[derive(Debug, Clone)]
pub struct Deadline(Inner);

#[derive(Debug, Clone)]
enum Inner {
    Never,
    At(Instant, Duration),
    Later(watch::Receiver<Option<(Instant, Duration)>>),
}

/// Sets a [`Deadline::later`].
#[derive(Debug)]
pub struct DeadlineSetter(watch::Sender<Option<(Instant, Duration)>>);

impl Deadline {
    /// No deadline: every channel's own bounded retries decide.
    pub fn never() -> Self {
        Deadline(Inner::Never)
    }

    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline(Inner::At(Instant::now() + budget, budget))
    }

    /// A deadline not known yet. Dropping the setter without setting it means no deadline.
    pub fn later() -> (DeadlineSetter, Self) {
        let (tx, rx) = watch::channel(None);
        (DeadlineSetter(tx), Deadline(Inner::Later(rx)))
    }

    /// Resolves when the deadline has passed (never, for no deadline).
    pub async fn reached(&self) {
        match &self.0 {
            Inner::Never => std::future::pending().await,
            Inner::At(at, _) => tokio::time::sleep_until(*at).await,
            Inner::Later(rx) => {
                let mut rx = rx.clone();
                let set = rx.wait_for(Option::is_some).await.ok().and_then(|v| *v);
                match set {
                    Some((at, _)) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            }
        }
    }

    /// The budget the deadline was set with, when it is set (for messages).
    pub fn budget(&self) -> Option<Duration> {
        match &self.0 {
            Inner::Never => None,
            Inner::At(_, budget) => Some(*budget),
            Inner::Later(rx) => rx.borrow().map(|(_, budget)| budget),
        }
    }
}

impl DeadlineSetter {
    /// The deadline is `budget` from now.
    pub fn set(&self, budget: Duration) {
        self.0.send_replace(Some((Instant::now() + budget, budget)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_later_deadline_waits_until_set_then_for_its_budget() {
        let (setter, deadline) = Deadline::later();
        assert_eq!(deadline.budget(), None);
        let waiting = tokio::spawn({
            let deadline = deadline.clone();
            async move { deadline.reached().await }
        });
        // Not set: still waiting after the scheduler has run it.
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        setter.set(Duration::ZERO);
        waiting.await.expect("reached once set");
        assert_eq!(deadline.budget(), Some(Duration::ZERO));
    }

    #[tokio::test]
    async fn a_dropped_setter_means_no_deadline() {
        let (setter, deadline) = Deadline::later();
        drop(setter);
        let never = tokio::time::timeout(Duration::from_millis(50), deadline.reached()).await;
        assert!(never.is_err(), "a deadline nobody set must not pass");
    }
}
