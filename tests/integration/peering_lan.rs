//! Issue 6, part 1: the peering LAN data (IXP record, LANs, route servers,
//! connections) through the staff pages and the CLI, on both backends.
use crate::both_backends;
use crate::common::{Backend, TestApp, fresh_postgres, location, spawn};
use crate::staff::{Browser, PW, add_customer, audit_of, link};
use ixp_portal::admin::peering::{self, ConnectionInput, IxpInput, LanInput, RouteServerInput};
use ixp_portal::db::models::Customer;
use ixp_portal::db::{connections, lans};
use ixp_portal::domain::Privilege;
use reqwest::StatusCode;
use std::process::Command;

both_backends!(
    staff_pages_validate_and_audit,
    addresses_unique_per_lan_and_inside_the_prefix,
    members_cannot_reach_staff_peering_pages,
    cli_sets_up_the_peering_lan,
    members_see_their_own_connections,
);

/// A small IXP: the record, one LAN (VLAN 100, 192.0.2.0/24 and
/// 2001:db8:100::/64), route servers rs1 (AS64999, .1/::1) and rs2 (.2/::2),
/// and the given customers connected at .10+i / ::10+i (hex), RS clients.
#[allow(dead_code)]
pub struct PeeringWorld {
    pub lan_id: i64,
    pub rs1: i64,
    pub rs2: i64,
    pub connections: Vec<i64>,
}

pub const RS_ASN: i64 = 64999;

pub fn peering_world(app: &TestApp, customers: &[&Customer]) -> PeeringWorld {
    app.with_conn(|c| {
        peering::set_ixp(
            c,
            "test",
            &IxpInput {
                name: "Example Internet Exchange".into(),
                shortname: "EX-IX".into(),
                ixf_id: "999".into(),
                peeringdb_ix_id: "4242".into(),
                country: "nl".into(),
                support_email: "support@ix.example".into(),
            },
        )
        .unwrap();
        let lan_id = peering::save_lan(
            c,
            "test",
            None,
            &LanInput {
                name: "Main LAN".into(),
                vlan_id: "100".into(),
                ipv4_prefix: "192.0.2.0/24".into(),
                ipv6_prefix: "2001:db8:100::/64".into(),
            },
        )
        .unwrap();
        let rs = |c: &mut _, name: &str, n: u8| {
            peering::save_route_server(
                c,
                "test",
                None,
                &RouteServerInput {
                    lan_id: lan_id.to_string(),
                    name: name.into(),
                    asn: RS_ASN.to_string(),
                    ipv4_address: format!("192.0.2.{n}"),
                    ipv6_address: format!("2001:db8:100::{n}"),
                },
            )
            .unwrap()
        };
        let rs1 = rs(c, "rs1", 1);
        let rs2 = rs(c, "rs2", 2);
        let connections = customers
            .iter()
            .enumerate()
            .map(|(i, cu)| {
                peering::save_connection(
                    c,
                    "test",
                    None,
                    &ConnectionInput {
                        customer_id: cu.id.to_string(),
                        lan_id: lan_id.to_string(),
                        ipv4_address: format!("192.0.2.{}", 10 + i),
                        ipv6_address: format!("2001:db8:100::{:x}", 16 + i),
                        mac_addresses: format!("02:00:00:00:00:{:02x}", i + 1),
                        speed_mbps: "10000".into(),
                        max_prefixes_v4: "100".into(),
                        max_prefixes_v6: "50".into(),
                        as_set: format!("AS-{}", cu.shortname.to_uppercase()),
                        rs_client: Some("on".into()),
                    },
                )
                .unwrap()
            })
            .collect();
        PeeringWorld {
            lan_id,
            rs1,
            rs2,
            connections,
        }
    })
}

async fn staff(app: &TestApp) -> Browser {
    app.create_user("staff", PW, true);
    Browser::signed_in(app, "staff").await
}

