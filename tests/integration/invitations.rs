//! SPEC §3: a member's admin invites a colleague by email. Every address
//! gets the same answer; nobody is linked until the invited person accepts
//! (signed in as the invited account, or by making an account); an
//! invitation works once, within 7 days, and can be revoked.
use crate::both_backends;
use crate::common::{Backend, TestApp, location, spawn};
use crate::staff::{Browser, World, world};
use diesel::prelude::*;
use ixp_portal::db::schema::invitations;
use ixp_portal::db::{affiliations, users as db_users};
use ixp_portal::domain::{CreatedBy, Privilege};
use reqwest::StatusCode;

both_backends!(
    every_address_gets_the_same_answer_and_nobody_is_linked,
    the_invited_account_accepts_once,
    another_account_cannot_accept,
    expired_and_used_invitations_are_refused,
    custadmin_revokes_a_pending_invitation,
);

/// The path of the invitation link in a mail.
pub fn invitation_path(app: &TestApp, mail: &str) -> String {
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    let start = flat
        .find(&format!("{}/invitations/", app.base))
        .expect("the mail holds an invitation link");
    let link: String = flat[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.strip_prefix(&app.base).unwrap_or(&link).to_string()
}

fn links_of(app: &TestApp, user: i64) -> Vec<(String, Privilege, CreatedBy)> {
    app.with_conn(|c| {
        affiliations::of_user(c, user)
            .unwrap()
            .into_iter()
            .map(|(a, cu)| (cu.shortname, a.privilege, a.created_by))
            .collect()
    })
}

/// The notice after inviting `email`, with the address taken out.
async fn invite(adam: &Browser, email: &str, privilege: &str) -> String {
    let page = adam
        .post_follow(
            "/member/users",
            &[("email", email), ("name", ""), ("privilege", privilege)],
        )
        .await;
    let at = page
        .find("Invitation sent to")
        .unwrap_or_else(|| panic!("the neutral answer for {email}: {page}"));
    let notice: String = page[at..].chars().take_while(|c| *c != '<').collect();
    notice.replace(email, "ADDRESS")
}

/// The mail to `to`, once the queue is sent.
fn mail_to(app: &TestApp, to: &str) -> String {
    app.outbox()
        .into_iter()
        .rfind(|m| m.contains(&format!("To: {to}")))
        .unwrap_or_else(|| panic!("a mail to {to}"))
}

async fn every_address_gets_the_same_answer_and_nobody_is_linked(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w: World = world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    let users_before = app.with_conn(|c| db_users::counts(c).unwrap().0);
    // Unknown, known (another customer's user), staff, already linked.
    let unknown = invite(&adam, "new.person@example.org", "custuser").await;
    let known = invite(&adam, "BEA@example.net", "custadmin").await;
    let staff = invite(&adam, "staff@example.net", "custadmin").await;
    let linked = invite(&adam, "amy@example.net", "custuser").await;
    assert_eq!(unknown, known, "known and unknown addresses look alike");
    assert_eq!(unknown, staff, "staff addresses look alike");
    assert_eq!(unknown, linked, "linked accounts look alike");
    // Nobody is linked, nobody is made, until someone accepts.
    assert_eq!(
        links_of(&app, w.bea),
        [("bravo".to_string(), Privilege::CustUser, CreatedBy::Admin)]
    );
    assert!(links_of(&app, w.staff).is_empty());
    assert_eq!(
        app.with_conn(|c| db_users::counts(c).unwrap().0),
        users_before
    );
    // Each address got its invitation; the pending list shows all four.
    let mails = app.outbox();
    assert_eq!(mails.len(), 4);
    let new_mail = mail_to(&app, "new.person@example.org");
    assert!(
        new_mail.contains("choose your username and password"),
        "{new_mail}"
    );
    let bea_mail = mail_to(&app, "BEA@example.net");
    assert!(bea_mail.contains("Sign in with it"), "{bea_mail}");
    let (_, page) = adam.get("/member/users").await;
    for email in [
        "new.person@example.org",
        "BEA@example.net",
        "staff@example.net",
    ] {
        assert!(
            page.contains(&format!("<td>{email}</td>")),
            "{email} pending"
        );
    }
    // Only the hash of a token is stored.
    let path = invitation_path(&app, &bea_mail);
    let secret = path.trim_start_matches("/invitations/").to_string();
    let stored: Vec<String> = app.with_conn(|c| {
        invitations::table
            .select(invitations::token_hash)
            .load(c)
            .unwrap()
    });
    assert!(!stored.contains(&secret));
    assert!(stored.contains(&ixp_portal::auth::token::digest(&secret)));
}

async fn the_invited_account_accepts_once(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    invite(&adam, "bea@example.net", "custadmin").await;
    let path = invitation_path(&app, &mail_to(&app, "bea@example.net"));
    // Signed out: sign in first, and come back.
    let anon = Browser::anonymous(&app);
    let r = anon.get_resp(&path).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    let r = anon.post(&path, &[]).await;
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    assert_eq!(links_of(&app, w.bea).len(), 1, "not linked yet");
    // Signed in as the invited account: one button.
    let bea = Browser::signed_in(&app, "bea").await;
    let (s, page) = bea.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Join Alpha Networks"), "{page}");
    let r = bea.post(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    assert_eq!(
        links_of(&app, w.bea),
        [
            ("alpha".to_string(), Privilege::CustAdmin, CreatedBy::Admin),
            ("bravo".to_string(), Privilege::CustUser, CreatedBy::Admin),
        ]
    );
    // Once only.
    let r = bea.post(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("used already or expired"));
    let (_, page) = adam.get("/member/users").await;
    assert!(
        !page.contains("Pending invitations"),
        "accepted: not pending"
    );
}

async fn another_account_cannot_accept(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    invite(&adam, "bea@example.net", "custadmin").await;
    let path = invitation_path(&app, &mail_to(&app, "bea@example.net"));
    let bob = Browser::signed_in(&app, "bob").await;
    let (s, page) = bob.get(&path).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("sent to another email address"), "{page}");
    let r = bob.post(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(links_of(&app, w.bob).iter().all(|l| l.0 != "alpha"));
    assert!(links_of(&app, w.bea).iter().all(|l| l.0 != "alpha"));
    // Nor can anyone make a new account with it.
    let anon = Browser::anonymous(&app);
    let r = anon
        .post(
            &path,
            &[
                ("username", "mallory"),
                ("name", "M"),
                ("password", "a long password 1"),
                ("confirm", "a long password 1"),
            ],
        )
        .await;
    assert!(location(&r).starts_with("/login"));
    assert!(app.with_conn(|c| db_users::by_username(c, "mallory").unwrap().is_none()));
    // The invitation still works for bea.
    let bea = Browser::signed_in(&app, "bea").await;
    assert_eq!(location(&bea.post(&path, &[]).await), "/");
    assert!(links_of(&app, w.bea).iter().any(|l| l.0 == "alpha"));
}

async fn expired_and_used_invitations_are_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    invite(&adam, "late@example.org", "custuser").await;
    invite(&adam, "quick@example.org", "custuser").await;
    let late = invitation_path(&app, &mail_to(&app, "late@example.org"));
    let quick = invitation_path(&app, &mail_to(&app, "quick@example.org"));
    // Seven days pass for the first one.
    app.with_conn(|c| {
        diesel::update(invitations::table.filter(invitations::email.eq("late@example.org")))
            .set(
                invitations::expires_at
                    .eq(ixp_portal::db::models::now() - chrono::Duration::seconds(1)),
            )
            .execute(c)
            .unwrap()
    });
    let anon = Browser::anonymous(&app);
    let account = |u: &'static str| {
        [
            ("username", u),
            ("name", "Some One"),
            ("password", "a long password 1"),
            ("confirm", "a long password 1"),
        ]
    };
    let (s, page) = anon.get(&late).await;
    assert_eq!(s, StatusCode::GONE);
    assert!(page.contains("invalid, used already or expired"), "{page}");
    let r = anon.post(&late, &account("late")).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(app.with_conn(|c| db_users::by_username(c, "late").unwrap().is_none()));
    // The other makes an account once; the second use is refused.
    let (s, page) = anon.get(&quick).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Choose a username and a password"), "{page}");
    let r = anon.post(&quick, &account("quick")).await;
    assert_eq!(location(&r), "/login");
    let r = anon.post(&quick, &account("quick2")).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("used already or expired"));
    assert!(app.with_conn(|c| db_users::by_username(c, "quick2").unwrap().is_none()));
    let quick_user = app.with_conn(|c| db_users::by_username(c, "quick").unwrap().unwrap());
    assert_eq!(
        links_of(&app, quick_user.id),
        [("alpha".to_string(), Privilege::CustUser, CreatedBy::Admin)]
    );
    // A made-up token is refused the same way.
    let (s, _) = anon.get("/invitations/not-a-real-token").await;
    assert_eq!(s, StatusCode::GONE);
}

