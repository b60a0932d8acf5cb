//! SPEC §8: mail is queued in the request's transaction and sent by the
//! background task, with retries; "Forgot password" and invitations are
//! limited per account and per client address with the same answer; the
//! files and directories the portal creates are its user's only.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, spawn, spawn_with};
use crate::staff::{Browser, world};
use ixp_portal::db::{DbConnection, mail_queue};
use reqwest::StatusCode;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

both_backends!(
    a_request_queues_mail_and_never_waits_on_smtp,
    the_sender_delivers_and_retries_after_a_failure,
    a_mail_that_keeps_failing_is_kept_as_failed,
    forgot_password_is_limited_per_account_and_address,
    invitations_are_limited_per_address,
    files_and_directories_are_private,
);

fn queue(app: &TestApp) -> Vec<mail_queue::QueuedMail> {
    app.with_conn(|c| mail_queue::all(c).unwrap())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

const SAME_ANSWER: &str = "If an account matches, we have sent a link";

async fn forgot(app: &TestApp, who: &str) -> String {
    let r = app.post("/password/forgot", &[("who", who)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app.page_after(r).await;
    assert!(page.contains(SAME_ANSWER), "the neutral answer: {page}");
    page
}

async fn a_request_queues_mail_and_never_waits_on_smtp(b: Backend) {
    // A mail server that accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!("smtp://{}", silent.local_addr().unwrap());
    let opts = Opts {
        vars: vec![("SMTP_URL", smtp)],
        ..Default::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    app.create_user("grace", "some password 1", false);
    forgot(&app, "grace").await;
    // The mail waits in the queue, written in the request's transaction.
    let rows = queue(&app);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].recipient, "grace@example.net");
    assert_eq!(rows[0].attempts, 0);
    assert!(rows[0].body.contains("/password/reset/"));
    assert!(!app.dir.path().join("outbox").exists());
    drop(silent);
}

async fn the_sender_delivers_and_retries_after_a_failure(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("grace", "some password 1", false);
    forgot(&app, "grace").await;
    // The outbox cannot be made: a file is in the way.
    let outbox = app.dir.path().join("outbox");
    std::fs::write(&outbox, "in the way").unwrap();
    let done = app.deliver_mail().await;
    assert_eq!((done.sent, done.retrying, done.failed), (0, 1, 0));
    let rows = queue(&app);
    assert_eq!(rows.len(), 1, "kept for a retry");
    assert_eq!(rows[0].attempts, 1);
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("outbox")
    );
    let next = rows[0].next_attempt_at;
    assert!(next > ixp_portal::db::models::now(), "backs off");
    // Not due yet: nothing is tried.
    assert_eq!(
        app.deliver_mail().await,
        ixp_portal::mail::Delivery::default()
    );
    // Once due, it goes out and leaves the queue.
    std::fs::remove_file(&outbox).unwrap();
    let done = ixp_portal::mail::deliver_due(&app.db, &app.mailer, next)
        .await
        .unwrap();
    assert_eq!((done.sent, done.retrying, done.failed), (1, 0, 0));
    assert!(queue(&app).is_empty());
    let mails = app.outbox();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: grace@example.net"));
}

async fn a_mail_that_keeps_failing_is_kept_as_failed(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.with_conn(|c: &mut DbConnection| {
        ixp_portal::mail::enqueue(c, "not an address", "Subject", "secret link").unwrap();
        ixp_portal::mail::enqueue(c, "ok@example.net", "Subject", "secret link").unwrap();
    });
    // The second one has been tried all but once, and fails once more.
    let outbox = app.dir.path().join("outbox");
    std::fs::write(&outbox, "in the way").unwrap();
    app.with_conn(|c| {
        use diesel::prelude::*;
        use ixp_portal::db::schema::mail_queue::dsl;
        diesel::update(dsl::mail_queue.filter(dsl::recipient.eq("ok@example.net")))
            .set(dsl::attempts.eq(ixp_portal::mail::MAX_ATTEMPTS - 1))
            .execute(c)
            .unwrap();
    });
    let done = app.deliver_mail().await;
    assert_eq!((done.sent, done.retrying, done.failed), (0, 0, 2));
    let rows = queue(&app);
    assert_eq!(rows.len(), 2, "failed mails are kept");
    for row in &rows {
        assert!(row.failed_at.is_some(), "{row:?}");
        assert_eq!(row.body, "", "the body (live links) is cleared");
        assert!(row.last_error.is_some());
    }
    // Failed mails are not tried again.
    std::fs::remove_file(&outbox).unwrap();
    assert_eq!(
        app.deliver_mail().await,
        ixp_portal::mail::Delivery::default()
    );
}

async fn forgot_password_is_limited_per_account_and_address(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("grace", "some password 1", false);
    // Per account: 3 an hour, the 4th gets the same answer and no mail.
    for _ in 0..4 {
        forgot(&app, "grace").await;
    }
    assert_eq!(queue(&app).len(), 3);
    // Per client address: 20 requests an hour, whoever they name.
    for i in 0..18 {
        app.create_user(&format!("user{i}"), "some password 1", false);
    }
    for i in 0..18 {
        forgot(&app, &format!("user{i}")).await;
    }
    let to: Vec<String> = queue(&app).into_iter().map(|m| m.recipient).collect();
    assert_eq!(to.len(), 3 + 16, "{to:?}");
    assert!(to.contains(&"user15@example.net".to_string()));
    assert!(!to.contains(&"user16@example.net".to_string()));
    assert!(!to.contains(&"user17@example.net".to_string()));
}

async fn invitations_are_limited_per_address(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    let invite = |email: String| {
        let adam = &adam;
        async move {
            let page = adam
                .post_follow(
                    "/member/users",
                    &[("email", &email), ("name", ""), ("privilege", "custuser")],
                )
                .await;
            assert!(
                page.contains(&format!("Invitation sent to {email}.")),
                "the same answer, limited or not: {page}"
            );
        }
    };
    // Per invited address (account or not): 3 an hour.
    for _ in 0..4 {
        invite("bea@example.net".into()).await;
    }
    assert_eq!(queue(&app).len(), 3);
    // Per client address: 20 an hour.
    for i in 0..18 {
        invite(format!("person{i}@example.org")).await;
    }
    let to: Vec<String> = queue(&app).into_iter().map(|m| m.recipient).collect();
    assert_eq!(to.len(), 3 + 16, "{to:?}");
    assert!(!to.contains(&"person16@example.org".to_string()));
}

async fn files_and_directories_are_private(b: Backend) {
    let top = tempfile::tempdir().unwrap();
    let data = top.path().join("data");
    let db_file = top.path().join("db/nested/portal.sqlite");
    let mut vars = vec![("PORTAL_DATA_DIR", data.display().to_string())];
    if b == Backend::Sqlite {
        vars.push(("DATABASE_URL", format!("sqlite:{}", db_file.display())));
    }
    let opts = Opts {
        vars,
        ..Default::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    app.create_user("grace", "some password 1", false);
    forgot(&app, "grace").await;
    assert_eq!(app.deliver_mail().await.sent, 1);
    let outbox = data.join("outbox");
    let mails: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mode(&mails[0]), 0o600, "a mail in the outbox");
    assert_eq!(mode(&outbox), 0o700, "the outbox");
    assert_eq!(mode(&data), 0o700, "the data directory");
    if b == Backend::Sqlite {
        // Generated only without SESSION_KEY (PostgreSQL requires it).
        assert_eq!(mode(&data.join("session.key")), 0o600, "the session key");
        assert_eq!(mode(&top.path().join("db")), 0o700);
        assert_eq!(mode(&top.path().join("db/nested")), 0o700);
        assert_eq!(mode(&db_file), 0o600, "the database");
        for suffix in ["-wal", "-shm"] {
            let side = top.path().join(format!("db/nested/portal.sqlite{suffix}"));
            assert_eq!(mode(&side), 0o600, "{}", side.display());
        }
    }
}