async fn staff_pages_validate_and_audit(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let staff = staff(&app).await;
    let acme = add_customer(&app, "Acme Networks", "acme", 64500);

    // The IXP record: invalid, then valid.
    let r = staff
        .post(
            "/staff/peering/ixp",
            &[
                ("name", "Example IX"),
                ("shortname", "EX"),
                ("ixf_id", "abc"),
                ("peeringdb_ix_id", ""),
                ("country", "Netherlands"),
                ("support_email", "support@ix.example"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("field-error"), "{page}");
    let r = staff
        .post(
            "/staff/peering/ixp",
            &[
                ("name", "Example IX"),
                ("shortname", "EX"),
                ("ixf_id", "12"),
                ("peeringdb_ix_id", "34"),
                ("country", "nl"),
                ("support_email", "support@ix.example"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ixp = app.with_conn(|c| lans::ixp(c).unwrap().unwrap());
    assert_eq!(
        (ixp.country.as_str(), ixp.ixf_id, ixp.peeringdb_ix_id),
        ("NL", Some(12), Some(34))
    );

    // A LAN: a prefix with host bits set is refused next to its field.
    let r = staff
        .post(
            "/staff/peering/lans/new",
            &[
                ("name", "Main"),
                ("vlan_id", "100"),
                ("ipv4_prefix", "192.0.2.1/24"),
                ("ipv6_prefix", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("host bits set"), "{page}");
    assert!(page.contains(r#"value="192.0.2.1/24""#), "typed value kept");
    let r = staff
        .post(
            "/staff/peering/lans/new",
            &[
                ("name", "Main"),
                ("vlan_id", "100"),
                ("ipv4_prefix", "192.0.2.0/24"),
                ("ipv6_prefix", "2001:DB8::/64"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let lan = app.with_conn(|c| lans::lan_by_name(c, "Main").unwrap().unwrap());
    assert_eq!(
        lan.ipv6_prefix.as_deref(),
        Some("2001:db8::/64"),
        "stored canonical"
    );
    let lan_id = lan.id.to_string();
    // The same VLAN again: refused.
    let r = staff
        .post(
            "/staff/peering/lans/new",
            &[
                ("name", "Other"),
                ("vlan_id", "100"),
                ("ipv4_prefix", "198.51.100.0/24"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A route server outside the prefix, then inside.
    let rs = |v4: &'static str| {
        vec![
            ("name", "rs1"),
            ("asn", "64999"),
            ("lan_id", lan_id.as_str()),
            ("ipv4_address", v4),
            ("ipv6_address", "2001:db8::1"),
        ]
    };
    let r = staff
        .post("/staff/peering/routeservers/new", &rs("198.51.100.1"))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("is not inside the LAN prefix 192.0.2.0/24")
    );
    let r = staff
        .post("/staff/peering/routeservers/new", &rs("192.0.2.1"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A connection: bad MAC, then good.
    let cid = acme.id.to_string();
    let conn = |mac: &'static str| {
        vec![
            ("customer_id", cid.as_str()),
            ("lan_id", lan_id.as_str()),
            ("ipv4_address", "192.0.2.10"),
            ("ipv6_address", "2001:db8::10"),
            ("mac_addresses", mac),
            ("speed_mbps", "10000"),
            ("max_prefixes_v4", "100"),
            ("max_prefixes_v6", ""),
            ("as_set", "AS-ACME"),
            ("rs_client", "on"),
        ]
    };
    let r = staff
        .post("/staff/peering/connections/new", &conn("00:11:22:33:44"))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("is not a MAC address"));
    let r = staff
        .post("/staff/peering/connections/new", &conn("00-11-22-33-44-AA"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let all = app.with_conn(|c| connections::all(c).unwrap());
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].mac_addresses, "00:11:22:33:44:aa");
    assert!(all[0].rs_client);

    // Narrowing the LAN's prefix so that used addresses fall out: refused.
    let r = staff
        .post(
            &format!("/staff/peering/lans/{lan_id}"),
            &[
                ("name", "Main"),
                ("vlan_id", "100"),
                ("ipv4_prefix", "192.0.2.128/25"),
                ("ipv6_prefix", "2001:db8::/64"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("which the new prefix would not contain")
    );
    // Deleting a LAN in use: refused with a notice.
    let r = staff
        .post(&format!("/staff/peering/lans/{lan_id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.with_conn(|c| lans::lan(c, lan.id).unwrap()).is_some());

    // The overview lists everything.
    let (s, page) = staff.get("/staff/peering").await;
    assert_eq!(s, StatusCode::OK);
    for needle in [
        "Main",
        "192.0.2.0/24",
        "rs1",
        "AS64999",
        "Acme Networks",
        "00:11:22:33:44:aa",
        "AS-ACME",
    ] {
        assert!(page.contains(needle), "{needle} on the overview");
    }
    // The customer's page shows its connection, and offers to add another
    // with the customer chosen.
    let (_, page) = staff.get(&format!("/staff/customers/{}", acme.id)).await;
    assert!(
        page.contains("192.0.2.10") && page.contains("(1 connection, 0 sessions)"),
        "{page}"
    );
    let (_, page) = staff
        .get(&format!(
            "/staff/peering/connections/new?customer={}",
            acme.id
        ))
        .await;
    assert!(
        page.contains(&format!("<option value=\"{}\" selected>", acme.id)),
        "{page}"
    );
    // The edit form of the connection shows the stored values; unchecking
    // the RS client box saves false.
    let id = all[0].id;
    let (s, page) = staff.get(&format!("/staff/peering/connections/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(r#"value="192.0.2.10""#));
    let mut off = conn("00:11:22:33:44:aa");
    off.retain(|(k, _)| *k != "rs_client");
    let r = staff
        .post(&format!("/staff/peering/connections/{id}"), &off)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!app.with_conn(|c| connections::find(c, id).unwrap().unwrap().rs_client));

    for action in [
        "ixp.update",
        "lan.create",
        "routeserver.create",
        "connection.create",
        "connection.update",
    ] {
        let entries = audit_of(&app, action);
        assert!(!entries.is_empty(), "{action} audited");
        assert!(
            entries.iter().all(|e| e.actor == "staff"),
            "{action} by staff"
        );
    }
    // Deleting the connection is audited too.
    let r = staff
        .post(&format!("/staff/peering/connections/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_of(&app, "connection.delete").len(), 1);
}

async fn addresses_unique_per_lan_and_inside_the_prefix(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme", "acme", 64500);
    let beta = add_customer(&app, "Beta", "beta", 64501);
    let w = peering_world(&app, &[&acme]);
    let input = |v4: &str, v6: &str| ConnectionInput {
        customer_id: beta.id.to_string(),
        lan_id: w.lan_id.to_string(),
        ipv4_address: v4.into(),
        ipv6_address: v6.into(),
        mac_addresses: "".into(),
        speed_mbps: "1000".into(),
        rs_client: None,
        ..Default::default()
    };
    let err = |v4: &str, v6: &str| {
        app.with_conn(|c| peering::save_connection(c, "test", None, &input(v4, v6)))
            .expect_err("refused")
            .to_string()
    };
    // Acme's address, a route server's address, outside, wrong family, reserved.
    assert!(
        err("192.0.2.10", "").contains("used already"),
        "taken by a connection"
    );
    assert!(
        err("192.0.2.1", "").contains("route server rs1"),
        "taken by a route server"
    );
    assert!(err("", "2001:db8:100::1").contains("route server rs1"));
    assert!(err("198.51.100.7", "").contains("not inside"));
    assert!(err("2001:db8:100::99", "").contains("not an IPv4 address"));
    assert!(err("192.0.2.255", "").contains("broadcast"));
    assert!(err("", "").contains("needs an IPv4 or an IPv6 address"));
    // Written differently, the same IPv6 address is still the same.
    assert!(err("", "2001:0db8:0100:0000::0010").contains("used already"));
    // A free address works; editing a connection keeps its own address.
    let id = app
        .with_conn(|c| peering::save_connection(c, "test", None, &input("192.0.2.77", "")))
        .unwrap();
    app.with_conn(|c| {
        peering::save_connection(
            c,
            "test",
            Some(id),
            &input("192.0.2.77", "2001:db8:100::77"),
        )
    })
    .unwrap();
}

async fn members_cannot_reach_staff_peering_pages(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("member", PW, false);
    let m = Browser::signed_in(&app, "member").await;
    for path in [
        "/staff/peering",
        "/staff/peering/lans/new",
        "/staff/peering/connections/new",
    ] {
        let (s, _) = m.get(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let r = m
        .post(
            "/staff/peering/lans/new",
            &[
                ("name", "X"),
                ("vlan_id", "5"),
                ("ipv4_prefix", "10.0.0.0/24"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Anonymous: to the login page.
    let anon = Browser::anonymous(&app);
    let r = anon.get_resp("/staff/peering").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    // Staff without the CSRF token: refused.
    app.create_user("staff", PW, true);
    let s = Browser::signed_in(&app, "staff").await;
    let r = s
        .post_raw(
            "/staff/peering/lans/new",
            &[
                ("name", "X"),
                ("vlan_id", "5"),
                ("ipv4_prefix", "10.0.0.0/24"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.with_conn(|c| lans::lans(c).unwrap()).is_empty());
}

async fn cli_sets_up_the_peering_lan(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let pg = match b {
        Backend::Postgres => match fresh_postgres() {
            Some(p) => Some(p),
            None => return,
        },
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(p) => p.url.clone(),
        None => format!("sqlite:{}", dir.path().join("cli.sqlite").display()),
    };
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ixp-portal"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("DATABASE_URL", &url)
            .env("PORTAL_DATA_DIR", dir.path())
            .output()
            .expect("the binary runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let ok = |args: &[&str]| {
        let (s, o, e) = run(args);
        assert!(s, "{args:?}: {e}");
        o
    };
    ok(&[
        "customer",
        "create",
        "--name",
        "Acme",
        "--shortname",
        "acme",
        "--asn",
        "64500",
        "--type",
        "full",
        "--status",
        "normal",
    ]);
    ok(&[
        "ixp",
        "set",
        "--name",
        "Example IX",
        "--shortname",
        "EX",
        "--country",
        "DE",
        "--support-email",
        "noc@ix.example",
        "--peeringdb-ix-id",
        "77",
    ]);
    ok(&["ixp", "set", "--ixf-id", "5"]);
    let ixp: serde_json::Value = serde_json::from_str(&ok(&["ixp", "show", "--json"])).unwrap();
    assert_eq!(ixp["ixf_id"], 5);
    assert_eq!(ixp["peeringdb_ix_id"], 77, "kept");
    ok(&[
        "lan",
        "create",
        "--name",
        "main",
        "--vlan",
        "10",
        "--ipv4",
        "203.0.113.0/24",
        "--ipv6",
        "2001:db8:10::/64",
    ]);
    ok(&[
        "routeserver",
        "create",
        "--name",
        "rs1",
        "--lan",
        "main",
        "--asn",
        "64999",
        "--ipv4",
        "203.0.113.1",
        "--ipv6",
        "2001:db8:10::1",
    ]);
    ok(&[
        "connection",
        "create",
        "--customer",
        "acme",
        "--lan",
        "main",
        "--ipv4",
        "203.0.113.10",
        "--mac",
        "02:00:00:00:00:01",
        "--speed",
        "10000",
        "--as-set",
        "AS-ACME",
    ]);
    let list: serde_json::Value =
        serde_json::from_str(&ok(&["connection", "list", "--json", "--customer", "acme"])).unwrap();
    assert_eq!(list[0]["ipv4_address"], "203.0.113.10");
    assert_eq!(list[0]["rs_client"], true);
    let id = list[0]["id"].as_i64().unwrap().to_string();
    ok(&[
        "connection",
        "update",
        &id,
        "--rs-client",
        "false",
        "--ipv6",
        "2001:db8:10::a",
    ]);
    let list: serde_json::Value =
        serde_json::from_str(&ok(&["connection", "list", "--json"])).unwrap();
    assert_eq!(list[0]["rs_client"], false);
    assert_eq!(list[0]["ipv6_address"], "2001:db8:10::a");
    let rs: serde_json::Value =
        serde_json::from_str(&ok(&["routeserver", "list", "--json"])).unwrap();
    assert_eq!(rs[0]["asn"], 64999);
    let lans: serde_json::Value = serde_json::from_str(&ok(&["lan", "list", "--json"])).unwrap();
    assert_eq!(lans[0]["vlan_id"], 10);

    // A Peering API key, printed once.
    let key = ok(&["apikey", "create", "--customer", "acme", "--name", "robot"]);
    assert!(key.trim().starts_with("ixpk_"), "{key}");
    let (s, _, e) = run(&["apikey", "create", "--customer", "nobody", "--name", "x"]);
    assert!(!s && e.contains("no customer"), "{e}");

    // Errors name the problem, with a non-zero exit.
    for (args, needle) in [
        (
            vec![
                "lan",
                "create",
                "--name",
                "x",
                "--vlan",
                "5000",
                "--ipv4",
                "10.0.0.0/8",
            ],
            "VLAN id",
        ),
        (
            vec![
                "routeserver",
                "create",
                "--name",
                "rs2",
                "--lan",
                "main",
                "--asn",
                "64999",
                "--ipv4",
                "203.0.113.10",
            ],
            "used already",
        ),
        (
            vec![
                "connection",
                "create",
                "--customer",
                "nobody",
                "--lan",
                "main",
                "--ipv4",
                "203.0.113.11",
                "--speed",
                "1",
            ],
            "no customer",
        ),
        (
            vec![
                "connection",
                "create",
                "--customer",
                "acme",
                "--lan",
                "main",
                "--ipv4",
                "10.0.0.1",
                "--speed",
                "1",
            ],
            "not inside",
        ),
        (vec!["lan", "delete", "main"], "still has"),
    ] {
        let (s, _, e) = run(&args);
        assert!(!s, "{args:?} fails");
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    // Every change was audited as the CLI.
    let audit = {
        let db =
            ixp_portal::db::Db::open(&ixp_portal::db::DatabaseUrl::parse(&url).unwrap()).unwrap();
        let mut c = db.conn().unwrap();
        ixp_portal::db::audit::page(&mut c, None, None, None, 100).unwrap()
    };
    for action in [
        "ixp.update",
        "lan.create",
        "routeserver.create",
        "connection.create",
        "connection.update",
    ] {
        assert!(
            audit.iter().any(|e| e.action == action && e.actor == "cli"),
            "{action}"
        );
    }
}

async fn members_see_their_own_connections(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme", "acme", 64500);
    let beta = add_customer(&app, "Beta", "beta", 64501);
    peering_world(&app, &[&acme, &beta]);
    let uid = app.create_user("alice", PW, false);
    link(&app, uid, &acme, Privilege::CustUser);
    let alice = Browser::signed_in(&app, "alice").await;
    let (s, page) = alice.get("/member/peering").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("192.0.2.10"), "own address: {page}");
    assert!(page.contains("AS-ACME"));
    assert!(page.contains("rs1"), "route servers of the LAN");
    assert!(!page.contains("192.0.2.11"), "not Beta's address");
    assert!(!page.contains("AS-BETA"));
}