async fn custadmin_revokes_a_pending_invitation(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    invite(&adam, "maybe@example.org", "custuser").await;
    let path = invitation_path(&app, &mail_to(&app, "maybe@example.org"));
    let id: i64 = app.with_conn(|c| invitations::table.select(invitations::id).first(c).unwrap());
    let revoke = format!("/member/invitations/{id}/revoke");
    let (_, page) = adam.get("/member/users").await;
    assert!(page.contains(&format!("href=\"{revoke}\"")), "{page}");
    let (s, page) = adam.get(&revoke).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Revoke the invitation to maybe@example.org?"));
    assert!(page.contains("class=\"danger\""), "a dangerous button");
    // Another customer's admin cannot; nor a POST without its token.
    let bob = Browser::signed_in(&app, "bob").await;
    assert_eq!(bob.get(&revoke).await.0, StatusCode::NOT_FOUND);
    assert_eq!(bob.post(&revoke, &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        adam.post_raw(&revoke, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(Browser::anonymous(&app).get(&path).await.0, StatusCode::OK);
    let page = adam.post_follow(&revoke, &[]).await;
    assert!(page.contains("The invitation to maybe@example.org is revoked."));
    assert_eq!(
        Browser::anonymous(&app).get(&path).await.0,
        StatusCode::GONE
    );
}
