//! Issue 6, part 3: the Automated Peering API end to end over HTTP, with
//! the PeeringDB simulator: code → token → locations → sessions.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, client, location, spawn_with};
use crate::peering_lan::{RS_ASN, peering_world};
use crate::staff::{Browser, PW, add_customer, audit_of, link};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ixp_portal::db::{api_tokens, peering_sessions};
use ixp_portal::domain::CustomerStatus;
use ixp_portal::domain::Privilege;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

both_backends!(
    code_to_token_to_sessions_end_to_end,
    batches_partially_accepted_or_rejected_with_reasons,
    unauthorized_and_forbidden_paths,
    malformed_requests_store_nothing,
    pending_without_auto_approval,
    api_keys_members_and_staff,
    responses_conform_to_the_openapi_document,
    concurrent_duplicates_make_one_session,
);

pub(crate) const API: &str = "/api/peering/v1";
pub(crate) const REDIRECT: &str = "https://autopeer.example.net/callback";
pub(crate) const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789";

pub(crate) fn network(asn: i64, perms: i64, manage: Option<bool>) -> Value {
    let mut n = json!({"id": asn, "asn": asn, "name": format!("Net {asn}"), "perms": perms});
    if let Some(m) = manage {
        n["manage_peering_sessions"] = json!(m);
    }
    n
}

pub(crate) fn pdb_user(id: i64, networks: Vec<Value>) -> Value {
    json!({
        "id": id, "name": format!("Peer {id}"), "given_name": "Peer", "family_name": "",
        "email": format!("peer{id}@example.org"), "verified_user": true, "verified_email": true,
        "networks": networks,
    })
}

/// Profiles: 0 may manage AS64500; 1 only reads AS64500 (perms 1); 2 has
/// manage_peering_sessions false on AS64500; 3 manages AS64502 (opted
/// out) and AS64503 (suspended) and reads AS64501; 4 is unverified; 5 has
/// only the opted-out and the suspended network.
pub(crate) fn profiles() -> Vec<Value> {
    let mut unverified = pdb_user(5, vec![network(64500, 15, None)]);
    unverified["verified_user"] = json!(false);
    vec![
        pdb_user(1, vec![network(64500, 15, None)]),
        pdb_user(2, vec![network(64500, 1, None)]),
        pdb_user(3, vec![network(64500, 15, Some(false))]),
        pdb_user(
            4,
            vec![
                network(64502, 1, Some(true)),
                network(64503, 15, None),
                network(64501, 1, None),
            ],
        ),
        unverified,
        pdb_user(6, vec![network(64502, 15, None), network(64503, 15, None)]),
    ]
}

pub(crate) async fn app_with(b: Backend, vars: Vec<(&'static str, String)>) -> Option<TestApp> {
    let app = spawn_with(
        b,
        Opts {
            profiles: profiles(),
            vars,
            ..Default::default()
        },
    )
    .await?;
    let acme = add_customer(&app, "Acme", "acme", 64500);
    let beta = add_customer(&app, "Beta", "beta", 64501);
    let optout = add_customer(&app, "Opted Out", "optout", 64502);
    let susp = add_customer(&app, "Suspended", "susp", 64503);
    peering_world(&app, &[&acme, &beta, &optout, &susp]);
    app.with_conn(|c| {
        let mut f = crate::staff::fields("Opted Out", "optout", 64502);
        f.peeringdb_oauth = false;
        ixp_portal::admin::update_customer(c, "test", optout.id, &f).unwrap();
        let mut f = crate::staff::fields("Suspended", "susp", 64503);
        f.status = CustomerStatus::Suspended;
        ixp_portal::admin::update_customer(c, "test", susp.id, &f).unwrap();
    });
    Some(app)
}

/// An authorization code from the simulator for profile `user`, as a
/// third-party client gets it (PKCE S256).
pub(crate) async fn code_for(app: &TestApp, user: usize) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut url = url::Url::parse(&format!("{}/oauth2/authorize/", app.sim_base)).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", crate::common::CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "profile email networks")
        .append_pair("state", "s")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("user", &user.to_string());
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let to = url::Url::parse(&location(&r)).unwrap();
    to.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .expect("a code")
}

pub(crate) async fn token_for(app: &TestApp, user: usize) -> String {
    let code = code_for(app, user).await;
    let (s, body) = post_json(
        app,
        "/auth",
        None,
        &json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    body["access_token"].as_str().unwrap().to_string()
}

pub(crate) async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut r = client().request(method, app.url(&format!("{API}{path}")));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b);
    }
    let resp = r.send().await.unwrap();
    let s = resp.status();
    let text = resp.text().await.unwrap();
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("JSON answer for {path}: {s} {text}"));
    (s, v)
}

