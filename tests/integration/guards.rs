//! Every route of the portal behind its guard (SPEC §3): each POST outside
//! the API refuses a form without the session's CSRF token, and each scope
//! refuses the roles it does not admit. The routes are read from the table
//! the server is built from (`routes::table`), so a new route is covered
//! here without a new line.
use crate::both_backends;
use crate::common::{Backend, TestApp, location, spawn};
use crate::staff::{Browser, World, world};
use actix_web::http::Method;
use diesel::prelude::*;
use ixp_portal::db::schema::audit_log;
use ixp_portal::web::guard::Scope;
use ixp_portal::web::routes::{RouteDef, table};
use reqwest::{Response, StatusCode};

both_backends!(
    every_form_needs_the_csrf_token,
    every_scope_refuses_the_wrong_role
);

fn audit_count(app: &TestApp) -> i64 {
    app.with_conn(|c| audit_log::table.count().get_result(c).expect("count"))
}

/// The objects of the first customer (alpha) that a path's ids name, so
/// that the custadmin of the other customer (bravo) probes alpha's data.
struct Ids {
    alpha_link: i64,
    alpha_key: i64,
}

fn ids(app: &TestApp, w: &World) -> Ids {
    let alpha = w.alpha.clone();
    let (alpha_key, _) = app.with_conn(|c| {
        ixp_portal::admin::api_keys::create(c, "test", Some(&alpha), "alpha's key").expect("key")
    });
    Ids {
        alpha_link: w.amy_link,
        alpha_key,
    }
}

/// The path with each `{param}` replaced: ids of alpha's objects where
/// the route names one, else 1. `None` for a route whose path names no
/// object of a customer (nothing for another customer's admin to probe).
fn fill(path: &str, ids: &Ids) -> (String, bool) {
    let mut out = String::new();
    let mut names_alpha = false;
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map(|c| open + c).expect("closed");
        let value = match &rest[open + 1..close] {
            "aid" => {
                names_alpha = true;
                ids.alpha_link.to_string()
            }
            "id" if path.starts_with("/member/api-keys/") => {
                names_alpha = true;
                ids.alpha_key.to_string()
            }
            _ => "1".to_string(),
        };
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (out, names_alpha)
}

async fn send(b: &Browser, r: &RouteDef, path: &str, form: &[(&str, &str)]) -> Response {
    if r.method == Method::GET {
        b.get_resp(path).await
    } else if r.method == Method::POST {
        b.post_raw(path, form).await
    } else {
        b.client
            .request(
                reqwest::Method::from_bytes(r.method.as_str().as_bytes()).expect("method"),
                b.url(path),
            )
            .send()
            .await
            .expect("request")
    }
}

/// A valid form with `b`'s CSRF token (the role, or the scope of the
/// ids, is what must refuse).
async fn send_with_token(b: &Browser, r: &RouteDef, path: &str) -> Response {
    let token = b.csrf().await;
    let form = [
        ("csrf", token.as_str()),
        ("privilege", "custadmin"),
        ("name", "probe"),
        ("email", "probe@example.net"),
    ];
    send(b, r, path, &form).await
}

fn sends_to_login(r: &Response) -> bool {
    r.status() == StatusCode::SEE_OTHER && location(r).starts_with("/login?next=")
}

/// Who a scope admits, as a browser of the world (the one that must get
/// past the role check, so that the CSRF check is what refuses).
async fn admitted(app: &TestApp, scope: Scope) -> Browser {
    match scope {
        Scope::SignedIn => Browser::signed_in(app, "ann").await,
        Scope::CustAdmin => Browser::signed_in(app, "adam").await,
        Scope::Staff => Browser::signed_in(app, "staff").await,
        _ => Browser::anonymous(app),
    }
}

