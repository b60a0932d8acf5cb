//! `ixp-portal demo`: each sample identity ends as its note on the
//! simulator's pick page promises (the demo's seed, the demo's profiles,
//! the real login flow).
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, location, spawn_with};
use ixp_portal::db::{affiliations, customers, users};
use ixp_portal::demo_identities::{BLOCKED_PDB_ID, CUSTADMIN_PDB_ID};
use ixp_portal::domain::{Asn, Privilege};
use std::collections::BTreeSet;

both_backends!(each_sample_identity_ends_as_its_note_says);

/// The shortnames the user of `pdb` is linked to (`None`: no such user).
fn links(app: &TestApp, pdb: i64) -> Option<BTreeSet<String>> {
    app.with_conn(|c| {
        let u = users::by_peeringdb_id(c, pdb).expect("query")?;
        let links = affiliations::of_user(c, u.id).expect("links");
        Some(links.into_iter().map(|(_, cu)| cu.shortname).collect())
    })
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Signs in as the sample identity `index`; the page that follows, and
/// signed out again.
async fn login_as(app: &TestApp, index: usize) -> (bool, String) {
    let r = app.peeringdb_login(index).await;
    let signed_in = location(&r) == "/";
    let page = app.page_after(r).await;
    if signed_in {
        app.post("/logout", &[]).await;
    }
    (signed_in, page)
}

async fn each_sample_identity_ends_as_its_note_says(b: Backend) {
    let profiles = ixp_portal::demo::sample_profiles();
    let opts = Opts {
        profiles: profiles.clone(),
        ..Opts::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    app.with_conn(|c| {
        ixp_portal::demo::seed(c).expect("sample customers");
        ixp_portal::demo_identities::seed(c).expect("sample accounts");
    });
    let index = |id: i64| {
        profiles
            .iter()
            .position(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("profile {id}"))
    };
    let shared: Vec<String> = app.with_conn(|c| {
        customers::by_asn(c, Asn::new(64507).expect("asn"))
            .expect("query")
            .into_iter()
            .map(|c| c.shortname)
            .collect()
    });
    assert_eq!(shared.len(), 2, "two customers share AS64507");

    // Jane: Example Networks and both customers of AS64507.
    let (ok, _) = login_as(&app, index(101)).await;
    assert!(ok, "Jane signs in");
    let mut want = set(&["examplenet"]);
    want.extend(shared);
    assert_eq!(links(&app, 101), Some(want));

    // Carla: custadmin of Example Networks, her stored email kept.
    let (ok, _) = login_as(&app, index(CUSTADMIN_PDB_ID)).await;
    assert!(ok, "Carla signs in");
    assert_eq!(links(&app, CUSTADMIN_PDB_ID), Some(set(&["examplenet"])));
    let (email, privilege) = app.with_conn(|c| {
        let u = users::by_peeringdb_id(c, CUSTADMIN_PDB_ID)
            .expect("query")
            .expect("Carla");
        let links = affiliations::of_user(c, u.id).expect("links");
        (u.email, links[0].0.privilege)
    });
    assert_eq!(email, "carla@example.net");
    assert_eq!(privilege, Privilege::CustAdmin);

    // Oscar: the opted-out network is named, the pro-bono one linked.
    let (ok, page) = login_as(&app, index(102)).await;
    assert!(ok, "Oscar signs in");
    assert_eq!(links(&app, 102), Some(set(&["commwifi"])));
    assert!(page.contains("opted out"), "{page}");

    // Bob: the block stands, and he is told who removed the link.
    let (ok, page) = login_as(&app, index(BLOCKED_PDB_ID)).await;
    assert!(ok, "Bob signs in");
    assert_eq!(links(&app, BLOCKED_PDB_ID), Some(set(&["commwifi"])));
    assert!(page.contains("removed by the exchange"), "{page}");

    // Nina, Sam and Vic are refused, and no account is made for them.
    for (id, says) in [
        (103, "suspended"),
        (104, "no member of this IXP"),
        (105, "not been verified"),
    ] {
        let (ok, page) = login_as(&app, index(id)).await;
        assert!(!ok, "profile {id} is refused");
        assert!(page.contains(says), "profile {id}: {page}");
        assert_eq!(links(&app, id), None, "no user for profile {id}");
    }
}
