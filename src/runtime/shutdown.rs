//! Shutdown, as every long-running part hears it: the signal handler (or a
//! test) asks once, and pollers, delivery, the limiter and the update handler
//! stop starting new work.

use tokio::sync::watch;

/// Listens for the request to stop; cheap to clone, one per task.
///
/// A dropped [`ShutdownTrigger`] counts as a request: nobody could ask any
/// more, so waiting on would never end.
#[derive(Clone, Debug)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
}

/// Asks every [`Shutdown`] made with it to stop.
#[derive(Debug)]
pub struct ShutdownTrigger {
    requested: watch::Sender<bool>,
}

impl Shutdown {
    /// A trigger and the listener it controls.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (
            ShutdownTrigger { requested: tx },
            Shutdown { requested: rx },
        )
    }

    /// Whether stopping was asked for.
    pub fn is_requested(&self) -> bool {
        *self.requested.borrow() || self.requested.has_changed().is_err()
    }

    /// Returns once stopping is asked for (at once if it already was).
    pub async fn requested(&self) {
        let mut requested = self.requested.clone();
        // An error means the trigger is gone: that counts as a request.
        let _ = requested.wait_for(|stop| *stop).await;
    }
}

impl ShutdownTrigger {
    /// Asks everyone to stop; asking again changes nothing.
    pub fn trigger(&self) {
        self.requested.send_replace(true);
    }

    /// Another listener, for a part started later.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            requested: self.requested.subscribe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_trigger_reaches_every_listener_and_a_dropped_one_counts() {
        let (trigger, shutdown) = Shutdown::new();
        let other = trigger.subscribe();
        assert!(!shutdown.is_requested());
        trigger.trigger();
        assert!(shutdown.is_requested() && other.is_requested());
        shutdown.requested().await;

        let (trigger, shutdown) = Shutdown::new();
        drop(trigger);
        assert!(shutdown.is_requested());
        shutdown.requested().await;
    }
}
