//! Single flight: requests that miss the cache with the same key while the
//! authorizer is already being asked for it wait for that answer instead of
//! asking again. The first one leads; the others follow, each bounded by
//! the authorizer's timeout. Whatever the call gives (an answer, the
//! authorizer's `Unauthorized`, a failure) goes to its followers; only a
//! usable answer is cached, by the leader, before the followers are told.
//! A leader dropped before it finishes (its client went away) releases the
//! key, and its followers start over.

use super::cache::Key;
use super::output::AuthorizerOutput;
use super::service::AuthorizerRejection;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// What one call of the authorizer gave.
pub(crate) type Outcome = Result<AuthorizerOutput, AuthorizerRejection>;

type Slot = watch::Sender<Option<Outcome>>;

/// The keys being asked for now.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    in_flight: Mutex<HashMap<Key, Slot>>,
}

/// A request's place in a flight.
pub(crate) enum Joined<'a> {
    /// Ask the authorizer, then [`Leader::finish`].
    Lead(Leader<'a>),
    /// Wait for the leader's outcome: `None` when it went away unfinished.
    Follow(watch::Receiver<Option<Outcome>>),
}

/// The request asking the authorizer for a key.
pub(crate) struct Leader<'a> {
    flights: &'a Flights,
    key: Key,
}

impl Flights {
    pub(crate) fn join(&self, key: Key) -> Joined<'_> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = in_flight.get(&key) {
            return Joined::Follow(slot.subscribe());
        }
        in_flight.insert(key, watch::Sender::new(None));
        Joined::Lead(Leader { flights: self, key })
    }

    fn release(&self, key: &Key) -> Option<Slot> {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Leader<'_> {
    /// Hands the outcome to the followers and releases the key.
    pub(crate) fn finish(self, outcome: &Outcome) {
        if let Some(slot) = self.flights.release(&self.key) {
            slot.send_replace(Some(outcome.clone()));
        }
        std::mem::forget(self);
    }
}

impl Drop for Leader<'_> {
    // Unfinished: the followers see the slot closed and start over.
    fn drop(&mut self) {
        self.flights.release(&self.key);
    }
}

/// The leader's outcome, once it comes; `None` if the leader went away.
pub(crate) async fn outcome(mut rx: watch::Receiver<Option<Outcome>>) -> Option<Outcome> {
    loop {
        if let Some(outcome) = rx.borrow_and_update().as_ref() {
            return Some(outcome.clone());
        }
        rx.changed().await.ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_get_the_leaders_outcome_and_the_key_is_released() {
        let flights = Flights::default();
        let Joined::Lead(leader) = flights.join([1; 32]) else {
            panic!("the first one leads")
        };
        let Joined::Follow(rx) = flights.join([1; 32]) else {
            panic!("the second one follows")
        };
        assert!(matches!(flights.join([2; 32]), Joined::Lead(_)));
        leader.finish(&Err(AuthorizerRejection::Unauthorized));
        assert_eq!(flights.len(), 0);
        assert!(matches!(
            outcome(rx).await,
            Some(Err(AuthorizerRejection::Unauthorized))
        ));
        // A leader dropped unfinished: the follower is told to start over.
        let Joined::Lead(leader) = flights.join([1; 32]) else {
            panic!("released, so a new leader")
        };
        let Joined::Follow(rx) = flights.join([1; 32]) else {
            panic!("follows")
        };
        drop(leader);
        assert!(outcome(rx).await.is_none());
        assert_eq!(flights.len(), 0);
    }
}
