//! Counts of list results ("1,234 users", "10,000+ users"), remembered for
//! a few seconds (issue 12): counting up to 10,000 matching rows on every
//! view of a list page cost more than the page's own 50 rows. A change to
//! the counted table in this process forgets every remembered count at
//! once; another instance's change shows within `TTL`.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a count is shown without asking the database again.
pub const TTL: Duration = Duration::from_secs(5);
/// Remembered counts at most (filters differ per search); then all go.
const MAX_ENTRIES: usize = 512;

/// A count: how many, and whether the cap cut it short.
pub type Count = (i64, bool);

struct Entry {
    at: Instant,
    generation: u64,
    count: Count,
}

/// Remembered counts, forgotten together at each change.
#[derive(Default)]
pub struct Counts {
    generation: AtomicU64,
    map: Mutex<HashMap<String, Entry>>,
}

impl Counts {
    /// Forgets every remembered count (a row was added, changed or removed).
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The remembered count under `key` (the database and the filter), or
    /// a fresh one from `count`, remembered.
    pub fn remembered<E>(
        &self,
        key: String,
        count: impl FnOnce() -> Result<Count, E>,
    ) -> Result<Count, E> {
        let generation = self.generation.load(Ordering::Relaxed);
        if let Ok(map) = self.map.lock()
            && let Some(e) = map.get(&key)
            && e.generation == generation
            && e.at.elapsed() < TTL
        {
            return Ok(e.count);
        }
        let fresh = count()?;
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(
                key,
                Entry {
                    at: Instant::now(),
                    generation,
                    count: fresh,
                },
            );
        }
        Ok(fresh)
    }
}

/// The process's remembered counts of users.
pub fn users() -> &'static Counts {
    static USERS: OnceLock<Counts> = OnceLock::new();
    USERS.get_or_init(Counts::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_a_change() {
        let counts = Counts::default();
        let key = || "a".to_string();
        assert_eq!(
            counts.remembered::<()>(key(), || Ok((3, false))),
            Ok((3, false))
        );
        // Remembered: the database is not asked again.
        assert_eq!(
            counts.remembered::<()>(key(), || Ok((99, false))),
            Ok((3, false))
        );
        // Another filter is counted on its own.
        assert_eq!(
            counts.remembered::<()>("b".into(), || Ok((7, false))),
            Ok((7, false))
        );
        counts.changed();
        assert_eq!(
            counts.remembered::<()>(key(), || Ok((4, false))),
            Ok((4, false))
        );
        // An error is passed on and not remembered.
        counts.changed();
        assert_eq!(counts.remembered(key(), || Err("down")), Err("down"));
        assert_eq!(
            counts.remembered::<()>(key(), || Ok((5, true))),
            Ok((5, true))
        );
    }
}
