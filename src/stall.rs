//! Stall detection: each CPU stage thread marks when it starts and ends a story, and the
//! daemon's watchdog asks [`StallWatch::longest`] which story has been held longest.
//!
//! The enrichment core cannot be interrupted (it is plain synchronous code, and a thread
//! cannot be stopped from outside), and every input is bounded so each story should take
//! time linear in its size. A story held past `pipeline.stall_timeout` means that promise
//! failed: the daemon then logs it, fails `/healthz` and exits, so the supervisor restarts
//! the worker; the story is redelivered, and once the consumer's `max_deliver` is spent
//! the server stops delivering it and `bus::rescue` dead-letters it.
//!
//! Marking costs two short, uncontended locks per story and stage and one clock read; the
//! watchdog takes each thread's lock a few times a second.
//!
//! Must not: block a stage thread for longer than a copy of its mark.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The stage threads' marks; shared between the threads and the watchdog.
#[derive(Debug, Default)]
pub struct StallWatch {
    slots: Mutex<Vec<Arc<Slot>>>,
}

/// One stage thread's mark: the story it holds, if any.
#[derive(Debug)]
pub struct Slot {
    stage: &'static str,
    holding: Mutex<Option<Mark>>,
}

/// When the story a thread holds was started, and its stream sequence.
#[derive(Debug, Clone, Copy)]
struct Mark {
    since: Instant,
    sequence: Option<u64>,
}

/// The story held longest, as [`StallWatch::longest`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The stage holding it.
    pub stage: &'static str,
    /// How long it has been held.
    pub duration: Duration,
    /// Its stream sequence, if it has one.
    pub sequence: Option<u64>,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} stage held one story (", self.stage)?;
        match self.sequence {
            Some(sequence) => write!(f, "stream sequence {sequence}")?,
            None => write!(f, "no stream sequence")?,
        }
        write!(f, ") for {:.1}s", self.duration.as_secs_f64())
    }
}

impl Slot {
    fn set(&self, mark: Option<Mark>) {
        *self.holding.lock().unwrap_or_else(PoisonError::into_inner) = mark;
    }

    fn get(&self) -> Option<Mark> {
        *self.holding.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StallWatch {
    /// A watch with no threads.
    pub fn new() -> Self {
        Self::default()
    }

    /// A slot for one thread of `stage`, watched until the watch is dropped.
    pub fn slot(&self, stage: &'static str) -> Arc<Slot> {
        let slot = Arc::new(Slot {
            stage,
            holding: Mutex::new(None),
        });
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&slot));
        slot
    }

    /// Marks `slot` busy with a story from now.
    pub fn start(&self, slot: &Slot, sequence: Option<u64>) {
        slot.set(Some(Mark {
            since: Instant::now(),
            sequence,
        }));
    }

    /// Marks `slot` idle.
    pub fn end(&self, slot: &Slot) {
        slot.set(None);
    }

    /// The story held longest at `now`, if any thread is busy.
    pub fn longest(&self, now: Instant) -> Option<Held> {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .iter()
            .filter_map(|slot| {
                slot.get().map(|mark| Held {
                    stage: slot.stage,
                    duration: now.saturating_duration_since(mark.since),
                    sequence: mark.sequence,
                })
            })
            .max_by_key(|held| held.duration)
    }

    /// Resolves once a story has been held for `limit` (checking a few times a second),
    /// with that story.
    pub async fn stalled(&self, limit: Duration) -> Held {
        let period = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            if let Some(held) = self.longest(Instant::now()) {
                if held.duration >= limit {
                    return held;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_story_held_longest_and_forgets_finished_ones() {
        let watch = StallWatch::new();
        let parse = watch.slot("parse");
        let entities = watch.slot("entities");
        let t0 = Instant::now();
        assert_eq!(watch.longest(t0), None, "idle threads hold nothing");
        watch.start(&parse, Some(7));
        std::thread::sleep(Duration::from_millis(20));
        watch.start(&entities, None);
        let held = watch
            .longest(Instant::now() + Duration::from_secs(5))
            .unwrap();
        assert_eq!(held.stage, "parse");
        assert_eq!(held.sequence, Some(7));
        assert!(held.duration >= Duration::from_secs(5), "{held:?}");
        watch.end(&parse);
        let held = watch.longest(Instant::now()).unwrap();
        assert_eq!((held.stage, held.sequence), ("entities", None));
        watch.end(&entities);
        assert_eq!(
            watch.longest(Instant::now() + Duration::from_secs(60)),
            None
        );
    }

    #[tokio::test]
    async fn stalled_resolves_only_past_the_limit() {
        let watch = Arc::new(StallWatch::new());
        let slot = watch.slot("quotes");
        watch.start(&slot, Some(3));
        let quick = tokio::time::timeout(
            Duration::from_millis(50),
            watch.stalled(Duration::from_secs(30)),
        )
        .await;
        assert!(quick.is_err(), "a story held 50 ms is not stalled at 30 s");
        let held = tokio::time::timeout(
            Duration::from_secs(5),
            watch.stalled(Duration::from_millis(100)),
        )
        .await
        .expect("a story held past the limit is reported");
        assert_eq!((held.stage, held.sequence), ("quotes", Some(3)));
        assert!(held.duration >= Duration::from_millis(100));
        assert!(
            held.to_string()
                .starts_with("the quotes stage held one story (stream sequence 3) for "),
            "{held}"
        );
    }
}