async fn every_form_needs_the_csrf_token(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    let ids = ids(&app, &w);
    let routes: Vec<RouteDef> = table()
        .into_iter()
        .filter(|r| r.method != Method::GET && !r.scope.is_api())
        .collect();
    assert!(routes.len() > 30, "the table lists the forms");
    let mut browsers = Vec::new();
    for scope in [
        Scope::Public,
        Scope::SignedIn,
        Scope::CustAdmin,
        Scope::Staff,
    ] {
        browsers.push((scope, admitted(&app, scope).await));
    }
    let before = audit_count(&app);
    for (scope, browser) in browsers {
        let token = browser.csrf().await;
        for r in routes.iter().filter(|r| r.scope == scope) {
            let (path, _) = fill(r.path, &ids);
            let missing = send(&browser, r, &path, &[("name", "x")]).await;
            assert_eq!(
                missing.status(),
                StatusCode::FORBIDDEN,
                "{r:?} without a CSRF token"
            );
            let wrong = send(&browser, r, &path, &[("csrf", "not-the-token")]).await;
            assert_eq!(
                wrong.status(),
                StatusCode::FORBIDDEN,
                "{r:?} with a wrong CSRF token"
            );
            let cross = browser
                .client
                .post(browser.url(&path))
                .header("Origin", "https://evil.example")
                .form(&[("csrf", token.as_str())])
                .send()
                .await
                .expect("POST");
            assert_eq!(
                cross.status(),
                StatusCode::FORBIDDEN,
                "{r:?} from another site"
            );
        }
        // The refused forms changed nothing; the session still works.
        if scope != Scope::Public {
            assert_eq!(browser.get_resp("/profile").await.status(), StatusCode::OK);
        }
    }
    assert_eq!(audit_count(&app), before, "refused forms change nothing");
}

async fn every_scope_refuses_the_wrong_role(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    let ids = ids(&app, &w);
    let anonymous = Browser::anonymous(&app);
    let custuser = Browser::signed_in(&app, "ann").await;
    let custadmin = Browser::signed_in(&app, "adam").await;
    let other_admin = Browser::signed_in(&app, "bob").await;
    let staff = Browser::signed_in(&app, "staff").await;
    let before = audit_count(&app);
    let mut probed_other_customer = 0;
    for r in table() {
        let (path, names_alpha) = fill(r.path, &ids);
        match r.scope {
            Scope::Public | Scope::ApiOpen => continue,
            Scope::ApiKey => {
                // The API authenticates by key, never by the session.
                for b in [&anonymous, &staff] {
                    let resp = send(b, &r, &path, &[]).await;
                    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{r:?}");
                }
                continue;
            }
            Scope::SignedIn | Scope::CustAdmin | Scope::Staff => {}
        }
        let resp = send_with_token(&anonymous, &r, &path).await;
        assert!(sends_to_login(&resp), "{r:?} anonymous: {}", resp.status());
        let refused: Vec<&Browser> = match r.scope {
            Scope::Staff => vec![&custuser, &custadmin],
            // Staff with no customer of their own is no member's admin.
            Scope::CustAdmin => vec![&custuser, &staff],
            _ => vec![],
        };
        for b in refused {
            let resp = send_with_token(b, &r, &path).await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{r:?}");
        }
        if r.scope == Scope::CustAdmin && names_alpha {
            // The other customer's admin passes the role check but never
            // reaches the first customer's objects by changing an id.
            let resp = send_with_token(&other_admin, &r, &path).await;
            assert!(
                matches!(resp.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                "{r:?} by another customer's admin: {}",
                resp.status()
            );
            probed_other_customer += 1;
        }
    }
    assert!(probed_other_customer >= 4, "the member routes with ids");
    assert_eq!(audit_count(&app), before, "refused requests change nothing");
    // Everyone is still signed in (nothing above signed anyone out).
    for b in [&custuser, &custadmin, &other_admin, &staff] {
        assert_eq!(b.get_resp("/profile").await.status(), StatusCode::OK);
    }
}

/// The table itself: one scope per path, and the areas in their scope, so
/// that a staff page added as public is caught here.
#[test]
fn the_table_puts_each_area_in_its_scope() {
    let routes = table();
    let mut seen = std::collections::HashMap::new();
    for r in &routes {
        assert!(
            seen.insert((r.method.clone(), r.path), r.scope).is_none(),
            "{r:?} twice"
        );
        if let Some(other) = routes.iter().find(|o| o.path == r.path) {
            assert_eq!(other.scope, r.scope, "{r:?}: one scope per path");
        }
        let want = if r.path.starts_with("/staff") {
            Some(Scope::Staff)
        } else if r.path.starts_with("/member/users")
            || r.path.starts_with("/member/invitations")
            || r.path.starts_with("/member/api-keys")
        {
            Some(Scope::CustAdmin)
        } else if r.path.starts_with("/profile") || r.path.starts_with("/member/") {
            Some(Scope::SignedIn)
        } else if r.path.starts_with("/api/") {
            assert!(r.scope.is_api(), "{r:?}");
            None
        } else {
            None
        };
        if let Some(want) = want {
            assert_eq!(r.scope, want, "{r:?}");
        }
        if r.method != Method::GET {
            assert!(
                r.scope.is_api() || r.method == Method::POST,
                "{r:?}: web forms are POSTs"
            );
        }
    }
}
