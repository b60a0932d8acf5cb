//! The member admin's pages: the current customer's users, add by email,
//! change a privilege, remove a link; nothing of other customers, nothing
//! of superusers.
use super::{Browser, PW, World, audit_of, link, outbox, row_of, world};
use crate::both_backends;
use crate::common::{Backend, TestApp, location, spawn};
use ixp_portal::db::{affiliations, users as db_users};
use ixp_portal::domain::{CreatedBy, Privilege};
use reqwest::StatusCode;

both_backends!(
    custadmin_adds_users_by_email,
    custadmin_changes_and_removes_only_own_links,
    member_pages_follow_the_current_customer,
);

/// Follows the password link of a mail, sets a password and signs in.
pub async fn set_password_from_mail(app: &TestApp, mail: &str, username: &str) {
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    let start = flat
        .find(&format!("{}/password/reset/", app.base))
        .expect("the mail holds a password link");
    let link: String = flat[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let path = link.strip_prefix(&app.base).unwrap_or(&link).to_string();
    assert!(
        flat.contains(&format!("Your username is \"{username}\"")),
        "{flat}"
    );
    let b = Browser::anonymous(app);
    let (s, _) = b.get(&path).await;
    assert_eq!(s, StatusCode::OK, "the link works");
    let r = b
        .post(
            &path,
            &[
                ("password", "a fresh password"),
                ("confirm", "a fresh password"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/login");
    let r = b
        .post(
            "/login",
            &[("username", username), ("password", "a fresh password")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/",
        "{username} signs in with the new password"
    );
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

async fn custadmin_adds_users_by_email(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w: World = world(&app);
    let adam = Browser::signed_in(&app, "adam").await;
    let (s, page) = adam.get("/member/users").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Users of Alpha Networks"));
    for name in ["ann", "adam", "amy"] {
        assert!(page.contains(&format!("<td>{name}")), "{name} listed");
    }
    assert!(
        !page.contains("<td>bea"),
        "other customers' users are not listed"
    );
    assert!(!page.contains("<td>bob"));
    assert!(
        !row_of(&page, "<td>adam").contains("<form"),
        "no buttons on one's own row"
    );
    assert!(row_of(&page, "<td>amy").contains("/remove"));

    // Invalid forms: field errors, typed values kept, nothing made.
    let users_before = app.with_conn(|c| db_users::counts(c).unwrap().0);
    let r = adam
        .post(
            "/member/users",
            &[
                ("email", "not an address"),
                ("name", "X"),
                ("privilege", "custuser"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("Give an email address"));
    assert!(page.contains(r#"value="not an address""#));
    let r = adam
        .post(
            "/member/users",
            &[
                ("email", "new@example.org"),
                ("name", "N"),
                ("privilege", "superuser"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // No token: refused.
    let r = adam
        .post_raw(
            "/member/users",
            &[
                ("email", "new@example.org"),
                ("name", "N"),
                ("privilege", "custuser"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.with_conn(|c| db_users::counts(c).unwrap().0),
        users_before
    );
    assert!(outbox(&app).is_empty());

    // A new person: an invitation (tests/integration/invitations.rs); the
    // account they make is created by adam, linked, and signs in.
    let page = adam
        .post_follow(
            "/member/users",
            &[
                ("email", "noc@newco.example"),
                ("name", "New Co NOC"),
                ("privilege", "custadmin"),
            ],
        )
        .await;
    assert!(
        page.contains("Invitation sent to noc@newco.example"),
        "{page}"
    );
    assert_eq!(
        app.with_conn(|c| db_users::counts(c).unwrap().0),
        users_before,
        "nobody is made before the invitation is accepted"
    );
    let mails = outbox(&app);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: noc@newco.example"));
    assert!(mails[0].contains("Alpha Networks"));
    let path = crate::invitations::invitation_path(&app, &mails[0]);
    let b = Browser::anonymous(&app);
    let (s, form) = b.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains(r#"value="New Co NOC""#),
        "the name is offered"
    );
    let r = b
        .post(
            &path,
            &[
                ("username", "noc"),
                ("name", "New Co NOC"),
                ("password", "a fresh password"),
                ("confirm", "a fresh password"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/login");
    let noc = app.with_conn(|c| db_users::by_username(c, "noc").unwrap().unwrap());
    assert_eq!(noc.creator, "adam");
    assert_eq!(noc.name, "New Co NOC");
    assert!(!noc.oauth() && !noc.superuser);
    assert_eq!(
        links_of(&app, noc.id),
        [("alpha".to_string(), Privilege::CustAdmin, CreatedBy::Admin)]
    );
    let r = b
        .post(
            "/login",
            &[("username", "noc"), ("password", "a fresh password")],
        )
        .await;
    assert_eq!(location(&r), "/", "noc signs in with the chosen password");
    let created = audit_of(&app, "user.create");
    assert!(
        created
            .iter()
            .any(|e| e.actor == "adam" && e.subject == "noc")
    );
    let _ = w;
}

async fn custadmin_changes_and_removes_only_own_links(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    // Staff are linked to alpha too; amy also to bravo.
    let staff_link = link(&app, w.staff, &w.alpha, Privilege::CustAdmin);
    link(&app, w.amy, &w.bravo, Privilege::CustUser);
    let adam = Browser::signed_in(&app, "adam").await;
    let (_, page) = adam.get("/member/users").await;
    assert!(
        !row_of(&page, "<td>staff").contains("<form"),
        "no buttons on a superuser's row"
    );

    let page = adam
        .post_follow(
            &format!("/member/users/{}/privilege", w.amy_link),
            &[("privilege", "custadmin")],
        )
        .await;
    assert!(page.contains("amy is now Administrator."));
    let log = audit_of(&app, "affiliation.privilege");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, "adam");
    assert!(log[0].details.contains("alpha"));

    // Other customers' links, superusers, oneself: refused, unchanged.
    for (aid, want) in [
        (w.bea_link, StatusCode::NOT_FOUND),
        (staff_link, StatusCode::FORBIDDEN),
        (w.adam_link, StatusCode::FORBIDDEN),
    ] {
        let r = adam
            .post(
                &format!("/member/users/{aid}/privilege"),
                &[("privilege", "custadmin")],
            )
            .await;
        assert_eq!(r.status(), want, "privilege of link {aid}");
        let r = adam.post(&format!("/member/users/{aid}/remove"), &[]).await;
        assert_eq!(r.status(), want, "removal of link {aid}");
    }
    assert_eq!(
        links_of(&app, w.bea),
        [("bravo".to_string(), Privilege::CustUser, CreatedBy::Admin)]
    );
    assert_eq!(links_of(&app, w.staff).len(), 1);
    assert_eq!(links_of(&app, w.adam)[0].1, Privilege::CustAdmin);
    // A bad privilege and a missing token.
    let r = adam
        .post(
            &format!("/member/users/{}/privilege", w.amy_link),
            &[("privilege", "superuser")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = adam
        .post_raw(&format!("/member/users/{}/remove", w.amy_link), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(links_of(&app, w.amy).len(), 2);

    // Removing amy's alpha link leaves her bravo link alone.
    let page = adam
        .post_follow(&format!("/member/users/{}/remove", w.amy_link), &[])
        .await;
    assert!(page.contains("amy no longer has access to Alpha Networks."));
    assert_eq!(
        links_of(&app, w.amy),
        [("bravo".to_string(), Privilege::CustUser, CreatedBy::Admin)]
    );
    assert!(!page.contains("<td>amy"));
    let log = audit_of(&app, "affiliation.remove");
    assert_eq!(
        (log[0].actor.as_str(), log[0].subject.as_str()),
        ("adam", "amy")
    );

    // A custadmin demoted by staff loses the pages at the next request.
    app.with_conn(|c| {
        affiliations::set_privilege(c, w.adam_link, Privilege::CustUser).unwrap();
    });
    let (s, _) = adam.get("/member/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, page) = adam.get("/").await;
    assert!(!page.contains("href=\"/member/users\""), "no nav link");
}

async fn member_pages_follow_the_current_customer(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    // ann: custuser of alpha, custadmin of bravo.
    link(&app, w.ann, &w.bravo, Privilege::CustAdmin);
    let ann = Browser::signed_in(&app, "ann").await;
    let (_, page) = ann.get("/").await;
    assert!(page.contains("switch-customer"), "the switcher");
    // Current customer alpha (first by name): custuser there.
    let (s, _) = ann.get("/member/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = ann
        .post(&format!("/member/users/{}/remove", w.bea_link), &[])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "not admin in the current customer"
    );
    // Switch to bravo: admin there, of bravo's users only.
    let r = ann
        .post("/switch", &[("customer_id", &w.bravo.id.to_string())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, page) = ann.get("/member/users").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Users of Bravo Transit"));
    assert!(page.contains("<td>bea"));
    assert!(!page.contains("<td>amy"));
    let r = ann
        .post(
            &format!("/member/users/{}/privilege", w.amy_link),
            &[("privilege", "custadmin")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "alpha's link from bravo");
    let r = ann
        .post(
            &format!("/member/users/{}/privilege", w.bea_link),
            &[("privilege", "custadmin")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Switching to a customer one is not linked to is refused.
    let r = ann.post("/switch", &[("customer_id", "999999")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let _ = PW;
}
