//! The tests start the portal through `serve`'s own start-up
//! (`startup::build_app`: migrations, then the first-superuser hint of
//! SPEC §4), so the path tested is the path shipped.
use crate::both_backends;
use crate::common::{Backend, Opts, spawn_with};
use std::sync::{Arc, Mutex};

both_backends!(start_up_says_how_to_make_the_first_superuser);

/// Log lines written while a closure's future runs on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }
}

fn subscriber(into: Captured) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || into.clone())
        .finish()
}

const HINT: &str = "ixp-portal user create --superuser";

async fn start_up_says_how_to_make_the_first_superuser(b: Backend) {
    // A fresh database: the start-up migrates it and says how to begin.
    let fresh = Captured::default();
    let app = {
        let _log = tracing::subscriber::set_default(subscriber(fresh.clone()));
        spawn_with(b, Opts::default()).await
    };
    let Some(app) = app else { return };
    let log = fresh.text();
    assert!(
        log.contains("database ready"),
        "migrated at start-up: {log}"
    );
    assert!(log.contains(HINT), "the first-superuser hint: {log}");
    // The same database with a superuser: no hint.
    app.create_user("noc", "correct horse battery", true);
    let later = Captured::default();
    let again = {
        let _log = tracing::subscriber::set_default(subscriber(later.clone()));
        spawn_with(
            b,
            Opts {
                database_url: Some(app.database_url.clone()),
                ..Opts::default()
            },
        )
        .await
    };
    assert!(again.is_some(), "the second start-up");
    let log = later.text();
    assert!(log.contains("database ready"), "{log}");
    assert!(
        !log.contains(HINT),
        "no hint once a superuser exists: {log}"
    );
}
