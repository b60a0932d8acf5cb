//! `peeringdb::apply` on a real database, for random customers and
//! profiles (SPEC §2): the rows it leaves (exactly the eligible customers
//! of the profile's ASNs, PeeringDB-made), one audit entry per skipped
//! candidate, and the cascade when a user is left with no link (the user
//! and their login records go).
use crate::both_backends;
use crate::common::{Backend, spawn};
use diesel::prelude::*;
use ixp_portal::db::schema::audit_log;
use ixp_portal::db::{DbConnection, affiliations, logins, users};
use ixp_portal::domain::{CreatedBy, CustomerStatus, CustomerType, Privilege};
use ixp_portal::peeringdb::Policy;
use ixp_portal::peeringdb::apply::process_login;
use ixp_portal::peeringdb::profile::Profile;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};

both_backends!(apply_leaves_the_rows_the_rules_say);

/// A customer of the case: which of the case's ASNs, and its state.
#[derive(Debug, Clone)]
struct Cust {
    slot: usize,
    cust_type: CustomerType,
    status: CustomerStatus,
    left: bool,
    oauth: bool,
}

impl Cust {
    fn eligible(&self) -> bool {
        matches!(self.cust_type, CustomerType::Full | CustomerType::ProBono)
            && self.status == CustomerStatus::Normal
            && !self.left
            && self.oauth
    }
}

fn cust() -> impl Strategy<Value = Cust> {
    (
        0..4usize,
        prop_oneof![
            Just(CustomerType::Full),
            Just(CustomerType::Associate),
            Just(CustomerType::Internal),
            Just(CustomerType::ProBono)
        ],
        prop_oneof![
            Just(CustomerStatus::Normal),
            Just(CustomerStatus::NotConnected),
            Just(CustomerStatus::Suspended)
        ],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(slot, cust_type, status, left, oauth)| Cust {
            slot,
            cust_type,
            status,
            left,
            oauth,
        })
}

fn skips(c: &mut DbConnection) -> i64 {
    audit_log::table
        .filter(audit_log::action.eq("peeringdb.skip"))
        .count()
        .get_result(c)
        .expect("count")
}

fn policy() -> Policy {
    Policy {
        privilege: Privilege::CustUser,
        require_mfa: false,
        today: ixp_portal::db::models::today(),
        now: ixp_portal::db::models::now(),
        max_link_age: 30 * 86_400,
    }
}

/// One login of PeeringDB user `pdb` with these ASN slots; checks the
/// rows and the audit entries it leaves. Returns the user's id, if any.
fn login_and_check(
    c: &mut DbConnection,
    pdb: i64,
    asns: &[i64],
    custs: &[(i64, Cust)],
    slots: &[bool],
) -> Option<i64> {
    let networks: Vec<serde_json::Value> = slots
        .iter()
        .enumerate()
        .filter(|(_, on)| **on)
        .map(|(i, _)| serde_json::json!({"id": i + 1, "asn": asns[i], "name": "n", "perms": 15}))
        .collect();
    let profile = Profile::from_value(&serde_json::json!({
        "id": pdb, "name": format!("user {pdb}"), "email": "u@example.net",
        "verified_user": true, "verified_email": true, "networks": networks,
    }))
    .expect("a profile");
    let before = users::by_peeringdb_id(c, pdb).expect("query");
    let linked_before: BTreeSet<i64> = match &before {
        Some(u) => affiliations::of_user(c, u.id)
            .expect("links")
            .into_iter()
            .map(|(a, _)| a.customer_id)
            .collect(),
        None => BTreeSet::new(),
    };
    let skips_before = skips(c);
    process_login(c, &profile, &policy(), "192.0.2.1", None).expect("applied");
    let on = |cu: &Cust| slots[cu.slot];
    let want: BTreeSet<i64> = custs
        .iter()
        .filter(|(_, cu)| on(cu) && cu.eligible())
        .map(|(id, _)| *id)
        .collect();
    // Candidates not yet linked and not eligible: one skip entry each.
    let skipped = custs
        .iter()
        .filter(|(id, cu)| on(cu) && !cu.eligible() && !linked_before.contains(id))
        .count() as i64;
    assert_eq!(
        skips(c) - skips_before,
        skipped,
        "a skip entry per candidate"
    );
    let after = users::by_peeringdb_id(c, pdb).expect("query");
    match after {
        None => {
            assert!(want.is_empty(), "a user with eligible customers exists");
            if let Some(u) = before {
                // The cascade: the user's login records went with it.
                let records = logins::of_user(c, u.id, 100).expect("records");
                assert!(records.is_empty(), "login records deleted");
                assert!(users::find(c, u.id).expect("query").is_none());
            }
            None
        }
        Some(u) => {
            let links = affiliations::of_user(c, u.id).expect("links");
            let got: BTreeSet<i64> = links.iter().map(|(a, _)| a.customer_id).collect();
            assert_eq!(got, want, "linked to exactly the eligible customers");
            assert!(
                links
                    .iter()
                    .all(|(a, _)| a.created_by == CreatedBy::PeeringDb
                        && a.privilege == Privilege::CustUser)
            );
            Some(u.id)
        }
    }
}

async fn apply_leaves_the_rows_the_rules_say(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let case = AtomicI64::new(0);
    let strategy = (
        proptest::collection::vec(cust(), 1..6),
        proptest::collection::vec(any::<bool>(), 4),
        proptest::collection::vec(any::<bool>(), 4),
    );
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(custs, first, second)| {
        let k = case.fetch_add(1, Ordering::SeqCst);
        let mut c = app.conn();
        // Fresh ASNs and a fresh PeeringDB id for every case.
        let asns: Vec<i64> = (0..4).map(|s| 100_000 + k * 10 + s).collect();
        let custs: Vec<(i64, Cust)> = custs
            .into_iter()
            .enumerate()
            .map(|(i, cu)| {
                let mut f = crate::staff::fields(
                    &format!("Case {k} customer {i}"),
                    &format!("case{k}c{i}"),
                    asns[cu.slot],
                );
                f.cust_type = cu.cust_type;
                f.status = cu.status;
                f.date_left = cu
                    .left
                    .then(|| chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"));
                f.peeringdb_oauth = cu.oauth;
                let id = ixp_portal::admin::create_customer(&mut c, "test", &f).expect("customer");
                (id, cu)
            })
            .collect();
        let pdb = 1_000 + k;
        if login_and_check(&mut c, pdb, &asns, &custs, &first).is_some() {
            // The next login with other networks: links follow, and a user
            // left with none is deleted with their login records.
            login_and_check(&mut c, pdb, &asns, &custs, &second);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
