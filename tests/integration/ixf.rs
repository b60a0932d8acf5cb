//! Issue 6, part 2: the IX-F member export, validated against the IX-F 1.0
//! JSON schema (draft-04), bundled in tests/fixtures/ (see the README there
//! for its source).
use crate::both_backends;
use crate::common::{Backend, TestApp, spawn};
use crate::peering_lan::{RS_ASN, peering_world};
use crate::staff::{Browser, PW, add_customer, link};
use ixp_portal::admin;
use ixp_portal::domain::{CustomerStatus, CustomerType, Privilege};
use reqwest::StatusCode;
use serde_json::Value;

both_backends!(
    export_validates_and_lists_active_members_only,
    emails_only_for_staff,
    export_needs_the_ixp_record,
);

/// The IX-F Member Export 1.0 schema, in the repository.
const SCHEMA: &str = include_str!("../fixtures/ixp-member-list-1.0.schema.json");

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("the schema is JSON")
}

/// Validation errors of a document against the IX-F 1.0 schema, formats
/// (date-time, email, ipv4, ipv6) included.
pub fn ixf_errors(doc: &Value) -> Vec<String> {
    let schema = schema();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the IX-F schema compiles as draft-04");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn set_kind(
    app: &TestApp,
    shortname: &str,
    f: impl Fn(&mut ixp_portal::db::models::CustomerFields),
) {
    app.with_conn(|c| {
        let cu = ixp_portal::db::customers::by_shortname(c, shortname)
            .unwrap()
            .unwrap();
        let mut fields = crate::staff::fields(&cu.name, &cu.shortname, cu.autsys.as_i64());
        f(&mut fields);
        admin::update_customer(c, "test", cu.id, &fields).unwrap();
    });
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = client.get(url).send().await.unwrap();
    let s = r.status();
    let h = r.headers().clone();
    (s, h, r.json().await.unwrap_or(Value::Null))
}

async fn export_validates_and_lists_active_members_only(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme", "acme", 64500);
    let beta = add_customer(&app, "Beta", "beta", 64501);
    let assoc = add_customer(&app, "Associate", "assoc", 64502);
    let gone = add_customer(&app, "Gone", "gone", 64503);
    let susp = add_customer(&app, "Suspended", "susp", 64504);
    peering_world(&app, &[&acme, &beta, &assoc, &gone, &susp]);
    set_kind(&app, "assoc", |f| f.cust_type = CustomerType::Associate);
    set_kind(&app, "gone", |f| {
        f.date_left = Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap())
    });
    set_kind(&app, "susp", |f| f.status = CustomerStatus::Suspended);
    set_kind(&app, "acme", |f| {
        f.date_joined = Some(chrono::NaiveDate::from_ymd_opt(2019, 5, 1).unwrap())
    });

    for path in ["/participants.json", "/api/v1/member-export/ixf/1.0"] {
        let (s, h, doc) = get_json(&crate::common::client(), &app.url(path)).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert_eq!(
            h.get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("*")
        );
        assert!(
            h.get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .starts_with("application/json")
        );
        let errors = ixf_errors(&doc);
        assert!(errors.is_empty(), "{path} validates: {errors:#?}\n{doc:#}");
        let asns: Vec<i64> = doc["member_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["asnum"].as_i64().unwrap())
            .collect();
        assert_eq!(asns, vec![64500, 64501], "active members only");
        let ixp = &doc["ixp_list"][0];
        assert_eq!(ixp["ixf_id"], 999);
        assert_eq!(ixp["peeringdb_id"], 4242);
        assert_eq!(ixp["country"], "NL");
        assert_eq!(ixp["vlan"][0]["id"], 100);
        assert_eq!(ixp["vlan"][0]["ipv4"]["prefix"], "192.0.2.0");
        assert_eq!(ixp["vlan"][0]["ipv4"]["mask_length"], 24);
        assert_eq!(ixp["vlan"][0]["ipv6"]["prefix"], "2001:db8:100::");
        let acme = &doc["member_list"][0];
        assert_eq!(acme["member_since"], "2019-05-01T00:00:00Z");
        let conn = &acme["connection_list"][0];
        assert_eq!(conn["ixp_id"], ixp["ixp_id"]);
        assert_eq!(conn["if_list"][0]["if_speed"], 10000);
        let vlan = &conn["vlan_list"][0];
        assert_eq!(vlan["vlan_id"], 100);
        assert_eq!(vlan["ipv4"]["address"], "192.0.2.10");
        assert_eq!(vlan["ipv4"]["routeserver"], true);
        assert_eq!(vlan["ipv4"]["max_prefix"], 100);
        assert_eq!(vlan["ipv4"]["as_macro"], "AS-ACME");
        assert_eq!(vlan["ipv4"]["mac_addresses"][0], "02:00:00:00:00:01");
        assert_eq!(vlan["ipv6"]["address"], "2001:db8:100::10");
        assert_eq!(vlan["ipv6"]["max_prefix"], 50);
        assert!(
            acme.get("contact_email").is_none(),
            "no emails for anonymous callers"
        );
        // The route servers are not members.
        assert!(!asns.contains(&RS_ASN));
    }

    // The validator is real: a broken document fails.
    let (_, _, mut doc) = get_json(&crate::common::client(), &app.url("/participants.json")).await;
    doc["member_list"][0]["asnum"] = Value::from("AS64500");
    doc["member_list"][0]["connection_list"][0]["vlan_list"][0]["ipv4"]["address"] =
        Value::from("not-an-ip");
    doc["timestamp"] = Value::from("yesterday");
    assert!(ixf_errors(&doc).len() >= 3, "{:#?}", ixf_errors(&doc));
}

async fn emails_only_for_staff(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme", "acme", 64500);
    peering_world(&app, &[&acme]);
    let uid = app.create_user("alice", PW, false);
    link(&app, uid, &acme, Privilege::CustAdmin);
    app.create_user("staff", PW, true);

    // A member (not staff) sees no emails.
    let alice = Browser::signed_in(&app, "alice").await;
    let (_, _, doc) = get_json(&alice.client, &app.url("/participants.json")).await;
    assert!(doc["member_list"][0].get("contact_email").is_none());

    let staff = Browser::signed_in(&app, "staff").await;
    let (s, h, doc) = get_json(&staff.client, &app.url("/participants.json")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        doc["member_list"][0]["contact_email"][0],
        "alice@example.net"
    );
    assert_eq!(
        h.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("private, no-store")
    );
    let errors = ixf_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
}

async fn export_needs_the_ixp_record(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (s, h, doc) = get_json(&crate::common::client(), &app.url("/participants.json")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        h.get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
    assert!(
        doc["errors"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("ixp set --ixf-id")
    );
}