pub(crate) async fn post_json(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    send(
        app,
        reqwest::Method::POST,
        path,
        token,
        Some(body.to_string()),
    )
    .await
}

pub(crate) async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    send(app, reqwest::Method::GET, path, token, None).await
}

pub(crate) fn loc() -> Value {
    json!({"id": "pdb:ix:4242", "type": "public"})
}

/// Acme (AS64500) at 192.0.2.10 / 2001:db8:100::10 asks for rs1 over IPv4
/// with itself as local, and for rs2 over IPv6 with the route server as local.
pub(crate) fn acme_batch() -> Value {
    json!([
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "peer_type": "public", "location": loc()},
        {"local_asn": RS_ASN, "local_ip": "2001:db8:100::2", "peer_asn": 64500, "peer_ip": "2001:db8:100::10", "location": loc()},
    ])
}

pub(crate) fn error_names(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn session_count(app: &TestApp) -> i64 {
    app.with_conn(|c| peering_sessions::count(c).unwrap())
}

async fn code_to_token_to_sessions_end_to_end(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let token = token_for(&app, 0).await;
    let t = Some(token.as_str());

    // Locations: ours for the route-server ASN, none for other ASNs.
    let (s, body) = get(&app, &format!("/locations?asn={RS_ASN}"), t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["locations"], json!([loc()]));
    let (_, body) = get(&app, "/locations?asn=64500", t).await;
    assert_eq!(body["locations"], json!([]));
    let (_, body) = get(
        &app,
        &format!("/locations?asn={RS_ASN}&location_type=private"),
        t,
    )
    .await;
    assert_eq!(body["locations"], json!([]));

    // Two sessions, one in each orientation; answered as asked.
    let (s, body) = post_json(&app, "/sessions", t, &acme_batch()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["errors"], json!([]));
    let sessions = body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["local_asn"], 64500);
    assert_eq!(sessions[0]["local_ip"], "192.0.2.10");
    assert_eq!(sessions[0]["peer_asn"], RS_ASN);
    assert_eq!(sessions[0]["peer_ip"], "192.0.2.1");
    assert_eq!(sessions[1]["local_asn"], RS_ASN);
    assert_eq!(sessions[1]["local_ip"], "2001:db8:100::2");
    assert_eq!(sessions[1]["peer_ip"], "2001:db8:100::10");
    for s in &sessions {
        assert_eq!(s["status"], "approved", "auto-approved: passed every check");
        assert_eq!(s["location"], loc());
        assert!(s["session_id"].as_str().unwrap().len() > 20);
    }
    // The same request again: the same sessions, nothing new.
    let (s, again) = post_json(&app, "/sessions", t, &acme_batch()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["sessions"], body["sessions"]);
    assert_eq!(session_count(&app), 2);
    // In the other orientation it is still the same session.
    let flipped = json!([{"local_asn": RS_ASN, "local_ip": "192.0.2.1", "peer_asn": 64500, "peer_ip": "192.0.2.10", "location": loc()}]);
    let (_, f) = post_json(&app, "/sessions", t, &flipped).await;
    assert_eq!(f["sessions"][0]["session_id"], sessions[0]["session_id"]);
    assert_eq!(session_count(&app), 2);

    // List and page.
    let (s, page1) = get(&app, "/sessions?asn=64500&max_results=1", t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page1["sessions"].as_array().unwrap().len(), 1);
    let next = page1["next_token"]
        .as_str()
        .expect("a next token")
        .to_string();
    let (_, page2) = get(
        &app,
        &format!("/sessions?asn=64500&max_results=1&next_token={next}"),
        t,
    )
    .await;
    assert_eq!(page2["sessions"].as_array().unwrap().len(), 1);
    assert!(page2.get("next_token").is_none(), "last page");
    assert_ne!(
        page1["sessions"][0]["session_id"],
        page2["sessions"][0]["session_id"]
    );
    let (_, all) = get(&app, "/sessions?asn=64500", t).await;
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2);

    // Get one, delete it, it stays as history.
    let sid = sessions[0]["session_id"].as_str().unwrap();
    let (s, one) = get(&app, &format!("/sessions/{sid}"), t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one, sessions[0]);
    let (s, gone) = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/sessions/{sid}"),
        t,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(gone["status"], "deleted");
    let (_, one) = get(&app, &format!("/sessions/{sid}"), t).await;
    assert_eq!(one["status"], "deleted");
    let (_, all) = get(&app, "/sessions?asn=64500", t).await;
    assert_eq!(
        all["sessions"].as_array().unwrap().len(),
        1,
        "deleted sessions are not listed"
    );
    let (s, _) = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/sessions/{sid}"),
        t,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "deleting again changes nothing");
    let (s, body) = get(&app, "/sessions/ps-unknown", t).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_names(&body), vec!["session_id"]);
    // Batch delete by reference (the published API's DELETE /sessions).
    let sid2 = sessions[1]["session_id"].as_str().unwrap();
    let refs = json!([{"session_id": sid2}, {"session_id": "ps-unknown"}]);
    let (s, body) = send(
        &app,
        reqwest::Method::DELETE,
        "/sessions",
        t,
        Some(refs.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["sessions"][0]["status"], "deleted");
    assert_eq!(error_names(&body), vec!["sessions[1].session_id"]);
    let (s, _) = send(
        &app,
        reqwest::Method::DELETE,
        "/sessions",
        t,
        Some(json!([{"id": 1}]).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = send(
        &app,
        reqwest::Method::DELETE,
        "/sessions",
        t,
        Some(json!([{"session_id": "x"}]).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "none deleted: 200 with the errors");
    // After a delete, a new request makes a new session.
    let (_, again) = post_json(&app, "/sessions", t, &acme_batch()).await;
    assert_ne!(
        again["sessions"][0]["session_id"],
        sessions[0]["session_id"]
    );
    assert_ne!(
        again["sessions"][1]["session_id"],
        sessions[1]["session_id"]
    );

    // Every transition is audited.
    assert_eq!(audit_of(&app, "peering_session.request").len(), 4);
    assert_eq!(audit_of(&app, "peering_session.approve").len(), 4);
    assert_eq!(audit_of(&app, "peering_session.delete").len(), 2);
    assert_eq!(audit_of(&app, "api_token.create").len(), 1);
    // The token is stored hashed.
    let stored = app
        .with_conn(|c| api_tokens::by_hash(c, &ixp_portal::auth::token::digest(&token)).unwrap());
    assert!(stored.is_some_and(|t| t.token_hash != token));
}

async fn batches_partially_accepted_or_rejected_with_reasons(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let token = token_for(&app, 0).await;
    let t = Some(token.as_str());
    let batch = json!([
        // 0: fine.
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": RS_ASN, "peer_ip": "192.0.2.2", "location": loc()},
        // 1: Beta's address, not Acme's.
        {"local_asn": 64500, "local_ip": "192.0.2.11", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "location": loc()},
        // 2: families differ.
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": RS_ASN, "peer_ip": "2001:db8:100::1", "location": loc()},
        // 3: no route server at that address.
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": RS_ASN, "peer_ip": "192.0.2.99", "location": loc()},
        // 4: another IXP's location.
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "location": {"id": "pdb:ix:1", "type": "public"}},
        // 5: neither side is a route server.
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": 64501, "peer_ip": "192.0.2.11", "location": loc()},
        // 6: MD5 is not offered.
        {"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "md5": "secret", "location": loc()},
    ]);
    let (s, body) = post_json(&app, "/sessions", t, &batch).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(body["sessions"][0]["peer_ip"], "192.0.2.2");
    assert_eq!(
        error_names(&body),
        vec![
            "sessions[1].local_ip",
            "sessions[2].local_ip",
            "sessions[3].peer_ip",
            "sessions[4].location.id",
            "sessions[5].local_asn",
            "sessions[6].md5",
        ]
    );
    for e in body["errors"].as_array().unwrap() {
        assert!(!e["errors"][0].as_str().unwrap().is_empty());
    }
    let text = body.to_string();
    assert!(text.contains("is not a connection address of AS64500"));
    assert!(text.contains("the family must match"));
    assert!(text.contains("pdb:ix:4242"));
    // All refused: still 200 with the errors (issue 15: the draft keeps
    // 422 for "human intervention required"), nothing stored.
    let before = session_count(&app);
    let refused = json!([batch[1].clone(), batch[2].clone()]);
    let (s, body) = post_json(&app, "/sessions", t, &refused).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["sessions"], json!([]));
    assert_eq!(error_names(&body).len(), 2);
    assert_eq!(session_count(&app), before);
    // The wrapped form {"sessions": [...]} is accepted too.
    let (s, _) = post_json(
        &app,
        "/sessions",
        t,
        &json!({"sessions": [batch[0].clone()]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

async fn unauthorized_and_forbidden_paths(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let item = |asn: i64, ip: &str| json!([{"local_asn": asn, "local_ip": ip, "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "location": loc()}]);
    // No token, a wrong one, a malformed header.
    let (s, body) = post_json(&app, "/sessions", None, &item(64500, "192.0.2.10")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_names(&body), vec!["authorization"]);
    let (s, _) = get(&app, "/sessions?asn=64500", Some("not-a-token")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = client()
        .get(app.url(&format!("{API}/sessions?asn=64500")))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some());
    let (s, _) = get(&app, &format!("/locations?asn={RS_ASN}"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // An expired token.
    let token = token_for(&app, 0).await;
    app.with_conn(|c| {
        let t = api_tokens::by_hash(c, &ixp_portal::auth::token::digest(&token))
            .unwrap()
            .unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
        api_tokens::expire(c, t.id, past).unwrap();
    });
    let (s, body) = get(&app, "/sessions?asn=64500", Some(&token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.to_string().contains("expired"));

    // Tokens expired for more than a day are purged at the next /auth.
    let hash = ixp_portal::auth::token::digest(&token);
    app.with_conn(|c| {
        let t = api_tokens::by_hash(c, &hash).unwrap().unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::days(2);
        api_tokens::expire(c, t.id, past).unwrap();
    });

    // Someone else's ASN.
    let token = token_for(&app, 0).await;
    assert!(
        app.with_conn(|c| api_tokens::by_hash(c, &hash).unwrap())
            .is_none(),
        "purged"
    );
    let (s, body) = post_json(&app, "/sessions", Some(&token), &item(64501, "192.0.2.11")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        body.to_string()
            .contains("not among your PeeringDB networks"),
        "{body}"
    );
    let (s, _) = get(&app, "/sessions?asn=64501", Some(&token)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A batch mixing own and foreign ASNs: refused whole.
    let mixed = json!([
        item(64500, "192.0.2.10")[0].clone(),
        item(64501, "192.0.2.11")[0].clone()
    ]);
    let (s, _) = post_json(&app, "/sessions", Some(&token), &mixed).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Read-only permission (perms 1), and manage_peering_sessions false.
    for user in [1, 2] {
        let token = token_for(&app, user).await;
        let (s, body) =
            post_json(&app, "/sessions", Some(&token), &item(64500, "192.0.2.10")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "user {user}");
        assert!(
            body.to_string().contains("may not manage peering sessions"),
            "{body}"
        );
    }
    // SPEC §7: no token for an identity none of whose networks may sign
    // in, nor for a disabled portal user.
    let code = code_for(&app, 5).await;
    let (s, body) = post_json(
        &app,
        "/auth",
        None,
        &json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.to_string().contains("none of your PeeringDB networks"),
        "{body}"
    );
    let disabled = app.create_user("disabled.peer", PW, false);
    app.with_conn(|c| {
        use diesel::prelude::*;
        use ixp_portal::db::schema::users as u;
        diesel::update(u::table.find(disabled))
            .set((u::peeringdb_id.eq(Some(1i64)), u::disabled.eq(true)))
            .execute(c)
            .unwrap()
    });
    let code = code_for(&app, 0).await;
    let (s, body) = post_json(
        &app,
        "/auth",
        None,
        &json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_string().contains("disabled"), "{body}");
    app.with_conn(|c| ixp_portal::db::users::update_flags(c, disabled, false, false).unwrap());
    // Opted-out and suspended customers.
    let token = token_for(&app, 3).await;
    let (s, body) = post_json(&app, "/sessions", Some(&token), &item(64502, "192.0.2.12")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.to_string().contains("opted out"), "{body}");
    let (s, body) = post_json(&app, "/sessions", Some(&token), &item(64503, "192.0.2.13")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.to_string().contains("suspended"), "{body}");
    // A session of another network is not visible.
    let acme = token_for(&app, 0).await;
    let (_, made) = post_json(&app, "/sessions", Some(&acme), &item(64500, "192.0.2.10")).await;
    let sid = made["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = get(&app, &format!("/sessions/{sid}"), Some(&token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/sessions/{sid}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(session_count(&app), 1, "only Acme's session");

    // /auth: an unverified PeeringDB user, a wrong code, a missing field,
    // a wrong verifier.
    let code = code_for(&app, 4).await;
    let (s, _) = post_json(
        &app,
        "/auth",
        None,
        &json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = post_json(
        &app,
        "/auth",
        None,
        &json!({"code": "nope", "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_names(&body), vec!["code"]);
    let (s, body) = post_json(&app, "/auth", None, &json!({"redirect_uri": 5})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let code = code_for(&app, 0).await;
    let (s, _) = post_json(&app, "/auth", None, &json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": "wrong-verifier-wrong-verifier-wrong-verifier"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let code = code_for(&app, 0).await;
    let (s, _) = post_json(&app, "/auth", None, &json!({"code": code, "redirect_uri": "https://other.example/cb", "code_verifier": VERIFIER})).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a code is bound to its redirect URI"
    );

    // SPEC §6.2: a PeeringDB identity that staff removed from the customer
    // may not act for it through the API either, even with a token issued
    // before the block.
    let token = token_for(&app, 0).await;
    let (s, _) = get(&app, "/sessions?asn=64500", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    app.with_conn(|c| {
        let acme = ixp_portal::db::customers::by_shortname(c, "acme")
            .unwrap()
            .unwrap();
        ixp_portal::db::peeringdb_links::block(
            c,
            acme.id,
            1,
            ixp_portal::domain::BlockedBy::Staff,
            "noc",
        )
        .unwrap()
    });
    let (s, body) = get(&app, "/sessions?asn=64500", Some(&token)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.to_string().contains("removed by the exchange's staff"),
        "{body}"
    );
}

async fn malformed_requests_store_nothing(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let token = token_for(&app, 0).await;
    let t = Some(token.as_str());
    let raw = |body: &str| {
        send(
            &app,
            reqwest::Method::POST,
            "/sessions",
            t,
            Some(body.to_string()),
        )
    };
    let (s, body) = raw("{not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_names(&body), vec!["body"]);
    let (s, _) = raw("").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = raw("42").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = raw("[]").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Wrong types: the whole batch is refused, the good item too.
    let bad = json!([
        acme_batch()[0].clone(),
        {"local_asn": "sixty-four", "local_ip": 7, "peer_asn": 99999999999i64, "peer_ip": "192.0.2.1/32", "location": "here"},
    ]);
    let (s, body) = post_json(&app, "/sessions", t, &bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let names = error_names(&body);
    for n in [
        "sessions[1].local_asn",
        "sessions[1].local_ip",
        "sessions[1].peer_asn",
        "sessions[1].peer_ip",
        "sessions[1].location",
    ] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    // Too many items: 413.
    let many = Value::Array(vec![acme_batch()[0].clone(); 101]);
    let (s, body) = post_json(&app, "/sessions", t, &many).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.to_string().contains("at most 100"));
    // Exactly 100 is fine (all the same session).
    let hundred = Value::Array(vec![acme_batch()[0].clone(); 100]);
    let (s, body) = post_json(&app, "/sessions", t, &hundred).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(session_count(&app), 1);
    // A huge body: 413 before parsing.
    let huge = format!("[{}]", "1,".repeat(200_000) + "1");
    let (s, body) = raw(&huge).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_names(&body), vec!["body"]);
    // Query parameters.
    for (path, name) in [
        ("/sessions", "asn"),
        ("/sessions?asn=abc", "asn"),
        ("/sessions?asn=0", "asn"),
        ("/sessions?asn=64500&max_results=-1", "max_results"),
        ("/sessions?asn=64500&max_results=ten", "max_results"),
        ("/sessions?asn=64500&request_id=42", "request_id"),
        ("/sessions?asn=64500&next_token=%%%", "next_token"),
        ("/sessions?asn=64500&next_token=garbage", "next_token"),
        ("/locations?asn=64999&location_type=moon", "location_type"),
    ] {
        let (s, body) = get(&app, path, t).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(error_names(&body), vec![name.to_string()], "{path}");
    }
    // Unknown endpoints answer JSON too.
    let (s, _) = get(&app, "/nowhere", t).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(session_count(&app), 1);
}

async fn pending_without_auto_approval(b: Backend) {
    let Some(app) = app_with(b, vec![("PEERING_API_AUTO_APPROVE", "false".into())]).await else {
        return;
    };
    let token = token_for(&app, 0).await;
    let (s, body) = post_json(&app, "/sessions", Some(&token), &acme_batch()).await;
    assert_eq!(s, StatusCode::OK);
    for s in body["sessions"].as_array().unwrap() {
        assert_eq!(s["status"], "pending");
    }
    assert!(audit_of(&app, "peering_session.approve").is_empty());
    let sid = body["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = app.with_conn(|c| {
        peering_sessions::by_session_id(c, &sid)
            .unwrap()
            .unwrap()
            .id
    });

    // Staff steer it: pending → approved → provisioned → established.
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;
    let (_, dash) = staff.get("/").await;
    assert!(
        dash.contains("<strong>2</strong><span>sessions waiting for approval"),
        "{dash}"
    );
    let (s, page) = staff.get("/staff/peering/sessions?status=pending").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("192.0.2.10") && page.contains("2001:db8:100::10"),
        "{page}"
    );
    let path = format!("/staff/peering/sessions/{id}/status");
    // Not allowed: pending straight to established.
    let r = staff.post(&path, &[("status", "established")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        staff
            .get("/staff/peering/sessions")
            .await
            .1
            .contains("cannot become established")
    );
    for to in ["approved", "provisioned", "established"] {
        let r = staff.post(&path, &[("status", to)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{to}");
        let (_, one) = get(&app, &format!("/sessions/{sid}"), Some(&token)).await;
        assert_eq!(one["status"], to);
    }
    for action in [
        "peering_session.approve",
        "peering_session.provision",
        "peering_session.establish",
    ] {
        let entries = audit_of(&app, action);
        assert_eq!(entries.len(), 1, "{action}");
        assert_eq!(entries[0].actor, "staff");
    }
    // Not staff: refused.
    let acme = app.with_conn(|c| {
        ixp_portal::db::customers::by_shortname(c, "acme")
            .unwrap()
            .unwrap()
    });
    let uid = app.create_user("alice", PW, false);
    link(&app, uid, &acme, Privilege::CustUser);
    let alice = Browser::signed_in(&app, "alice").await;
    let r = alice.post(&path, &[("status", "down")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The member sees the sessions on the dashboard and their peering page.
    let (_, dash) = alice.get("/").await;
    assert!(
        dash.contains("established") && dash.contains("2001:db8:100::10"),
        "{dash}"
    );
    let (_, page) = alice.get("/member/peering").await;
    assert!(page.contains(&sid), "{page}");
    assert!(page.contains("established"));
}

fn new_key_of(page: &str) -> String {
    let marker = "<code id=\"new-key\">";
    let start = page
        .find(marker)
        .map(|i| i + marker.len())
        .expect("the new key is shown");
    page[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn api_keys_members_and_staff(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let acme = app.with_conn(|c| {
        ixp_portal::db::customers::by_shortname(c, "acme")
            .unwrap()
            .unwrap()
    });
    let uid = app.create_user("alice", PW, false);
    link(&app, uid, &acme, Privilege::CustAdmin);
    let bob = app.create_user("bob", PW, false);
    link(&app, bob, &acme, Privilege::CustUser);
    let alice = Browser::signed_in(&app, "alice").await;

    // A custuser may not manage keys.
    let bob_b = Browser::signed_in(&app, "bob").await;
    assert_eq!(bob_b.get("/member/api-keys").await.0, StatusCode::FORBIDDEN);
    // The custadmin makes one; it is shown once and stored hashed.
    let r = alice.post("/member/api-keys", &[("name", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = alice
        .post("/member/api-keys", &[("name", "autopeer robot")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let key = new_key_of(&r.text().await.unwrap());
    assert!(key.starts_with("ixpk_"));
    let (_, page) = alice.get("/member/api-keys").await;
    assert!(
        page.contains("autopeer robot") && !page.contains(&key),
        "shown once"
    );
    assert!(page.contains("never"), "not used yet");

    // The key works for its customer's ASN only.
    let (s, body) = post_json(&app, "/sessions", Some(&key), &acme_batch()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let beta = json!([{"local_asn": 64501, "local_ip": "192.0.2.11", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "location": loc()}]);
    let (s, body) = post_json(&app, "/sessions", Some(&key), &beta).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.to_string().contains("does not belong"), "{body}");
    let (s, list) = get(&app, "/sessions?asn=64500", Some(&key)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2);
    let (_, page) = alice.get("/member/api-keys").await;
    assert!(!page.contains(">never<"), "last use shown: {page}");
    // A member's key does not see other members' contact emails in the
    // IX-F export (SPEC §8: staff only).
    let r = client()
        .get(app.url("/participants.json"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["member_list"][0].get("contact_email").is_none(),
        "{doc}"
    );
    let r = client()
        .get(app.url("/participants.json"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Customers sharing an ASN: a key sees its own customer's sessions only.
    let twin = add_customer(&app, "Acme Twin", "acmetwin", 64500);
    app.with_conn(|c| {
        let lan = ixp_portal::db::lans::lan_by_name(c, "Main LAN")
            .unwrap()
            .unwrap();
        ixp_portal::admin::peering::save_connection(
            c,
            "test",
            None,
            &ixp_portal::admin::peering::ConnectionInput {
                customer_id: twin.id.to_string(),
                lan_id: lan.id.to_string(),
                ipv4_address: "192.0.2.50".into(),
                speed_mbps: "1000".into(),
                ..Default::default()
            },
        )
        .unwrap();
    });
    let (_, tkey) = app.with_conn(|c| {
        ixp_portal::admin::api_keys::create(c, "test", Some(&twin), "twin").unwrap()
    });
    let twin_item = json!([{"local_asn": 64500, "local_ip": "192.0.2.50", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "location": loc()}]);
    let (s, body) = post_json(&app, "/sessions", Some(&tkey), &twin_item).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let twin_sid = body["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, body) = post_json(&app, "/sessions", Some(&key), &twin_item).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["sessions"], json!([]), "not Acme's address");
    assert_eq!(error_names(&body), vec!["sessions[0].local_ip"]);
    let (_, list) = get(&app, "/sessions?asn=64500", Some(&key)).await;
    assert_eq!(
        list["sessions"].as_array().unwrap().len(),
        2,
        "Acme's two only"
    );
    let (_, list) = get(&app, "/sessions?asn=64500", Some(&tkey)).await;
    assert_eq!(
        list["sessions"].as_array().unwrap().len(),
        1,
        "the twin's one"
    );
    let (s, _) = get(&app, &format!("/sessions/{twin_sid}"), Some(&key)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&app, &format!("/sessions/{twin_sid}"), Some(&tkey)).await;
    assert_eq!(s, StatusCode::OK);

    // A key of an opted-out customer is refused like its PeeringDB users.
    let optout = app.with_conn(|c| {
        ixp_portal::db::customers::by_shortname(c, "optout")
            .unwrap()
            .unwrap()
    });
    let (_, okey) = app
        .with_conn(|c| ixp_portal::admin::api_keys::create(c, "test", Some(&optout), "x").unwrap());
    let (s, body) = get(&app, "/sessions?asn=64502", Some(&okey)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.to_string().contains("opted out"));

    // Staff key: the route-server configuration feed.
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;
    assert_eq!(alice.get("/staff/api-keys").await.0, StatusCode::FORBIDDEN);
    let r = staff
        .post("/staff/api-keys", &[("name", "rs config builder")])
        .await;
    let skey = new_key_of(&r.text().await.unwrap());
    let rs1 = app.with_conn(|c| {
        ixp_portal::db::lans::route_server_by_name(c, "rs1")
            .unwrap()
            .unwrap()
            .id
    });
    let feed = format!("/api/v1/routeservers/{rs1}/sessions.json");
    let r = client()
        .get(app.url(&feed))
        .bearer_auth(&skey)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["route_server"]["asn"], RS_ASN);
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(
        sessions.len(),
        2,
        "rs1 carries the IPv4 sessions of Acme and its twin: {body}"
    );
    assert_eq!(sessions[0]["peer_ip"], "192.0.2.10");
    assert_eq!(sessions[0]["as_set"], "AS-ACME");
    assert_eq!(sessions[0]["max_prefixes"], 100);
    for (token, status) in [
        (Some(key.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let mut r = client().get(app.url(&feed));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        assert_eq!(r.send().await.unwrap().status(), status);
    }
    let r = client()
        .get(app.url("/api/v1/routeservers/999999/sessions.json"))
        .bearer_auth(&skey)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A staff key does not act for networks.
    let (s, _) = post_json(&app, "/sessions", Some(&skey), &acme_batch()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A staff key sees the contact emails of the IX-F export.
    let r = client()
        .get(app.url("/participants.json"))
        .bearer_auth(&skey)
        .send()
        .await
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    assert!(doc["member_list"][0]["contact_email"].is_array(), "{doc}");

    // Revoked: 401, and audited.
    let kid = app.with_conn(|c| api_tokens::keys_of_customer(c, acme.id).unwrap()[0].id);
    let r = alice
        .post(&format!("/member/api-keys/{kid}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, body) = get(&app, "/sessions?asn=64500", Some(&key)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.to_string().contains("revoked"));
    // Another customer's admin cannot revoke it (not found).
    let r = staff
        .post(&format!("/staff/api-keys/{kid}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(audit_of(&app, "api_key.create").len(), 4);
    assert_eq!(audit_of(&app, "api_key.revoke").len(), 1);
}

/// Checks that `status` is documented for the operation and that `body`
/// validates against the documented schema (the document's components
/// resolve its `$ref`s).
pub(crate) fn conforms(doc: &Value, path: &str, method: &str, status: StatusCode, body: &Value) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is documented");
    let mut resp = op["responses"][status.as_str()].clone();
    assert!(
        resp.is_object(),
        "{status} of {method} {path} is documented"
    );
    if let Some(r) = resp["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        resp = doc["components"]["responses"][name].clone();
    }
    let schema = resp["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{status} of {method} {path} has a JSON schema"
    );
    let root = json!({"allOf": [schema], "components": doc["components"]});
    let validator = jsonschema::draft4::options()
        .build(&root)
        .expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body:#}"
    );
}

async fn responses_conform_to_the_openapi_document(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let r = client()
        .get(app.url(&format!("{API}/openapi.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["servers"][0]["url"], API);

    let code = code_for(&app, 0).await;
    let (s, body) = post_json(
        &app,
        "/auth",
        None,
        &json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    conforms(&doc, "/auth", "post", s, &body);
    let token = body["access_token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    let (s, body) = post_json(&app, "/auth", None, &json!({"code": "x"})).await;
    conforms(&doc, "/auth", "post", s, &body);

    let (s, body) = get(&app, &format!("/locations?asn={RS_ASN}"), t).await;
    conforms(&doc, "/locations", "get", s, &body);
    let (s, body) = get(&app, "/locations?asn=x", t).await;
    conforms(&doc, "/locations", "get", s, &body);
    let (s, body) = get(&app, &format!("/locations?asn={RS_ASN}"), None).await;
    conforms(&doc, "/locations", "get", s, &body);

    let (s, body) = post_json(&app, "/sessions", t, &acme_batch()).await;
    conforms(&doc, "/sessions", "post", s, &body);
    let sid = body["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = json!([{"local_asn": 64500, "local_ip": "192.0.2.99", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1", "location": loc()}]);
    let (s, body) = post_json(&app, "/sessions", t, &bad).await;
    assert_eq!(s, StatusCode::OK, "refused items are answered with 200");
    conforms(&doc, "/sessions", "post", s, &body);
    for body_in in [json!("x"), Value::Array(vec![acme_batch()[0].clone(); 101])] {
        let (s, body) = post_json(&app, "/sessions", t, &body_in).await;
        conforms(&doc, "/sessions", "post", s, &body);
    }
    let (s, body) = post_json(&app, "/sessions", t, &json!([{"local_asn": 64501, "local_ip": "192.0.2.11", "peer_asn": RS_ASN, "peer_ip": "192.0.2.1"}])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    conforms(&doc, "/sessions", "post", s, &body);
    let (s, body) = post_json(&app, "/sessions", None, &acme_batch()).await;
    conforms(&doc, "/sessions", "post", s, &body);

    let (s, body) = get(&app, "/sessions?asn=64500&max_results=1", t).await;
    assert!(body["next_token"].is_string());
    conforms(&doc, "/sessions", "get", s, &body);
    let (s, body) = get(&app, "/sessions?asn=64501", t).await;
    conforms(&doc, "/sessions", "get", s, &body);

    let (s, body) = get(&app, &format!("/sessions/{sid}"), t).await;
    conforms(&doc, "/sessions/{session_id}", "get", s, &body);
    let (s, body) = get(&app, "/sessions/none", t).await;
    conforms(&doc, "/sessions/{session_id}", "get", s, &body);
    let (s, body) = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/sessions/{sid}"),
        t,
        None,
    )
    .await;
    conforms(&doc, "/sessions/{session_id}", "delete", s, &body);
    assert_eq!(body["status"], "deleted");

    let refs = json!([{"session_id": "nope"}]).to_string();
    let (s, body) = send(&app, reqwest::Method::DELETE, "/sessions", t, Some(refs)).await;
    conforms(&doc, "/sessions", "delete", s, &body);
    let (s, body) = send(
        &app,
        reqwest::Method::DELETE,
        "/sessions",
        t,
        Some("{}".into()),
    )
    .await;
    conforms(&doc, "/sessions", "delete", s, &body);
    // Every status the API can set is in the document's enum.
    let statuses = doc["components"]["schemas"]["SessionStatus"]["enum"].clone();
    for st in ixp_portal::domain::SessionStatus::ALL {
        assert!(
            statuses.as_array().unwrap().contains(&json!(st.as_str())),
            "{st}"
        );
    }
    // An unsupported method: 405 with the error shape.
    let (s, body) = send(&app, reqwest::Method::PUT, "/sessions", t, None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["errors"].is_array());
}

async fn concurrent_duplicates_make_one_session(b: Backend) {
    let Some(app) = app_with(b, vec![]).await else {
        return;
    };
    let token = token_for(&app, 0).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (url, token) = (app.url(&format!("{API}/sessions")), token.clone());
        tasks.push(tokio::spawn(async move {
            let r = client()
                .post(url)
                .bearer_auth(token)
                .json(&acme_batch())
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap())
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (s, body) = t.await.unwrap();
        assert_eq!(s, StatusCode::OK, "{body}");
        for x in body["sessions"].as_array().unwrap() {
            ids.insert(x["session_id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids.len(), 2, "one session per family");
    assert_eq!(session_count(&app), 2);
    assert_eq!(audit_of(&app, "peering_session.request").len(), 2);
}
